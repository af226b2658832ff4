"""Bad model files for the reliability tests. Run with the converter environment's python:

    python make_models.py GOOD.pt2 GOOD.tflite OUT_DIR MARKER

writes OUT_DIR/evil.pth (a torch.save pickle with a payload), OUT_DIR/evil.pt2 (GOOD.pt2
with one weight re-marked as pickled and replaced by the payload) and
OUT_DIR/unsupported.tflite (GOOD.tflite with every operator code changed to
EMBEDDING_LOOKUP_SPARSE, which TFLite Micro has no kernel for). Unpickling either payload
creates the file MARKER: proof that code ran.
"""

import io
import json
import sys
import zipfile
from pathlib import Path


class Payload:
    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def evil_pth(out: Path) -> None:
    import torch

    torch.save({"model": Payload()}, out / "evil.pth")


def evil_pt2(good: Path, out: Path) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(Payload(), buf)
    with zipfile.ZipFile(good) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    pickled = ""
    for i, (info, data) in enumerate(items):
        if info.filename.endswith("data/weights/model_weights_config.json"):
            config = json.loads(data)
            first = next(iter(config["config"].values()))
            first["use_pickle"] = True
            items[i] = (info, json.dumps(config).encode())
            pickled = info.filename.rsplit("/", 1)[0] + "/" + first["path_name"]
    with zipfile.ZipFile(out / "evil.pt2", "w") as dst:
        for info, data in items:
            dst.writestr(info, buf.getvalue() if info.filename == pickled else data)


def unsupported_tflite(good: Path, out: Path) -> None:
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.ModelT.InitFromPackedBuf(good.read_bytes(), 0)
    for code in model.operatorCodes:
        code.builtinCode = code.deprecatedBuiltinCode = 33  # EMBEDDING_LOOKUP_SPARSE
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    (out / "unsupported.tflite").write_bytes(builder.Output())


if __name__ == "__main__":
    good_pt2, good_tflite = Path(sys.argv[1]), Path(sys.argv[2])
    target, marker = Path(sys.argv[3]), sys.argv[4]
    target.mkdir(parents=True, exist_ok=True)
    Payload.marker = marker
    Payload.__module__ = "builtins"  # nothing to import when loading: the payload alone runs
    evil_pth(target)
    evil_pt2(good_pt2, target)
    unsupported_tflite(good_tflite, target)
