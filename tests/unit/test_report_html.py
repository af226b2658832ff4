"""The tinyml-info HTML report, rendered for real models and read back: the layer
table, the arena picture, the flash/RAM bars and the float vs int8 section."""

from __future__ import annotations

import dataclasses
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Mapping, Optional

import pytest

from platformio_plugin.analysis import layers
from platformio_plugin.analysis.lifetimes import arena_use, lifetimes
from platformio_plugin.analysis.tflite_reader import TFLiteModel, parse_tflite
from platformio_plugin.config import BoardSpec, PluginConfig
from platformio_plugin.options import Options
from platformio_plugin.report.html import render_model_html
from platformio_plugin.report.pages import report_path, write_reports
from platformio_plugin.results import PreparedEnv, PreparedModel
from platformio_plugin.tflm.cpu import choose_kernels

pytestmark = pytest.mark.unit

KWS = "mlperf_kws_dscnn/kws_ref_model_int8.tflite"
PERSON = "tflm_person_detection/person_detect.tflite"
# TFLM's planned tensor buffers (the arena's head, RecordingMicroAllocator on the host)
# and kArenaSize for a Cortex-M4, from the converter's arena measurement of each model.
MEASURED = {KWS: (16000, 23136, 24272), PERSON: (55296, 82784, 85264)}
NUCLEO = BoardSpec("nucleo_f446re", "cortex-m4", "stm32f446ret6", 524288, 131072)
SVG_NS = "{http://www.w3.org/2000/svg}"


class Rows(HTMLParser):
    """Cell texts of every `<tr class="layer">`, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: Optional[list[str]] = None
        self._in_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "tr":
            self._in_row = ("class", "layer") in attrs
            if self._in_row:
                self.rows.append([])
        elif tag == "td" and self._in_row and self._cell is None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _prepared(
    path: Path, model: TFLiteModel, rel: str, report: Optional[Mapping[str, Any]] = None
) -> PreparedModel:
    head, arena, host = MEASURED[rel]
    rows = layers.layers(model)
    return PreparedModel(
        name=path.stem,
        source=f"models/{path.name}",
        fingerprint="0123456789abcdef" * 4,
        tflite=path,
        ops=tuple(sorted({r.op for r in rows})),
        macs=sum(r.macs for r in rows),
        flash=path.stat().st_size,
        arena=arena,
        arena_host=host,
        report=report
        if report is not None
        else {"format": ".tflite", "arena_breakdown": {"head": head, "tail": host - head}},
    )


def _render(
    shared_models: Path, rel: str, kernels: str = "cmsis-nn", board: BoardSpec = NUCLEO, **kw: Any
) -> tuple[str, TFLiteModel, PreparedModel]:
    path = shared_models / rel
    model = parse_tflite(path.read_bytes(), path.name)
    prepared = _prepared(path, model, rel, **kw)
    page = render_model_html(
        prepared,
        model,
        env_name="nucleo_f446re",
        board=board,
        kernels=kernels,
        runtime_flash=65536,
        runtime_ram=4096,
    )
    return page, model, prepared


def _svg(page: str) -> ET.Element:
    match = re.search(r"<svg .*?</svg>", page, flags=re.S)
    assert match, "no inline SVG"
    return ET.fromstring(match.group(0))  # well-formed XML, or this raises


@pytest.mark.parametrize("rel", [KWS, PERSON])
def test_layer_table_matches_the_model(shared_models: Path, rel: str) -> None:
    page, model, _ = _render(shared_models, rel)
    expected = layers.layers(model)
    parser = Rows()
    parser.feed(page)
    assert len(parser.rows) == len(model.operators) == len(expected)
    use = arena_use(model)
    for cells, layer, alive in zip(parser.rows, expected, use):
        index, op, inputs, output, macs, alive_text, kernel = cells
        assert (int(index), op) == (layer.index, layer.op)
        assert output == "\u00d7".join(map(str, layer.output))
        assert inputs.split(", ")[0] == "\u00d7".join(map(str, layer.inputs[0]))
        assert int(macs.replace(",", "")) == layer.macs
        assert int(alive_text.replace(",", "")) == alive
        assert kernel == ("reference" if op == "RESHAPE" else "CMSIS-NN")
    total = int(re.search(r'data-total-macs="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert total == sum(layer.macs for layer in expected)
    assert f"{total:,}" in page


def test_known_totals(shared_models: Path) -> None:
    kws, _, _ = _render(shared_models, KWS)
    person, _, _ = _render(shared_models, PERSON)
    assert 'data-total-macs="2656768"' in kws  # what tinyml-info prints for kws
    assert 'data-total-macs="7157888"' in person
    assert ">31</div>" in person and "30 of 31 layers on CMSIS-NN" in person


@pytest.mark.parametrize("rel", [KWS, PERSON])
def test_arena_picture_is_the_tensor_lifetimes(shared_models: Path, rel: str) -> None:
    page, model, prepared = _render(shared_models, rel)
    svg = _svg(page)
    # the lifetimes, recomputed here from the operators' inputs and outputs
    alive = [0] * len(model.operators)
    for life in lifetimes(model):
        tensor = model.tensor(life.tensor)
        assert not tensor.has_data and tensor.dtype == "int8"
        assert life.size == tensor.elements
        producers = [o.index for o in model.operators if life.tensor in o.outputs]
        consumers = [o.index for o in model.operators if life.tensor in o.inputs]
        assert life.first == (0 if life.tensor in model.inputs else min(producers))
        end = len(model.operators) - 1 if life.tensor in model.outputs else max(consumers)
        assert life.last == end
        for i in range(life.first, life.last + 1):
            alive[i] += life.size
    assert alive == arena_use(model)

    bars = [el for el in svg.iter(f"{SVG_NS}rect") if el.get("class") == "layer"]
    assert [int(b.get("data-layer", -1)) for b in bars] == list(range(len(model.operators)))
    assert [int(b.get("data-bytes", -1)) for b in bars] == alive
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights.index(max(heights)) == alive.index(max(alive))
    peak = int(svg.get("data-peak", -1))
    head, arena_size, _ = MEASURED[rel]
    assert peak == max(alive) <= head <= arena_size
    limits = {
        int(el.get("data-bytes", -1))
        for el in svg.iter(f"{SVG_NS}line")
        if el.get("class") == "limit"
    }
    assert limits == {prepared.arena, head}
    assert f"kArenaSize {prepared.arena:,} B" in page and f"peak {peak:,} B" in page


def test_person_detect_peak_by_hand(shared_models: Path) -> None:
    """Layer 2 (1x1 CONV_2D) reads 48x48x8 and writes 48x48x16 int8: 18,432 + 36,864 B."""
    _, model, _ = _render(shared_models, PERSON)
    use = arena_use(model)
    assert max(use) == use[2] == 48 * 48 * 8 + 48 * 48 * 16 == 55296


def test_flash_and_ram_bars(shared_models: Path) -> None:
    page, _, prepared = _render(shared_models, PERSON)
    bars = re.findall(r'class="track[^"]*" data-used="(\d+)" data-total="(\d+)"', page)
    flash = prepared.flash + 65536
    ram = prepared.arena + 4096
    assert bars == [(str(flash), "524288"), (str(ram), "131072")]
    assert f"{flash / 524288 * 100:.1f} %" in page and f"used {flash:,} bytes from 524,288" in page
    assert f"{ram / 131072 * 100:.1f} %" in page and f"used {ram:,} bytes from 131,072" in page
    assert f"model {prepared.flash:,} + runtime 65,536" in page
    assert f"arena {prepared.arena:,} + runtime 4,096" in page


def test_board_without_limits_and_reference_kernels(shared_models: Path) -> None:
    page, model, _ = _render(shared_models, KWS, kernels="reference", board=BoardSpec("native"))
    assert "data-total=" not in page
    assert "declares no <code>upload.maximum_size</code>" in page
    assert "declares no <code>upload.maximum_ram_size</code>" in page
    parser = Rows()
    parser.feed(page)
    assert {cells[-1] for cells in parser.rows} == {"reference"}
    assert len(parser.rows) == len(model.operators)


def test_float_vs_int8(shared_models: Path) -> None:
    taken_as_is, _, _ = _render(shared_models, KWS)
    assert "Not available: models/kws_ref_model_int8.tflite was taken as is" in taken_as_is
    converted = {
        "format": ".onnx",
        "compare_samples": 200,
        "calibration_samples": 412,
        "top1_agreement": 99.5,
        "max_abs_err": 0.2617,
        "mean_abs_err": 0.01234,
        "accuracy_float": 97.0,
        "accuracy_int8": 96.5,
    }
    page, _, _ = _render(shared_models, KWS, report=converted)
    for text in ("200", "412", "99.5 %", "0.2617", "0.01234", "97.0 %", "96.5 %"):
        assert f'<td class="num r">{text}</td>' in page, text
    no_labels = {k: v for k, v in converted.items() if not k.startswith("accuracy")}
    page, _, _ = _render(shared_models, KWS, report=no_labels)
    assert page.count("not available") == 2 and "Accuracy needs labels" in page


def test_route_of_a_pytorch_model(shared_models: Path) -> None:
    """The page names the route that made a PyTorch model's int8 model (and why auto left
    the first one); other formats have one route and say nothing of it."""
    plain, _, _ = _render(shared_models, KWS)
    assert "converted by" not in plain
    report = {
        "format": ".pth",
        "frontend": "litert-torch",
        "route": "PyTorch -> float TFLite (LiteRT Torch) -> int8",
        "frontend_fallback": "onnx2tf failed: onnx2tf could not convert net.pth: <Resize>",
    }
    page, _, _ = _render(shared_models, KWS, report=report)
    assert (
        "converted by PyTorch -&gt; float TFLite (LiteRT Torch) -&gt; int8 (litert-torch), "
        "after onnx2tf failed: onnx2tf could not convert net.pth: &lt;Resize&gt;"
    ) in page


def test_self_contained_and_byte_identical(shared_models: Path) -> None:
    first, _, _ = _render(shared_models, PERSON)
    second, _, _ = _render(shared_models, PERSON)
    assert first == second
    assert first.startswith("<!DOCTYPE html>")
    assert "<script" not in first and "<link" not in first and "src=" not in first
    assert "url(" not in first and "@import" not in first
    assert re.findall(r"https?://[^\s\"']+", first) == ["http://www.w3.org/2000/svg"]
    assert "$" not in first  # every template field filled


def test_write_reports(tmp_path: Path, shared_models: Path) -> None:
    path = shared_models / KWS
    model = parse_tflite(path.read_bytes(), path.name)
    prepared = _prepared(path, model, KWS)
    config = PluginConfig(
        env_name="nucleo_f446re",
        project_dir=tmp_path,
        build_dir=tmp_path / ".pio/build/nucleo_f446re",
        board=NUCLEO,
        models=(),
        options=dataclasses.replace(Options.defaults(), runtime_flash=65536, runtime_ram=4096),
        kernels=choose_kernels(board=NUCLEO.board_id, cpu=NUCLEO.cpu, mcu=NUCLEO.mcu),
    )
    env = PreparedEnv((prepared,), prepared.ops, "cmsis-nn", config.generated_dir, True)
    stale = config.reports_dir / "old_model.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("gone")
    (config.reports_dir / "notes.txt").write_text("")
    written = write_reports(config, env)
    target = tmp_path / ".pio/tinyml-reports/nucleo_f446re/kws_ref_model_int8.html"
    assert written == [target] == [report_path(config, "kws_ref_model_int8")]
    assert "<h1>kws_ref_model_int8</h1>" in target.read_text(encoding="utf-8")
    assert not stale.exists() and (config.reports_dir / "notes.txt").exists()
    os.utime(target, (1, 1))
    write_reports(config, env)  # same content: not rewritten
    assert target.stat().st_mtime == 1


def test_instructions_per_layer_from_the_probe(shared_models: Path) -> None:
    """With what the build's probe measured, the page shows the measured arena and, per layer,
    the instructions, instructions per MAC and share of the total."""
    path = shared_models / KWS
    model = parse_tflite(path.read_bytes(), path.name)
    prepared = _prepared(path, model, KWS)
    rows = layers.layers(model)
    profile = [{"index": r.index, "op": r.op, "instructions": 1000 * (r.index + 1)} for r in rows]
    total = sum(p["instructions"] for p in profile)
    measured = {"arena": 22_736, "instructions": total, "profile": profile}
    page = render_model_html(
        prepared, model, env_name="nucleo_f446re", board=NUCLEO, kernels="cmsis-nn",
        runtime_flash=65536, runtime_ram=4096, measured=measured, core="cortex-m4",
    )  # fmt: skip
    assert "measured on the emulated cortex-m4" in page
    assert f'<td class="num r">{total:,}</td>' in page
    first = rows[0]
    share = 100 * 1000 / total
    assert f'<td class="num r">{1000 / first.macs:.2f}</td>' in page
    assert f'<td class="num r">{share:.1f} %</td>' in page
    without = _render(shared_models, KWS)[0]
    assert "instructions</th>" not in without and "instructions</th>" in page
