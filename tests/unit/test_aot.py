"""The ahead-of-time generator's pure parts: TFLM's fixed-point parameters, the static arena
plan, the generated source (deterministic, every unsupported node named at once). Bit-exact
outputs are checked on the emulated cores (tests/target/test_aot_on_target.py)."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest
from helpers.arena_plan import live_overlaps

from platformio_plugin.aot import quant
from platformio_plugin.aot.emit import generate_model
from platformio_plugin.aot.graph import Graph, Node, Tensor, read_graph
from platformio_plugin.aot.ops import EMITTERS
from platformio_plugin.aot.plan import Buffer, lifetimes, plan_arena
from platformio_plugin.errors import AotUnsupportedError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (3 << 29, 0)),
        (2.0**-40, (0, 0)),  # shift < -31: flushed to zero, as TFLM does
        (1.0 - 2.0**-40, (1 << 30, 1)),  # rounds up to 2^31: halved, shift + 1
        (0.1, (1717986918, -3)),  # round(0.8 * 2^31)
    ],
)
def test_quantize_multiplier_matches_tflm(real: float, expected: tuple[int, int]) -> None:
    assert quant.quantize_multiplier(real) == expected


def test_quantize_multiplier_rounds_halves_away_from_zero() -> None:
    # q * 2^31 = 2^30 + 0.5 exactly: std::round goes up (Python's round() would go to even).
    real = (2**30 + 0.5) / 2**31
    assert quant.quantize_multiplier(real) == (2**30 + 1, 0)


def test_per_channel_multiplier_order_of_operations() -> None:
    """double(input) * double(filter) / double(output), left to right, as TFLM."""
    in_scale, filter_scale, out_scale = quant.f32(0.0235), quant.f32(0.0031), quant.f32(0.0917)
    multipliers, shifts = quant.per_channel_multipliers(in_scale, (filter_scale,), out_scale, 2)
    expected = quant.quantize_multiplier(in_scale * filter_scale / out_scale)
    assert list(zip(multipliers, shifts)) == [expected, expected]


def test_activation_ranges() -> None:
    assert quant.activation_range(quant.ACT_NONE, 0.1, 3) == (-128, 127)
    assert quant.activation_range(quant.ACT_RELU, 0.1, -5) == (-5, 127)
    assert quant.activation_range(quant.ACT_RELU6, 0.05, -128) == (-128, -8)  # 6 / 0.05 = 120
    assert quant.activation_range(quant.ACT_RELU6, 0.01, -128) == (-128, 127)


def test_softmax_params() -> None:
    scale = quant.f32(0.1)
    multiplier, left_shift, diff_min = quant.softmax_params(1.0, scale)
    real = min(1.0 * scale * (1 << 26), float((1 << 31) - 1))
    assert (multiplier, left_shift) == quant.quantize_multiplier(real)
    assert diff_min == -math.floor(31 * 2**26 / 2**left_shift)


def test_padding_and_output_size() -> None:
    assert quant.output_size(quant.PADDING_SAME, 49, 10, 2, 1) == 25
    assert quant.padding(2, 1, 49, 10, 25) == 4  # total 9: 4 before, the odd one after
    assert quant.output_size(quant.PADDING_VALID, 25, 25, 25, 1) == 1
    assert quant.padding(25, 1, 25, 25, 1) == 0


def test_plan_shares_bytes_only_between_disjoint_lifetimes() -> None:
    buffers = [
        Buffer("t0", 100, 0, 0),
        Buffer("t1", 50, 0, 1),
        Buffer("t2", 100, 1, 2),
        Buffer("s1", 8, 1, 1),
    ]
    plan = plan_arena(buffers)
    assert live_overlaps(buffers, plan.offsets) == []
    assert all(offset % 16 == 0 for offset in plan.offsets.values())
    assert plan.offsets["t0"] == plan.offsets["t2"]  # t0 is dead when t2 is written
    assert plan.peak == 192  # t0/t2 at 0, t1 at 112 (..162), s1 at 176 (..184), rounded up


def test_lifetimes_keep_model_inputs_and_outputs_whole() -> None:
    nodes = [((0,), (1,)), ((1,), (2,)), ((2,), (3,))]
    spans = lifetimes(nodes, graph_inputs=(0,), graph_outputs=(1,), activations={0, 1, 2, 3})
    assert spans == {0: (0, 0), 1: (0, 2), 2: (1, 2), 3: (2, 2)}


def _model(shared_models: Path, rel: str) -> bytes:
    return (shared_models / rel).read_bytes()


def test_generated_source_is_reproducible_and_readable(shared_models: Path) -> None:
    data = _model(shared_models, "mlperf_kws_dscnn/kws_ref_model_int8.tflite")
    first = generate_model(data, "kws", dsp=True, banner="// banner")
    again = generate_model(data, "kws", dsp=True, banner="// banner")
    assert first == again
    graph = read_graph(data, "kws")
    for node in graph.nodes:
        assert f"// node {node.index}: {node.op} " in first.source
    assert "arm_convolve_wrapper_s8(" in first.source
    assert "arm_depthwise_conv_wrapper_s8(" in first.source
    assert "arm_avgpool_s8(" in first.source
    assert "arm_softmax_s8(" in first.source
    assert "bool kws::AotInvoke(uint8_t* arena)" in first.source
    # The largest tensor is 1x25x5x64 = 8,000 B; two are alive at once (16,000 B), but the
    # layers between them run in place (tests/unit/test_aot_tiling.py): one and a band of rows.
    assert 8000 < first.arena_size < 16000 * 0.7


def test_scratch_depends_on_the_dsp_extension(shared_models: Path) -> None:
    data = _model(shared_models, "mlperf_kws_dscnn/kws_ref_model_int8.tflite")
    plain = generate_model(data, "kws", dsp=False, banner="")
    dsp = generate_model(data, "kws", dsp=True, banner="")
    assert plain.scratch_bytes == 160  # the first conv's im2col: 2 * 40 * sizeof(int16)
    assert dsp.scratch_bytes == 256  # avgpool's 64 int32 sums
    assert "arm_avgpool_s8_get_buffer_size(1, 64) > 256" in dsp.source


def test_hello_world_arena_is_a_few_bytes(shared_models: Path) -> None:
    model = generate_model(
        _model(shared_models, "tflm_hello_world/hello_world_int8.tflite"),
        "hello",
        dsp=False,
        banner="",
    )
    assert model.arena_size == 32
    assert model.source.count("arm_fully_connected_wrapper_s8(") == 3


def test_unsupported_nodes_are_all_named(shared_models: Path) -> None:
    # TFLM's audio front end: signal custom ops, CAST, MUL, DIV, MINIMUM, MAXIMUM, int16 data
    data = _model(shared_models, "tflm_micro_speech/audio_preprocessor_int8.tflite")
    with pytest.raises(AotUnsupportedError) as caught:
        generate_model(data, "audio", dsp=True, banner="")
    graph = read_graph(data, "audio")
    offenders = [o[0] for o in caught.value.offenders]
    without_emitter = [n.index for n in graph.nodes if n.op not in EMITTERS]
    assert without_emitter and set(without_emitter) <= set(offenders)
    assert offenders == sorted(offenders)
    assert "custom_tinyml_runtime = tflm" in caught.value.render()


def test_lstm_plans_no_state_tensors(shared_models: Path) -> None:
    # CMSIS-NN's LSTM starts every invocation from zero state (as TFLM's cmsis_nn kernel does):
    # the hidden and cell state inputs are never read, so they take no arena bytes
    data = _model(shared_models, "tflm_mnist_lstm/trained_lstm_int8.tflite")
    graph = read_graph(data, "lstm")
    lstm = graph.nodes[0]
    assert lstm.op == "UNIDIRECTIONAL_SEQUENCE_LSTM"
    model = generate_model(data, "lstm", dsp=True, banner="")
    assert model.source.count("arm_lstm_unidirectional_s8(") == 1
    for state in lstm.inputs[18:20]:
        assert f"kTensor{state} " not in model.source
    # input 1x28x28 int8 (784 B) and output 1x28x20 (560 B) plus three int16 buffers of 20
    assert model.arena_size == 784 + 560 + 3 * 20 * 2 + 8  # the 8: 16-byte alignment


def _config(tmp_path: Path, cpu: str, **options: str):  # type: ignore[no-untyped-def]
    from platformio_plugin.config import BoardSpec, load_config

    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "m.tflite").write_bytes(b"x")
    raw = {f"custom_tinyml_{k}": v for k, v in {"runtime": "aot", **options}.items()}
    board = BoardSpec("b", cpu, "", 1 << 20, 1 << 18)
    return load_config(
        raw, env_name="e", project_dir=tmp_path, build_dir=tmp_path / ".pio/build/e", board=board
    )


@pytest.mark.parametrize("cpu", ["cortex-m0plus", "cortex-m4", "cortex-m33"])
def test_aot_runs_on_cortex_m_with_cmsis_nn_and_no_probe(tmp_path: Path, cpu: str) -> None:
    from platformio_plugin.aot import check_board
    from platformio_plugin.pipeline import aot_checked_core, probed_core

    config = _config(tmp_path, cpu)
    check_board(config)
    assert probed_core(config) is None and aot_checked_core(config) == cpu  # arena: the plan


def test_aot_refuses_helium_with_cmsis_nn_and_says_the_fixes(tmp_path: Path) -> None:
    from platformio_plugin.aot import check_board
    from platformio_plugin.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        check_board(_config(tmp_path, "cortex-m55", kernels="auto"))
    assert "custom_tinyml_runtime = tflm" in caught.value.render()
    assert "custom_tinyml_kernels = reference" in caught.value.render()


@pytest.mark.parametrize(
    ("cpu", "kernels"), [("cortex-m55", "reference"), ("cortex-m4", "reference"), ("esp32", "auto")]
)
def test_aot_with_reference_kernels_on_any_board(tmp_path: Path, cpu: str, kernels: str) -> None:
    from platformio_plugin.aot import check_board

    config = _config(tmp_path, cpu, kernels=kernels)
    assert config.kernels.kernels == "reference"
    check_board(config)


def test_reference_kernel_code_calls_tflm_not_cmsis_nn(shared_models: Path) -> None:
    data = _model(shared_models, "mlperf_kws_dscnn/kws_ref_model_int8.tflite")
    cmsis = generate_model(data, "kws", dsp=True, banner="")
    reference = generate_model(data, "kws", dsp=True, banner="", kernels="reference")
    assert "arm_" not in reference.source and "arm_nnfunctions.h" not in reference.source
    # the same calls: 5 convolutions, 4 depthwise
    calls = reference.source.count("reference_integer_ops::ConvPerChannel(")
    assert calls == cmsis.source.count("arm_convolve_wrapper_s8(") == 5
    calls = reference.source.count("reference_integer_ops::DepthwiseConvPerChannel(")
    assert calls == cmsis.source.count("arm_depthwise_conv_wrapper_s8(") == 4
    assert reference.source.count("reference_ops::Softmax(") == 1
    assert reference.scratch_bytes == 0 and cmsis.scratch_bytes > 0
    # the same plan but for the scratch buffers CMSIS-NN asks for
    assert reference.arena_size <= cmsis.arena_size
    lstm = _model(shared_models, "tflm_mnist_lstm/trained_lstm_int8.tflite")
    with pytest.raises(AotUnsupportedError) as caught:
        generate_model(lstm, "lstm", dsp=True, banner="", kernels="reference")
    assert [o[1] for o in caught.value.offenders] == ["UNIDIRECTIONAL_SEQUENCE_LSTM"]


def test_add_rescales_as_tflm() -> None:
    """ADD's multipliers: each input over twice the larger input scale, the output with a
    left shift of 20 (add_common.cc), each through QuantizeMultiplierSmallerThanOneExp."""
    from platformio_plugin.aot.graph import Graph, Node, Tensor
    from platformio_plugin.aot.ops.add import emit

    def tensor(index: int, scale: float, zero_point: int) -> Tensor:
        return Tensor(
            index, f"t{index}", (1, 4), "int8", (quant.f32(scale),), (zero_point,), 0, b""
        )

    graph = Graph(
        "g",
        (tensor(0, 0.0078, 0), tensor(1, 0.0154, -63), tensor(2, 0.0231, -20)),
        (Node(0, "ADD", (0, 1), (2,), {"activation": 0}),),
        (0, 1),
        (2,),
    )
    code = emit(graph.nodes[0], graph, False)
    s0, s1, s2 = (t.scale[0] for t in graph.tensors)
    twice = 2 * max(s0, s1)
    assert (code.values["input1_multiplier"], code.values["input1_shift"]) == (
        quant.quantize_multiplier(s0 / twice)
    )
    assert (code.values["input2_multiplier"], code.values["input2_shift"]) == (
        quant.quantize_multiplier(0.5)
    )
    assert (code.values["output_multiplier"], code.values["output_shift"]) == (
        quant.quantize_multiplier(twice / ((1 << 20) * s2))
    )
    assert code.values["input2_offset"] == 63 and code.values["output_offset"] == -20
    assert code.values["size"] == 4


def _tensor(index: int, shape: tuple[int, ...], scale: float = 0.5, zero_point: int = 0) -> Tensor:
    return Tensor(index, f"t{index}", shape, "int8", (quant.f32(scale),), (zero_point,), 0, b"")


def _int32s(index: int, shape: tuple[int, ...], *values: int) -> Tensor:
    data = struct.pack(f"<{len(values)}i", *values)
    return Tensor(index, f"t{index}", shape, "int32", (), (), 0, data)


def _one_node(op: str, tensors: list[Tensor], inputs: tuple[int, ...]) -> Graph:
    out = len(tensors) - 1
    return Graph("g", tuple(tensors), (Node(0, op, inputs, (out,), {}),), (0,), (out,))


def test_pad_takes_the_output_zero_point_and_pads_to_four_dims() -> None:
    from platformio_plugin.aot.ops.pad import emit

    graph = _one_node(
        "PAD",
        [
            _tensor(0, (5, 6, 3), zero_point=-7),
            _int32s(1, (3, 2), 0, 0, 1, 2, 2, 1),
            _tensor(2, (5, 9, 6), zero_point=-7),
        ],
        (0, 1),
    )
    values = emit(graph.nodes[0], graph, False).values
    assert values["pad_value"] == -7  # kernels/cmsis_nn/pad.cc: the output zero point
    assert values["input_dims"] == "1, 5, 6, 3"  # rank 3: n is 1, pads of n are 0
    assert values["pre_pad"] == "0, 0, 1, 2"
    assert values["post_pad"] == "0, 0, 2, 1"


def test_padv2_takes_its_constant_value_as_it_is() -> None:
    from platformio_plugin.aot.ops.common import Unsupported
    from platformio_plugin.aot.ops.pad import emit

    def graph(value_scale: float) -> Graph:
        value = Tensor(2, "v", (), "int8", (quant.f32(value_scale),), (3,), 0, b"\x80")
        return _one_node(
            "PADV2",
            [
                _tensor(0, (1, 2, 2, 4), 0.25, 3),
                _int32s(1, (4, 2), 0, 0, 1, 1, 1, 1, 0, 0),
                value,
                _tensor(3, (1, 4, 4, 4), 0.25, 3),
            ],
            (0, 1, 2),
        )

    good = graph(0.25)
    assert emit(good.nodes[0], good, False).values["pad_value"] == -128
    other = graph(0.5)  # TFLM's PadPrepare refuses a value quantized unlike the output
    with pytest.raises(Unsupported):
        emit(other.nodes[0], other, False)


def test_mean_multiplier_readapts_for_the_count_as_tflm() -> None:
    """QuantizedMeanOrSum: the multiplier of input/output scale, shifted left by
    floor(log2(count)) (at most 32 and 31 + shift), divided by count."""
    from platformio_plugin.aot.ops.mean import mean_multiplier

    # Equal scales (MobileNetV2's 7x7 global mean): 1.0 is (2^30, 1), then 5 more bits.
    assert mean_multiplier(0.07, 0.07, 49) == ((1 << 30 << 5) // 49, 1 - 5)
    in_scale, out_scale = quant.f32(0.006684721), quant.f32(0.003885171)
    multiplier, shift = quant.quantize_multiplier(in_scale / out_scale)
    assert mean_multiplier(in_scale, out_scale, 7) == ((multiplier << 2) // 7, shift - 2)
    # A small ratio: the extra shift stops at 31 + shift.
    multiplier, shift = quant.quantize_multiplier(2.0**-29)
    assert shift == -28
    assert mean_multiplier(2.0**-29, 1.0, 16) == ((multiplier << 3) // 16, -31)


def test_mean_over_height_and_width_is_outer_count_inner() -> None:
    from platformio_plugin.aot.ops.mean import emit, resolve_axis

    assert resolve_axis(4, (-2, 1, 2)) == [2, 1]  # negative from the end, duplicates dropped
    graph = _one_node(
        "MEAN",
        [
            _tensor(0, (1, 7, 7, 16), 0.07, -9),
            _int32s(1, (2,), 1, 2),
            _tensor(2, (1, 1, 1, 16), 0.07, -9),
        ],
        (0, 1),
    )
    values = emit(graph.nodes[0], graph, False).values
    assert (values["outer"], values["count"], values["inner"]) == (1, 49, 16)
    assert values["sum_offset"] == 9 * 49
    assert (values["left_shift"], values["right_shift"]) == (0, 4)
    assert values["output_offset"] == -9


def test_mean_refuses_axes_that_are_not_one_run() -> None:
    from platformio_plugin.aot.ops.common import Unsupported
    from platformio_plugin.aot.ops.mean import emit

    graph = _one_node(
        "MEAN",
        [
            _tensor(0, (2, 3, 4)),
            _int32s(1, (2,), 0, 2),
            _tensor(2, (3,)),
        ],
        (0, 1),
    )
    with pytest.raises(Unsupported, match="not one run"):
        emit(graph.nodes[0], graph, False)


def test_mobilenet_v2_is_generated_completely(shared_models: Path) -> None:
    """PyTorch's MobileNetV2 (TRANSPOSE, 18 PADs, one MEAN over 7x7 with equal scales)."""
    rel = "tflm_pytorch_mobilenetv2/mobilenet_v2_quantized_1x3x224x224.tflite"
    model = generate_model(_model(shared_models, rel), "mnv2", dsp=True, banner="")
    assert model.source.count("arm_pad_s8(") == 18
    assert model.source.count(": MEAN 1x7x7x1280 -> 1x1x1x1280, axes [1, 2]") == 1
    assert "* 701219150;" in model.source  # 2^35 / 49: the multiplier 1.0 over 49 inputs


def test_concatenation_copies_each_inputs_block_per_outer_index() -> None:
    from platformio_plugin.aot.ops.common import Unsupported
    from platformio_plugin.aot.ops.concatenation import emit

    tensors = [_tensor(0, (1, 4, 4, 6), 0.1, 3), _tensor(1, (1, 4, 4, 2), 0.1, 3)]
    graph = Graph(
        "g",
        (*tensors, _tensor(2, (1, 4, 4, 8), 0.1, 3)),
        (Node(0, "CONCATENATION", (0, 1), (2,), {"axis": -1, "activation": 0}),),
        (0, 1),
        (2,),
    )
    values = emit(graph.nodes[0], graph, False).values
    assert (values["outer"], values["sizes"], values["count"]) == (16, "6, 2", 2)
    unlike = Graph(  # TFLM's Prepare wants every input quantized as the output
        "g",
        (tensors[0], _tensor(1, (1, 4, 4, 2), 0.2, 3), _tensor(2, (1, 4, 4, 8), 0.1, 3)),
        graph.nodes,
        (0, 1),
        (2,),
    )
    with pytest.raises(Unsupported, match="quantized unlike"):
        emit(unlike.nodes[0], unlike, False)


@pytest.mark.parametrize(
    ("shape", "index"),
    [
        ((1, 8, 8, 8), (slice(None), slice(1, 7), slice(None, None, 2), slice(2, None))),
        ((1, 6, 4, 8), (slice(None), -2, slice(None), slice(None, None, -3))),
        ((5, 7), (slice(-1, 0, -2), slice(-100, 100, 3))),
        ((3, 9), (1, slice(7, 2, -1))),
    ],
)
def test_strided_slice_bounds_select_what_python_slicing_does(
    shape: tuple[int, ...], index: tuple[int | slice, ...]
) -> None:
    """StridedSliceStartForAxis / EndForAxis on the five padded axes pick the elements numpy's
    (and TensorFlow's) indexing picks, in the same order."""
    from platformio_plugin.aot.ops.strided_slice import slice_bounds

    begin, end, strides = [], [], []
    begin_mask = end_mask = shrink = 0
    for axis, item in enumerate(index):
        if isinstance(item, int):
            begin.append(item)
            end.append(item + 1)
            strides.append(1)
            shrink |= 1 << axis
            continue
        assert isinstance(item, slice)
        begin.append(item.start or 0)
        end.append(item.stop or 0)
        strides.append(item.step or 1)
        begin_mask |= (item.start is None) << axis
        end_mask |= (item.stop is None) << axis
    bounds = slice_bounds(
        shape, tuple(begin), tuple(end), tuple(strides), begin_mask, end_mask, shrink
    )
    picked: list[list[int]] = [[]]
    padded = (1,) * (5 - len(shape)) + shape
    for (start, stop, stride), size in zip(bounds, padded):
        axis = list(range(start, stop, stride))
        assert all(0 <= i < size for i in axis)
        picked = [p + [i] for p in picked for i in axis]
    expected = [[0] * (5 - len(shape))]
    for item, size in zip(index, shape):
        axis = [item % size] if isinstance(item, int) else list(range(size))[item]
        expected = [p + [i] for p in expected for i in axis]
    assert picked == expected


def test_forced_arena_below_the_plan_is_refused_with_the_fix(shared_models: Path) -> None:
    import dataclasses

    from platformio_plugin.aot import check_forced_arena
    from platformio_plugin.errors import ConfigError

    data = _model(shared_models, "mlperf_kws_dscnn/kws_ref_model_int8.tflite")
    model = generate_model(data, "kws", dsp=True, banner="")

    @dataclasses.dataclass
    class Facts:  # the fields check_forced_arena reads of ModelFacts
        source: str
        arena_size: int
        arena_forced: bool

    check_forced_arena(Facts("models/kws.tflite", model.arena_size, True), model)  # type: ignore[arg-type]
    check_forced_arena(Facts("models/kws.tflite", 100, False), model)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        check_forced_arena(Facts("models/kws.tflite", model.arena_size - 16, True), model)  # type: ignore[arg-type]
    text = caught.value.render()
    assert text.startswith(
        f"models/kws.tflite: custom_tinyml_arena_size = {model.arena_size - 16} is smaller"
    )
    assert f"at least {model.arena_size}" in text
