"""In-place layers of the ahead-of-time runtime: row tiles and tied tensors in the arena plan.

The tiles are run here on a simulated arena with a row-local operation, as the worst kernel
would run them: each call first writes over its whole output range, then reads its input.
Any tile that wrote over input bytes still to be read changes the result."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from helpers.arena_plan import live_overlaps

from platformio_plugin.aot.emit import generate_model
from platformio_plugin.aot.plan import Buffer, Tie, plan_arena
from platformio_plugin.aot.tiling import Rows, in_place, plan_in_place, row_tiles, tile_sizes

pytestmark = pytest.mark.unit


def _row_op(source: np.ndarray, rows: Rows, first: int, end: int, pad: int) -> np.ndarray:
    """Output rows [first, end) of a row-local layer computed from ``source`` (the call's
    input rows only, its top padding ``pad``): each output byte mixes every tapped row, rows
    outside the call's input count as padding."""
    out = np.zeros((end - first, rows.out_row_bytes), dtype=np.int64)
    cols = np.arange(rows.out_row_bytes) % rows.in_row_bytes
    for r in range(end - first):
        for i in range(rows.filter_h):
            y = r * rows.stride - pad + i * rows.dilation
            if 0 <= y < len(source):
                out[r] += source[y, cols] * (i + 3) + i
    return out % 251


def _geometries() -> list[Rows]:
    cases = []
    for stride, filter_h, pad, dilation in [
        (1, 3, 1, 1), (2, 3, 0, 1), (2, 3, 1, 1), (1, 1, 0, 1), (2, 1, 0, 1), (1, 5, 2, 1),
        (1, 3, 2, 2), (3, 4, 1, 1), (1, 10, 4, 1),
    ]:  # fmt: skip
        for in_h, (in_bytes, out_bytes), out_w in itertools.product(
            (9, 25, 48), ((64, 64), (40, 80), (96, 32), (30, 30)), (5, 6)
        ):
            span = (filter_h - 1) * dilation + 1
            out_h = (in_h + 2 * pad - span) // stride + 1
            cases.append(Rows(in_h, out_h, stride, pad, filter_h, dilation, in_bytes,
                              out_bytes, out_w))  # fmt: skip
    return cases


@pytest.mark.parametrize("backward", [False, True])
def test_tiles_in_place_compute_what_one_call_does(backward: bool) -> None:
    rng = np.random.default_rng(7)
    checked = 0
    for rows in _geometries():
        mode = in_place(rows, backward)
        if mode is None:
            continue
        source = rng.integers(-128, 128, size=(rows.in_h, rows.in_row_bytes))
        expected = _row_op(source, rows, 0, rows.out_h, rows.pad)
        in_bytes = rows.in_h * rows.in_row_bytes
        out_bytes = rows.out_h * rows.out_row_bytes
        base = max(0, -mode.offset)
        arena = np.full(base + max(in_bytes, mode.offset + out_bytes) + 64, -1, dtype=np.int64)
        arena[base : base + in_bytes] = source.ravel()
        out_at = base + mode.offset
        for tile in mode.tiles:
            start = out_at + tile.out_first * rows.out_row_bytes
            end = out_at + tile.out_end * rows.out_row_bytes
            arena[start:end] = 1000  # the worst kernel: writes before it reads
            given = arena[
                base + tile.in_first * rows.in_row_bytes : base + tile.in_end * rows.in_row_bytes
            ].reshape(-1, rows.in_row_bytes)
            arena[start:end] = _row_op(given, rows, tile.out_first, tile.out_end, tile.pad).ravel()
        result = arena[out_at : out_at + out_bytes].reshape(rows.out_h, rows.out_row_bytes)
        np.testing.assert_array_equal(result, expected, err_msg=str(rows))
        # Every output row is written once, and the band around both is about N + N / tiles.
        written = sorted(r for t in mode.tiles for r in range(t.out_first, t.out_end))
        assert written == list(range(rows.out_h))
        assert abs(mode.offset) % 16 == 0
        checked += 1
    assert checked > 100


def test_tiles_cover_the_rows_with_even_bands_for_odd_widths() -> None:
    kws = Rows(25, 25, 1, 1, 3, 1, 320, 320, 5)
    assert tile_sizes(kws) == [7, 6, 6, 6]  # 30 pixels each but the first
    tiles = row_tiles(kws, tile_sizes(kws))
    assert [(t.in_first, t.in_end, t.pad) for t in tiles] == [
        (0, 8, 1), (6, 14, 0), (12, 20, 0), (18, 25, 0)
    ]  # fmt: skip
    assert tile_sizes(Rows(3, 3, 1, 1, 3, 1, 8, 8, 3)) == []  # too few rows for two bands
    assert tile_sizes(Rows(48, 48, 1, 0, 1, 1, 384, 768, 48)) == [12, 12, 12, 12]


def test_tied_buffers_keep_their_distance_and_others_stay_clear() -> None:
    # A chain 0 -> 1 -> 2 run in place, a skip tensor 3 alive throughout, a scratch at node 1.
    buffers = [
        Buffer("t0", 320, 0, 1),
        Buffer("t1", 320, 1, 2),
        Buffer("t2", 640, 2, 3),
        Buffer("t3", 100, 0, 3),
        Buffer("s1", 48, 1, 1),
    ]
    ties = [Tie("t0", "t1", -96), Tie("t1", "t2", 64)]
    plan = plan_arena(buffers, ties)
    assert plan.offsets["t1"] - plan.offsets["t0"] == -96
    assert plan.offsets["t2"] - plan.offsets["t1"] == 64
    assert live_overlaps(buffers, plan.offsets, ties) == []
    assert all(o % 16 == 0 for o in plan.offsets.values())
    assert plan.peak < plan_arena(buffers).peak


def test_only_layers_that_lower_the_peak_run_in_place(shared_models: Path) -> None:
    kws = (shared_models / "mlperf_kws_dscnn/kws_ref_model_int8.tflite").read_bytes()
    tiled = generate_model(kws, "kws", dsp=True, banner="")
    # Two 25x5x64 tensors (16,000 B) at once without tiles; the 8 layers in place need one
    # and a band of rows.
    assert tiled.arena_size < 16000 * 0.7
    assert tiled.source.count(", in place: 4 row tiles") == 8
    # the depthwise layers' top tile: 8 input rows for 7 output rows, one row of padding
    assert tiled.source.count("{8, 7, 1, 0, 0},  // output rows 0-6 from input rows 0-7") == 4
    # Person detection: only the layers at the plan's peak (48x48) are tiled.
    person = (shared_models / "tflm_person_detection/person_detect.tflite").read_bytes()
    model = generate_model(person, "person", dsp=True, banner="")
    assert model.arena_size <= 48 * 48 * 16 * 1.25
    assert 0 < model.source.count(", in place:") <= 4


def test_plan_in_place_keeps_the_plain_plan_when_tiles_do_not_help() -> None:
    from platformio_plugin.aot.tiling import Candidate

    rows = Rows(8, 8, 1, 1, 3, 1, 16, 16, 1)
    # The input dies at node 1, but a 4 KB buffer alive at node 0 sets the peak anyway.
    buffers = [Buffer("t0", 128, 0, 1), Buffer("t1", 128, 1, 2), Buffer("t9", 4096, 0, 0)]
    plan, modes = plan_in_place(buffers, [Candidate(1, "t0", "t1", rows)])
    assert modes == {}
    assert plan == plan_arena(buffers)
    # Alive at node 1 instead, it leaves room only for the pair run in place.
    buffers[2] = Buffer("t9", 4096, 1, 1)
    plan, modes = plan_in_place(buffers, [Candidate(1, "t0", "t1", rows)])
    assert list(modes) == [1] and plan.peak < plan_arena(buffers).peak


def test_in_place_can_be_turned_off(shared_models: Path) -> None:
    """custom_tinyml_aot_in_place = no: every layer one call over whole tensors, two 25x5x64
    tensors at once in KWS."""
    kws = (shared_models / "mlperf_kws_dscnn/kws_ref_model_int8.tflite").read_bytes()
    whole = generate_model(kws, "kws", dsp=True, banner="", in_place=False)
    assert whole.arena_size == 2 * 25 * 5 * 64
    assert "in place" not in whole.source and "Tile& tile" not in whole.source
