"""The stdlib TFLite reader against real models (facts from shared/models/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformio_plugin.analysis.layers import check_supported, layers, op_counts
from platformio_plugin.analysis.tflite_reader import parse_tflite
from platformio_plugin.errors import ModelFileError, UnsupportedOpsError

pytestmark = pytest.mark.unit


def test_person_detect(shared_models: Path) -> None:
    model = parse_tflite(
        (shared_models / "tflm_person_detection/person_detect.tflite").read_bytes()
    )
    inp = model.tensor(model.inputs[0])
    out = model.tensor(model.outputs[0])
    assert (inp.shape, inp.dtype, inp.zero_point) == ((1, 96, 96, 1), "int8", (-1,))
    assert inp.scale[0] == pytest.approx(0.00784314, rel=1e-5)
    assert (out.shape, out.dtype, out.zero_point) == ((1, 2), "int8", (-128,))
    assert op_counts(model) == {
        "DEPTHWISE_CONV_2D": 14,
        "CONV_2D": 14,
        "AVERAGE_POOL_2D": 1,
        "RESHAPE": 1,
        "SOFTMAX": 1,
    }
    rows = layers(model)
    assert rows[0].op == "DEPTHWISE_CONV_2D" and rows[0].inputs[0] == (1, 96, 96, 1)
    # MobileNetV1 0.25 at 96x96: ~7.2 M MACs (3.2 instructions/MAC at 22.9 M instructions)
    assert sum(r.macs for r in rows) == 7_157_888


def test_kws_and_hello_world(shared_models: Path) -> None:
    kws = parse_tflite((shared_models / "mlperf_kws_dscnn/kws_ref_model_int8.tflite").read_bytes())
    assert kws.tensor(kws.inputs[0]).shape == (1, 49, 10, 1)
    assert kws.tensor(kws.outputs[0]).shape == (1, 12)
    hello = parse_tflite((shared_models / "tflm_hello_world/hello_world_int8.tflite").read_bytes())
    assert op_counts(hello) == {"FULLY_CONNECTED": 3}
    # 1->16->16->1 dense layers
    assert [r.macs for r in layers(hello)] == [16, 256, 16]


def test_custom_ops_are_named(shared_models: Path) -> None:
    model = parse_tflite(
        (shared_models / "tflm_micro_speech/audio_preprocessor_int8.tflite").read_bytes()
    )
    names = set(op_counts(model))
    assert {"SignalWindow", "SignalRfft", "SignalFilterBank", "STRIDED_SLICE", "CAST"} <= names


@pytest.mark.parametrize("cut", [0, 7, 100, 2000])
def test_truncated_or_empty_file_is_a_clear_error(shared_models: Path, cut: int) -> None:
    data = (shared_models / "tflm_hello_world/hello_world_int8.tflite").read_bytes()[:cut]
    with pytest.raises(ModelFileError) as info:
        parse_tflite(data, "models/hello.tflite")
    assert "models/hello.tflite" in info.value.render()


def test_random_bytes_with_a_tfl3_header(tmp_path: Path) -> None:
    data = b"\x10\x00\x00\x00TFL3" + bytes(range(256)) * 4
    with pytest.raises(ModelFileError):
        parse_tflite(data, "x.tflite")


def test_unsupported_ops_are_all_listed(shared_models: Path) -> None:
    """A model whose custom op TFLM lacks: every offending node is named."""
    data = bytearray(
        (shared_models / "tflm_micro_speech/audio_preprocessor_int8.tflite").read_bytes()
    )
    for name in (b"SignalPCAN", b"SignalRfft"):  # same length renames -> unknown custom ops
        pos = data.index(name)
        data[pos : pos + len(name)] = b"X" * len(name)
    with pytest.raises(UnsupportedOpsError) as info:
        check_supported(parse_tflite(bytes(data)), "preproc")
    text = info.value.render()
    assert "XXXXXXXXXX" in text and "XXXXXXXXXXX" not in text.replace("XXXXXXXXXX (", "")
    assert len(info.value.offenders) == 2
