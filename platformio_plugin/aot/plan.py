"""The static arena plan: every activation tensor and scratch buffer at a fixed offset of one
arena, planned at build time from lifetimes (greedy by size, as TFLM's GreedyMemoryPlanner:
largest first, each at the lowest aligned offset free for its whole lifetime). Tensors tied
by a node that runs in place (see tiling) are planned as one buffer, at fixed distances."""

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
class Tie:
    """Buffer ``second`` starts ``offset`` bytes (a multiple of ALIGNMENT) after ``first``."""

    first: str
    second: str
    offset: int


@dataclass(frozen=True)
class Plan:
    offsets: dict[str, int]
    peak: int  # bytes: the arena size


def align(value: int, alignment: int = ALIGNMENT) -> int:
    return (value + alignment - 1) // alignment * alignment


def _overlap(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


# A buffer to place: its pieces at offsets relative to it (one piece, or a tied group's).
Item = list[tuple[int, Buffer]]


def _fits(item: Item, offset: int, placed: list[tuple[int, Buffer]]) -> bool:
    return not any(
        _overlap(piece, other)
        and offset + rel < start + other.size
        and start < offset + rel + piece.size
        for rel, piece in item
        for start, other in placed
    )


def _greedy(items: Sequence[Item]) -> list[int]:
    """Each item's offset: largest first, the lowest aligned offset at which none of its
    pieces shares bytes with a piece placed before it while both are alive."""
    extent = [max(rel + piece.size for rel, piece in item) for item in items]
    order = sorted(range(len(items)), key=lambda i: (-extent[i], i))
    placed: list[tuple[int, Buffer]] = []
    offsets = [0] * len(items)
    for i in order:
        item = items[i]
        tries = sorted(
            {0} | {align(start + other.size - rel) for rel, _ in item for start, other in placed}
        )
        offset = next(o for o in tries if o >= 0 and _fits(item, o, placed))
        offsets[i] = offset
        placed += [(offset + rel, piece) for rel, piece in item]
    return offsets


def tie_groups(ties: Sequence[Tie]) -> dict[str, tuple[str, int]]:
    """key -> (its group's first key, its offset in the group). Ties come in node order, so
    a tie's ``second`` (a node's output) is not in a group yet."""
    where: dict[str, tuple[str, int]] = {}
    for tie in ties:
        group, base = where.setdefault(tie.first, (tie.first, 0))
        assert tie.second not in where, tie
        where[tie.second] = (group, base + tie.offset)
    return where


def plan_arena(buffers: Sequence[Buffer], ties: Sequence[Tie] = ()) -> Plan:
    """Offsets for ``buffers`` (sizes > 0): buffers alive at the same time never share bytes,
    except tied ones, which keep their distances. Deterministic: ties in size keep the order
    given."""
    where = tie_groups(ties)
    groups: dict[str, list[Buffer]] = {}
    items: list[Item] = []
    for buffer in buffers:
        if buffer.key in where:
            groups.setdefault(where[buffer.key][0], []).append(buffer)
        else:
            items.append([(0, buffer)])
    for members in groups.values():
        lowest = min(where[b.key][1] for b in members)
        items.append([(where[b.key][1] - lowest, b) for b in members])
    offsets = {
        piece.key: offset + rel
        for item, offset in zip(items, _greedy(items))
        for rel, piece in item
    }
    peak = max((offsets[b.key] + b.size for b in buffers), default=0)
    return Plan({b.key: offsets[b.key] for b in buffers}, align(peak) if peak else 0)


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
