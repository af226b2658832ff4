"""The 64-bit host arena -> 32-bit target arena rule, on numbers measured with TFLM's
RecordingMicroAllocator for kws_ref_model_int8 (host) and on the emulated Cortex-M4."""

from __future__ import annotations

import pytest

from platformio_plugin.analysis.arena import pointer_bits, target_arena

pytestmark = pytest.mark.unit

KWS_HOST = {
    "kinds": {
        "TfLiteEvalTensor data": {"used": 840, "requested": 840, "count": 35},
        "Persistent TfLiteTensor data": {"used": 128, "requested": 128, "count": 2},
        "Persistent TfLiteTensor quantization data": {"used": 64, "requested": 64, "count": 4},
        "Persistent buffer data": {"used": 5556, "requested": 5528, "count": 32},
        "NodeAndRegistration struct": {"used": 832, "requested": 832, "count": 13},
    },
    "total": 24272,
    "head": 16000,
    "tail": 8272,
}
KWS_ON_CORTEX_M4_USED = 22820  # arena_used_bytes(), CMSIS-NN, same model


def test_kws_target_arena_is_enough_and_close() -> None:
    size = target_arena(24272, KWS_HOST, 32)
    # 24272 - (420 + 64 + 416 + 24) - 320 of the unlabelled 852 B, aligned to 16
    assert size == 23040
    assert KWS_ON_CORTEX_M4_USED <= size <= KWS_ON_CORTEX_M4_USED * 1.02


def test_host_board_keeps_the_host_figure_and_override_wins() -> None:
    assert target_arena(24272, KWS_HOST, 64) == 24272
    assert target_arena(24272, KWS_HOST, 32, override=1000) == 1008
    assert target_arena(1930, None, 32) == 1936  # no breakdown: the safe host figure


def test_pointer_bits() -> None:
    assert pointer_bits("host") == 64
    assert pointer_bits("cortex-m4") == 32 and pointer_bits("esp32") == 32


def test_small_model_bound_by_the_prepare_peak_keeps_the_bookkeeping() -> None:
    """hello_world: the host minimum (1,936 B) is above the recorded total (1,504 B);
    on the Cortex-M4 it reports 772 B used but needs ~1,120 B while preparing."""
    hello = {
        "kinds": {
            "TfLiteEvalTensor data": {"used": 240, "requested": 240, "count": 10},
            "Persistent TfLiteTensor data": {"used": 128, "requested": 128, "count": 2},
            "Persistent TfLiteTensor quantization data": {"used": 64, "requested": 64, "count": 4},
            "Persistent buffer data": {"used": 264, "requested": 232, "count": 5},
            "NodeAndRegistration struct": {"used": 192, "requested": 192, "count": 3},
        },
        "total": 1504,
        "head": 32,
        "tail": 1472,
    }
    assert target_arena(1936, hello, 32) == 1632  # 1936 - (120 + 64 + 24 + 96 + 0)
