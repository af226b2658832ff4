"""Untrusted model files never reach an unpickler without the explicit trust option, through
the CLI: files whose unpickling creates a marker file, untrusted (nothing runs) and trusted (it
runs: the payload is real). tests/unit/test_no_pickle.py inspects the code itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.convert import DATA, run_cli

pytestmark = pytest.mark.convert


@pytest.mark.parametrize("evil", ["evil.pth", "evil.pt2"])
def test_cli_refuses_then_trust_runs_the_payload(tmp_path: Path, rdata: Path, evil: str) -> None:
    marker = rdata / "pickle_payload_ran"
    model = tmp_path / evil
    shutil.copyfile(rdata / evil, model)
    common = (
        "--input-shape",
        "1,1,8,8",
        "--calibration",
        rdata / "cnn_calib.npy",
        "--model-class",
        f"{DATA / 'small_cnn.py'}:SmallCNN",
    )
    refused = run_cli("convert", model, "--out", tmp_path / "out", *common)  # fmt: skip
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert refused.stderr.startswith("Error: ") and refused.stderr.count("Error:") == 1
    assert "would run arbitrary code" in refused.stderr and "--trust-pickle" in refused.stderr
    assert not marker.exists(), "code from the model file ran although trust was not given"
    print(refused.stderr)
    # Positive control: with trust the payload does run (so the refusal above is what stopped
    # it), and its result is still refused as not being a model.
    trusted = run_cli("convert", model, "--out", tmp_path / "out", *common, "--trust-pickle")
    assert trusted.returncode == 1 and "Traceback" not in trusted.stderr, trusted.stderr
    assert marker.exists(), trusted.stdout + trusted.stderr
    marker.unlink()
