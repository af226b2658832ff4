"""The static arena plan: every activation tensor and scratch buffer at a fixed offset of one
arena, planned at build time from lifetimes (greedy by size, as TFLM's GreedyMemoryPlanner:
largest first, each at the lowest aligned offset free for its whole lifetime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

ALIGNMENT = 16  # TFLM's kDefaultTensorAlignment


@dataclass(frozen=True)
class Buffer:
    """A region the generated code needs while nodes ``first``..``last`` run."""

    key: str  # "t<tensor index>" or "s<node index>" (a node's scratch buffer)
    size: int
    first: int
    last: int


@dataclass(frozen=True)
class Plan:
    offsets: dict[str, int]
    peak: int  # bytes: the arena size


def align(value: int, alignment: int = ALIGNMENT) -> int:
    return (value + alignment - 1) // alignment * alignment


def _overlap(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def plan_arena(buffers: Sequence[Buffer]) -> Plan:
    """Offsets for ``buffers`` (sizes > 0): buffers alive at the same time never share bytes.
    Deterministic: ties in size keep the order given."""
    order = sorted(range(len(buffers)), key=lambda i: (-buffers[i].size, i))
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[str, int] = {}
    peak = 0
    for i in order:
        buffer = buffers[i]
        busy = sorted((off, off + b.size) for off, b in placed if _overlap(b, buffer))
        offset = 0
        for start, end in busy:
            if offset + buffer.size <= start:
                break
            offset = max(offset, align(end))
        placed.append((offset, buffer))
        offsets[buffer.key] = offset
        peak = max(peak, offset + buffer.size)
    return Plan(offsets, align(peak) if peak else 0)


def lifetimes(
    node_tensors: Sequence[tuple[Sequence[int], Sequence[int]]],
    graph_inputs: Sequence[int],
    graph_outputs: Sequence[int],
    activations: set[int],
) -> dict[int, tuple[int, int]]:
    """tensor -> (first node, last node) for the activation tensors: from the node that
    writes it (a model input: the first node) to the last that reads it (a model output:
    the last node). ``node_tensors``: (inputs, outputs) per node."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for index, (inputs, outputs) in enumerate(node_tensors):
        for tensor in (*inputs, *outputs):
            if tensor in activations:
                first.setdefault(tensor, index)
                last[tensor] = index
    end = len(node_tensors) - 1
    for tensor in graph_inputs:
        if tensor in first:
            first[tensor] = 0
    for tensor in graph_outputs:
        if tensor in last:
            last[tensor] = end
    return {t: (first[t], last[t]) for t in sorted(first)}
