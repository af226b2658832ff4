"""Row tiles: a convolution whose input dies at it can run in place.

The node's kernel is called once per band of output rows (a tile), each call given only the
input rows that band reads. The output tensor then starts a fixed number of bytes before the
input (tiles run top to bottom) or after it (bottom to top), chosen so that no tile writes
over input bytes that it or a later tile still reads. Every call gets the same parameters as
the whole layer but for its rows, top padding and pointers, so each output value is computed
exactly as by one call: the tiles need no knowledge of the kernel's loop order, only that it
reads no input outside its dims and writes no output outside its own.

Input and output then share most of their bytes: a layer whose input and output are each
N bytes needs about N + N / tiles instead of 2N.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .plan import Buffer, Plan, Tie, align, plan_arena, tie_groups

TILES = 4  # calls per tiled layer: more tiles save bytes, each call costs its setup


@dataclass(frozen=True)
class Rows:
    """The row geometry of a layer whose output row r reads input rows
    r * stride - pad + i * dilation (i < filter_h), clipped to the input: a convolution or
    depthwise convolution of batch 1 in NHWC."""

    in_h: int
    out_h: int
    stride: int
    pad: int
    filter_h: int
    dilation: int
    in_row_bytes: int
    out_row_bytes: int
    out_w: int  # output pixels per row


@dataclass(frozen=True)
class Tile:
    out_first: int  # output rows [out_first, out_end)
    out_end: int
    in_first: int  # the input rows the call is given: [in_first, in_end)
    in_end: int
    pad: int  # the call's top padding


def tile_sizes(rows: Rows, tiles: int = TILES) -> list[int]:
    """Output rows per tile, top first: ``tiles`` bands of at least two rows (a one-row band
    of a 1xN filter would change CMSIS-NN's kernel choice), any remainder in the first. With
    an odd row width every band but the first has an even number of rows, so that no more
    pixels than in one whole call fall outside CMSIS-NN's two-row matrix kernels."""
    size = rows.out_h // tiles
    if rows.out_w % 2 and size % 2:
        size += 1
    size = max(size, 2)
    count = rows.out_h // size
    if count < 2:
        return []
    return [size + rows.out_h - count * size] + [size] * (count - 1)


def row_tiles(rows: Rows, sizes: list[int]) -> list[Tile]:
    tiles = []
    first = 0
    for size in sizes:
        end = first + size
        top = first * rows.stride - rows.pad  # the input row of the band's first tap
        last = (end - 1) * rows.stride - rows.pad + (rows.filter_h - 1) * rows.dilation
        in_first = max(top, 0)
        in_end = min(last + 1, rows.in_h)
        tiles.append(Tile(first, end, in_first, in_end, in_first - top))
        first = end
    return tiles


def forward_shift(rows: Rows, tiles: list[Tile]) -> int:
    """Bytes the output starts before the input when tiles run top to bottom: each tile's
    output ends at or before the first input byte it reads (later tiles read from there on)."""
    return align(max(t.out_end * rows.out_row_bytes - t.in_first * rows.in_row_bytes
                     for t in tiles))  # fmt: skip


def backward_shift(rows: Rows, tiles: list[Tile]) -> int:
    """Bytes the output starts after the input when tiles run bottom to top: each tile's
    output starts at or after the end of the input it reads (earlier tiles read before it)."""
    return align(max(t.in_end * rows.in_row_bytes - t.out_first * rows.out_row_bytes
                     for t in tiles))  # fmt: skip


@dataclass(frozen=True)
class InPlace:
    """How a tiled node runs: its tiles in the order called, and where its output starts
    relative to its input (bytes, negative: before)."""

    tiles: tuple[Tile, ...]
    offset: int


def in_place(rows: Rows, backward: bool, tiles: int = TILES) -> InPlace | None:
    """The node's tiles and output offset, None when the layer has too few rows to tile."""
    sizes = tile_sizes(rows, tiles)
    if not sizes:
        return None
    bands = row_tiles(rows, sizes)
    if backward:
        return InPlace(tuple(reversed(bands)), backward_shift(rows, bands))
    return InPlace(tuple(bands), -forward_shift(rows, bands))


@dataclass(frozen=True)
class Candidate:
    """A node that may run in place: its input (buffer key) dies at it."""

    node: int
    input: str
    output: str
    rows: Rows


def _ties(candidates: Sequence[Candidate], sizes: dict[str, int]
          ) -> tuple[list[Tie], dict[int, InPlace]]:  # fmt: skip
    """Each candidate's direction: the one that keeps its group (the chain of tensors tied so
    far) narrowest, so that a chain of in-place layers does not drift through the arena."""
    ties: list[Tie] = []
    modes: dict[int, InPlace] = {}
    for c in candidates:
        where = tie_groups(ties)
        group, base = where.get(c.input, (c.input, 0))
        spans = [(r, r + sizes[k]) for k, (g, r) in where.items() if g == group] or [
            (0, sizes[c.input])
        ]
        best: tuple[int, InPlace] | None = None
        for backward in (False, True):
            mode = in_place(c.rows, backward)
            assert mode is not None, c
            start = base + mode.offset
            width = max(max(e for _, e in spans), start + sizes[c.output]) - min(
                min(s for s, _ in spans), start
            )
            if best is None or width < best[0]:
                best = (width, mode)
        assert best is not None
        ties.append(Tie(c.input, c.output, best[1].offset))
        modes[c.node] = best[1]
    return ties, modes


def plan_in_place(buffers: Sequence[Buffer], candidates: Sequence[Candidate]
                  ) -> tuple[Plan, dict[int, InPlace]]:  # fmt: skip
    """The arena plan, with the candidates that lower its peak running in place: all of them
    if that beats none, then each dropped again whose in-place run does not lower the peak
    (tiles cost a little time, so only where they save bytes)."""
    sizes = {b.key: b.size for b in buffers}
    plain = plan_arena(buffers)
    chosen = list(candidates)
    ties, modes = _ties(chosen, sizes)
    plan = plan_arena(buffers, ties)
    if not chosen or plan.peak >= plain.peak:
        return plain, {}
    for candidate in list(chosen):
        trial = [c for c in chosen if c is not candidate]
        trial_ties, trial_modes = _ties(trial, sizes)
        trial_plan = plan_arena(buffers, trial_ties)
        if trial_plan.peak <= plan.peak:
            chosen, plan, modes = trial, trial_plan, trial_modes
    return plan, modes
