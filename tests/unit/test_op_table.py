from __future__ import annotations

import pytest

from platformio_plugin.tflm import op_table


@pytest.mark.unit
def test_names_and_codes_are_consistent() -> None:
    for name, op in op_table.BUILTIN_OPS.items():
        assert op.name == name
        assert op_table.BUILTIN_CODES[op.code] == name
        assert op.method.startswith("Add")
        assert op.sources and op.sources[0].endswith(".cc")
    for name, custom in op_table.CUSTOM_OPS.items():
        assert custom.name == name
    assert len(set(op.method for op in op_table.BUILTIN_OPS.values())) == len(op_table.BUILTIN_OPS)


@pytest.mark.unit
def test_well_known_ops() -> None:
    conv = op_table.BUILTIN_OPS["CONV_2D"]
    assert (conv.code, conv.method) == (3, "AddConv2D")
    assert conv.resolver_call(int8_only=True) == "AddConv2D(tflite::Register_CONV_2D_INT8())"
    assert conv.resolver_call() == "AddConv2D()"
    assert op_table.BUILTIN_OPS["RESHAPE"].resolver_call(int8_only=True) == "AddReshape()"
    lstm = op_table.BUILTIN_OPS["UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert lstm.method == "AddUnidirectionalSequenceLSTM"
    assert op_table.CUSTOM_OPS["SignalWindow"].method == "AddWindow"
    assert op_table.CUSTOM_OPS["SignalRfft"].third_party == ("kissfft",)


@pytest.mark.unit
def test_code_helpers() -> None:
    assert op_table.builtin_name(9) == "FULLY_CONNECTED"
    assert op_table.builtin_name(99999) == "BUILTIN_99999"
    assert op_table.effective_builtin_code(127, 150) == 150
    assert op_table.effective_builtin_code(3, 0) == 3
    assert op_table.unsupported(["CONV_2D", "FAKE_QUANT", "FAKE_QUANT", "SignalWindow"]) == [
        "FAKE_QUANT"
    ]
    assert "tensorflow/lite/micro/kernels/conv_common.cc" in op_table.sources_for(
        ["DEPTHWISE_CONV_2D"]
    )
    with pytest.raises(KeyError):
        op_table.sources_for(["NOPE"])


@pytest.mark.unit
def test_check_against_header_reports_differences() -> None:
    header = """
  TfLiteStatus AddConv2D(
      const TFLMRegistration& registration = Register_CONV_2D()) {
    return AddBuiltin(BuiltinOperator_CONV_2D, registration, ParseConv2D);
  }

  TfLiteStatus AddNewOp(const TFLMRegistration& registration = Register_NEW_OP()) {
    return AddBuiltin(BuiltinOperator_NEW_OP, registration, ParseNewOp);
  }
"""
    problems = op_table.check_against_header(header)
    assert "AddNewOp (NEW_OP) is in the header but not in the op table" in problems
    assert "AddAdd is in the op table but not in the header" in problems
    assert not any("AddConv2D" in p for p in problems)
