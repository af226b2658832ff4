"""Render the generated model files: pure text in, text out.

Per model ``tinyml/<name>.h`` (shapes, scales, zero points, arena size, op
resolver) and ``tinyml/<name>.cc`` (the model bytes, ``alignas(16) const`` so
they stay in flash); for the first model also the seed-compatible
``model_data.h`` (``model_quantized_tflite`` / ``model_quantized_tflite_len``).
Identical input gives byte-identical output.

The C++ text lives in ``templates/*.tmpl`` (``string.Template``); this module only
computes the values. A block value (several lines, or none) is a run of complete
lines, each ending in a newline, so its placeholder starts the line that follows
it in the template and an empty block leaves no blank line behind (a block that
ends a file, as in ``models_index.tmpl``, brings the file's final newline).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Iterable, Optional, Sequence, Union

from .. import __version__
from ..analysis.facts import SEED_DATA, ModelFacts
from ..analysis.layers import op_name
from ..analysis.tflite_reader import Tensor, TFLiteModel
from ..tflm import op_table

TEMPLATES = Path(__file__).parent / "templates"
_CTYPES = {
    "int8": "kTfLiteInt8",
    "uint8": "kTfLiteUInt8",
    "int16": "kTfLiteInt16",
    "int32": "kTfLiteInt32",
    "float32": "kTfLiteFloat32",
    "bool": "kTfLiteBool",
    "int64": "kTfLiteInt64",
    "float16": "kTfLiteFloat16",
}


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / f"{name}.tmpl").read_text(encoding="utf-8"))


def _render(template: str, /, **values: Union[str, int]) -> str:
    # substitute(), not safe_substitute(): a placeholder without a value is a bug.
    return _template(template).substitute(values)


def _block(template: str, rows: Iterable[dict[str, Union[str, int]]]) -> str:
    """One line template per row; each ends in a newline, so the rows join as they are."""
    return "".join(_render(template, **row) for row in rows)


def banner(facts_source: str, fingerprint: str, what: str) -> str:
    return _render(
        "banner", what=what, version=__version__, source=facts_source, fingerprint=fingerprint
    )


def c_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + "".join(c if 32 <= ord(c) < 127 else f'\\x{ord(c):02x}""' for c in escaped) + '"'


def c_float(value: float) -> str:
    text = repr(float(value))
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def byte_rows(data: bytes, per_row: int = 12) -> str:
    rows = []
    for start in range(0, len(data), per_row):
        chunk = data[start : start + per_row]
        rows.append("    " + ", ".join(f"0x{b:02x}" for b in chunk) + ",")
    return "\n".join(rows)


def int8_only_ops(model: TFLiteModel) -> set[str]:
    """Ops whose every instance reads int8 activations (weights int8 where present)."""
    seen: dict[str, bool] = {}
    for operator in model.operators:
        name = op_name(operator)
        tensors = [model.tensor(i) for i in operator.inputs[:2] if i >= 0]
        ok = bool(tensors) and all(t.dtype == "int8" for t in tensors)
        seen[name] = seen.get(name, True) and ok
    return {name for name, ok in seen.items() if ok}


@dataclass(frozen=True)
class AotLayout:
    """Where the ahead-of-time code keeps the model's input and output in its arena."""

    arena_size: int
    input_offset: int
    output_offset: int


@dataclass(frozen=True)
class ResolverCall:
    """One registration on the generated resolver."""

    call: str  # e.g. "AddConv2D(tflite::Register_CONV_2D_INT8())"
    op: str  # the model's op name, e.g. "CONV_2D"


def resolver_calls(model: TFLiteModel, int8_registrations: bool) -> list[ResolverCall]:
    """One `resolver.Add...()` per distinct op, in order of first use."""
    int8_ops = int8_only_ops(model) if int8_registrations else set()
    calls: list[ResolverCall] = []
    seen: set[str] = set()
    for operator in model.operators:
        name = op_name(operator)
        if name in seen:
            continue
        seen.add(name)
        entry = op_table.lookup(name)
        if entry is None:  # refused earlier by check_supported; keep the text honest
            raise KeyError(name)
        calls.append(ResolverCall(entry.resolver_call(name in int8_ops), name))
    return calls


def _ctype(tensor: Tensor) -> str:
    return _CTYPES.get(tensor.dtype, "kTfLiteNoType")


def _tensor_block(prefix: str, tensor: Tensor) -> str:
    return _render(
        "tensor",
        prefix=prefix,
        rank=len(tensor.shape),
        dims_len=max(len(tensor.shape), 1),  # a scalar still gets a one-element array
        dims=", ".join(str(d) for d in tensor.shape) or "1",
        elements=tensor.elements,
        type_name=c_string(tensor.dtype),
        scale=c_float(tensor.scale[0] if tensor.scale else 0.0),
        zero_point=tensor.zero_point[0] if tensor.zero_point else 0,
    )


def _labels_body(labels: Sequence[str]) -> str:
    if not labels:
        return "return nullptr;"
    listed = ", ".join(c_string(label) for label in labels)
    return f"static const char* const labels[] = {{{listed}}}; return labels;"


def render_model_header(facts: ModelFacts, aot: Optional[AotLayout] = None) -> str:
    """``aot``: the arena plan of the model's ahead-of-time code, when the build generates
    it (custom_tinyml_runtime = aot)."""
    model = facts.model
    calls = resolver_calls(model, facts.int8_registrations)
    first_input = model.tensor(model.inputs[0])
    first_output = model.tensor(model.outputs[0])
    return _render(
        "model_header",
        banner=banner(
            facts.source,
            facts.fingerprint,
            f"Model `{facts.name}`: data, shapes, quantization, arena size and op resolver.",
        ),
        data_symbol=facts.data_symbol,
        name=facts.name,
        name_literal=c_string(facts.name),
        source_literal=c_string(facts.source),
        model_size=len(facts.data),
        input_count=len(model.inputs),
        output_count=len(model.outputs),
        input_tensor=_tensor_block("Input", first_input),
        input_layout=c_string(facts.input_layout),
        output_tensor=_tensor_block("Output", first_output),
        label_count=len(facts.labels),
        labels_body=_labels_body(facts.labels),
        op_count=len(calls),
        input_type=_ctype(first_input),
        output_type=_ctype(first_output),
        register_ops=_block("register_op", ({"call": c.call, "op": c.op} for c in calls)),
        aot_block=(
            ""
            if aot is None
            else _render(
                "aot_header_block",
                name=facts.name,
                arena_size=aot.arena_size,
                input_offset=aot.input_offset,
                output_offset=aot.output_offset,
            )
        ),
    )


def render_arena_header(name: str, source: str, fingerprint: str, size: int, how: str) -> str:
    """``tinyml/<name>_arena.h``: the model's kArenaSize and how it was found."""
    return _render(
        "arena_header",
        banner=banner(source, fingerprint, f"Model `{name}`: the tensor arena size (kArenaSize)."),
        name=name,
        arena_size=size,
        how=how,
    )


def render_probe_ops(facts_list: Sequence[ModelFacts], gen_key: str) -> str:
    """The probe program's op registrations: one resolver per model, by index."""
    models = []
    cases = []
    for index, facts in enumerate(facts_list):
        calls = resolver_calls(facts.model, facts.int8_registrations)
        register = _block("register_op", ({"call": c.call, "op": c.op} for c in calls))
        models.append(
            _render(
                "probe_model",
                index=index,
                name=facts.name,
                op_count=max(1, len(calls)),
                register_ops=register.replace("    if (", "  if ("),
            )  # fmt: skip
        )
        cases.append(_render("probe_case", index=index))
    return _render(
        "probe_ops",
        banner=banner("the env's models", gen_key, "Op registrations for the build's probe."),
        models="".join(models),
        cases="".join(cases),
    )


def render_model_source(facts: ModelFacts) -> str:
    return _render(
        "model_source",
        banner=banner(
            facts.source, facts.fingerprint, f"Model `{facts.name}`: the int8 flatbuffer, in flash."
        ),
        name=facts.name,
        data_symbol=facts.data_symbol,
        byte_rows=byte_rows(facts.data),
        model_size=len(facts.data),
    )


def render_seed_header(facts: ModelFacts) -> str:
    """model_data.h as the seed's code includes it (xxd names), but const and aligned."""
    return _render(
        "seed_header",
        banner=banner(
            facts.source, facts.fingerprint, "Seed-compatible names for the default model."
        ),
        name=facts.name,
        seed_data=SEED_DATA,
    )


def render_models_index(names: Sequence[str], fingerprint: str) -> str:
    """tinyml/models.h: one include for every model of the env."""
    return _render(
        "models_index",
        banner=banner("the env's models", fingerprint, "Every model of this env."),
        includes=_block("include", ({"name": name} for name in names)),
        each=" ".join(f"X({name})" for name in names),
    )


GOLDEN_SUITE = "test_tinyml_golden"


def render_golden_suite(names: Sequence[str], fingerprint: str) -> str:
    """tinyml/golden_suite.h: run_all_golden() over the env's models with golden vectors."""
    models: list[dict[str, Union[str, int]]] = [{"name": name} for name in names]
    return _render(
        "golden_suite",
        banner=banner("golden vectors", fingerprint, "Every model's golden vectors, in one call."),
        includes=_block("golden_suite_include", models),
        runs=_block("golden_suite_run", models),
    )


def render_test_suite_main() -> str:
    """test/test_tinyml_golden/test_main.cpp: the same text for every project (the models
    are in the generated golden_suite.h)."""
    return _render("test_suite_main", suite=GOLDEN_SUITE)


def _int8_rows(vectors: Sequence[bytes]) -> str:
    # The vectors hold raw bytes; C++ wants them as signed int8 values.
    return _block(
        "golden_row",
        (
            {"values": ", ".join(str(b - 256 if b > 127 else b) for b in vector)}
            for vector in vectors
        ),
    )


def render_golden_header(
    facts: ModelFacts, inputs: Sequence[bytes], outputs: Sequence[bytes], source: Optional[str]
) -> str:
    """tinyml/<name>_golden.h: input vectors and TFLM's exact int8 outputs for them."""
    return _render(
        "golden_header",
        banner=banner(
            facts.source,
            facts.fingerprint,
            f"Golden vectors for `{facts.name}` (TFLM reference interpreter outputs).",
        ),
        name=facts.name,
        count=len(inputs),
        source_literal=c_string(source or "calibration data"),
        output_count=len(outputs),
        input_rows=_int8_rows(inputs),
        output_rows=_int8_rows(outputs),
    )
