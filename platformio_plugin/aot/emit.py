"""A model's ahead-of-time C++ source: every node's CMSIS-NN call with its parameters
computed here, tensors at the offsets of one statically planned arena.

``generate_model`` is pure: model bytes in, text and numbers out, byte-identical for the
same input. The text comes from ``codegen/templates/aot_*.tmpl``; this module computes the
values.
"""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from functools import cache
from string import Template
from typing import Iterable, Union

from ..codegen.model_files import TEMPLATES
from ..errors import AotUnsupportedError
from .graph import Graph, read_graph
from .ops import EMITTERS
from .ops.common import Constant, NodeCode, Unsupported, shape_text, tensor_ref
from .plan import Buffer, Plan, lifetimes
from .tiling import Candidate, InPlace, plan_in_place, tile_sizes

VALUES_PER_ROW = 16


@dataclass(frozen=True)
class AotModel:
    name: str
    source: str  # tinyml/<name>_aot.cc
    arena_size: int  # the plan's peak: kArenaSize
    input_offset: int
    output_offset: int
    scratch_bytes: int  # the largest scratch buffer of a node


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / f"{name}.tmpl").read_text(encoding="utf-8"))


def _render(name: str, /, **values: Union[str, int]) -> str:
    return _template(name).substitute(values)


def with_reference_kernels(code: NodeCode) -> NodeCode:
    """The node's code calling TFLM's reference kernel instead of CMSIS-NN: the same values
    in the twin template, no scratch buffer (the reference kernels take none)."""
    if code.reference is None:
        raise Unsupported("only CMSIS-NN's kernel is generated for this op")
    if not code.reference:
        return code
    return dataclasses.replace(code, template=code.reference, scratch=0, check_template="")


def node_codes(graph: Graph, dsp: bool, reference: bool = False) -> list[NodeCode]:
    """Each node's code (``reference``: with TFLM's reference kernels); AotUnsupportedError
    naming every node without one."""
    codes: list[NodeCode] = []
    offenders: list[tuple[int, str, str]] = []
    for node in graph.nodes:
        emitter = EMITTERS.get(node.op)
        if emitter is None:
            offenders.append((node.index, node.op, "no generator for this op"))
            continue
        try:
            code = emitter(node, graph, dsp)
            codes.append(with_reference_kernels(code) if reference else code)
        except Unsupported as why:
            offenders.append((node.index, node.op, str(why)))
    if offenders:
        raise AotUnsupportedError(graph.name, offenders)
    return codes


def arena_buffers(graph: Graph, codes: list[NodeCode]) -> list[Buffer]:
    unused = {i for code in codes for i in code.unused}
    activations = {
        i
        for node in graph.nodes
        for i in (*node.inputs, *node.outputs)
        if i >= 0 and not graph.tensor(i).is_constant and i not in unused
    }
    spans = lifetimes(
        [(n.inputs, n.outputs) for n in graph.nodes], graph.inputs, graph.outputs, activations
    )
    buffers = [Buffer(f"t{t}", graph.tensor(t).nbytes, a, b) for t, (a, b) in spans.items()]
    buffers += [Buffer(f"s{i}", c.scratch, i, i) for i, c in enumerate(codes) if c.scratch]
    return buffers


def in_place_candidates(graph: Graph, codes: list[NodeCode], buffers: list[Buffer]
                        ) -> list[Candidate]:  # fmt: skip
    """The row-local nodes whose input dies at them: neither a model input (the caller may
    run the same input again) nor an output is ever written over."""
    spans = {b.key: b for b in buffers}
    candidates = []
    for node, code in zip(graph.nodes, codes):
        if code.rows is None or not tile_sizes(code.rows):
            continue
        source, output = node.inputs[0], node.outputs[0]
        dies_here = spans[f"t{source}"].last == node.index
        if dies_here and source not in graph.inputs and output not in graph.outputs:
            candidates.append(Candidate(node.index, f"t{source}", f"t{output}", code.rows))
    return candidates


def _tiled_body(code: NodeCode, mode: InPlace) -> str:
    """The node's call in a loop over its row tiles (a const table), in the order the
    in-place run needs: the template's rows, padding and pointers come from the tile."""
    rows = code.rows
    assert rows is not None
    table = "".join(
        _render(
            "aot_tile_row",
            in_rows=tile.in_end - tile.in_first,
            out_rows=tile.out_end - tile.out_first,
            pad=tile.pad,
            in_at=tile.in_first * rows.in_row_bytes,
            out_at=tile.out_first * rows.out_row_bytes,
            rows=_row_range(tile.out_first, tile.out_end),
            input_rows=_row_range(tile.in_first, tile.in_end),
        )
        for tile in mode.tiles
    )
    values = dict(code.values)
    values.update(
        in_h="tile.in_rows",
        out_h="tile.out_rows",
        pad_h="tile.pad",
        input=f"{code.values['input']} + tile.in_at",
        output=f"{code.values['output']} + tile.out_at",
    )
    body = textwrap.indent(_render(code.template, **values), "  ")
    return _render("aot_tiles", count=len(mode.tiles), table=table, body=body)


def _row_range(first: int, end: int) -> str:
    return f"{first}-{end - 1}" if end - first > 1 else str(first)


def _in_place_summary(mode: InPlace) -> str:
    order = "top to bottom" if mode.offset <= 0 else "bottom to top"
    where = "before" if mode.offset <= 0 else "after"
    return (
        f", in place: {len(mode.tiles)} row tiles {order}, output {abs(mode.offset)} B "
        f"{where} the input"
    )


def _rows(values: Iterable[int]) -> str:
    items = [str(v) for v in values]
    rows = [items[i : i + VALUES_PER_ROW] for i in range(0, len(items), VALUES_PER_ROW)]
    return "".join("    " + ", ".join(row) + ",\n" for row in rows)


def _constant(constant: Constant) -> str:
    return _render(
        "aot_constant",
        ctype=constant.ctype,
        name=constant.name,
        count=len(constant.values),
        rows=_rows(constant.values),
    )


def _offsets(graph: Graph, plan: Plan, buffers: list[Buffer]) -> str:
    lines = []
    for buffer in buffers:
        offset = plan.offsets[buffer.key]
        if buffer.key.startswith("t"):
            tensor = graph.tensor(int(buffer.key[1:]))
            lines.append(
                _render(
                    "aot_offset",
                    name=tensor_ref(tensor.index),
                    offset=offset,
                    what=f"tensor {tensor.index} {shape_text(tensor.shape)}, "
                    f"{buffer.size} B, nodes {buffer.first}-{buffer.last}",
                )  # fmt: skip
            )
        else:
            lines.append(
                _render(
                    "aot_offset",
                    name=f"kScratch{buffer.key[1:]}",
                    offset=offset,
                    what=f"scratch of node {buffer.key[1:]}, {buffer.size} B",
                )
            )
    return "".join(lines)


# What the generated source includes, and its status type, per kernels.
KERNEL_PRELUDES = {
    "cmsis-nn": ('#include "arm_nnfunctions.h"\n', "arm_cmsis_nn_status", "ARM_CMSIS_NN_SUCCESS"),
    "reference": (
        "".join(
            f'#include "tensorflow/lite/kernels/internal/reference/{header}.h"\n'
            for header in (
                "integer_ops/add",
                "integer_ops/conv",
                "integer_ops/depthwise_conv",
                "integer_ops/fully_connected",
                "integer_ops/pooling",
                "pad",
                "softmax",
                "transpose",
            )
        ),  # fmt: skip
        "int",
        "0",
    ),
}


def generate_model(
    data: bytes,
    name: str,
    *,
    dsp: bool,
    banner: str,
    kernels: str = "cmsis-nn",
    in_place: bool = True,
) -> AotModel:
    """The ahead-of-time source of one model for a core with (``dsp``) or without the DSP
    extension, calling CMSIS-NN or (``kernels = "reference"``) TFLM's reference kernels;
    ``in_place``: layers may run in place where that lowers the arena's peak."""
    graph = read_graph(data, name)
    codes = node_codes(graph, dsp, reference=kernels == "reference")
    includes, status_type, success = KERNEL_PRELUDES[kernels]
    buffers = arena_buffers(graph, codes)
    candidates = in_place_candidates(graph, codes, buffers) if in_place else []
    plan, tiled = plan_in_place(buffers, candidates)
    nodes = []
    checks = []
    constants = []
    for index, code in enumerate(codes):
        values = dict(code.values)
        values["scratch_ptr"] = f"arena + kScratch{index}" if code.scratch else "nullptr"
        mode = tiled.get(index)
        nodes.append(
            _render(
                "aot_node",
                index=index,
                summary=code.summary + (_in_place_summary(mode) if mode else ""),
                body=_tiled_body(dataclasses.replace(code, values=values), mode)
                if mode
                else _render(code.template, **values),
            )
        )
        if code.check_template:
            checks.append(_render(code.check_template, **values))
        constants += [_constant(c) for c in code.constants]
    input_offset = plan.offsets[f"t{graph.inputs[0]}"]
    output_offset = plan.offsets[f"t{graph.outputs[0]}"]
    source = _render(
        "aot_source",
        banner=banner,
        name=name,
        includes=includes,
        library="CMSIS-NN" if kernels == "cmsis-nn" else "TFLM reference-kernel",
        status_type=status_type,
        success=success,
        arena_size=plan.peak,
        node_count=len(codes),
        offsets=_offsets(graph, plan, sorted(buffers, key=lambda b: (b.first, b.key))),
        tile_type=_render("aot_tile_type") if tiled else "",
        constants="".join(constants),
        checks="".join(checks),
        nodes="".join(nodes),
    )
    scratch = max((c.scratch for c in codes), default=0)
    return AotModel(name, source, plan.peak, input_offset, output_offset, scratch)
