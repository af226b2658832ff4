"""Model file formats: which suffixes the plugin reads, what a file's first bytes say it
is, and the checks that refuse a file before any conversion (config and CLI use these).

Standard library only: the SCons side imports it on every build.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelFileError

TORCH_SUFFIXES = (".pth", ".pt", ".pt2")
KERAS_SUFFIXES = (".h5", ".keras")
# Quantized here with TensorFlow's own quantizer (a .tflite only when its input is float).
TF_FLOAT_SUFFIXES = (".tflite", *KERAS_SUFFIXES)
MODEL_SUFFIXES = (*TORCH_SUFFIXES, ".onnx", ".tflite", *KERAS_SUFFIXES)
KNOWN_UNSUPPORTED = {
    ".pb": "a TensorFlow graph",
    ".safetensors": "a safetensors weight file",
    ".bin": "a raw weight file",
}
# Found in models/ they are refused with a hint rather than silently skipped.
REFUSED_IN_MODELS_DIR = (".pb", ".safetensors")

# What a file's first bytes say it is: (description, suffixes that may hold it).
_CONTENT_KINDS = {
    "tflite": ("a TFLite flatbuffer", (".tflite",)),
    "zip": (
        "a zip archive as written by torch.save / torch.jit.save / torch.export.save or Keras",
        (*TORCH_SUFFIXES, ".keras"),
    ),
    "pickle": ("a Python pickle (legacy torch.save)", (".pth", ".pt")),
    "hdf5": ("an HDF5 file (a Keras .h5 model)", (".h5",)),
    "onnx": ("an ONNX model", (".onnx",)),
}
_ONNX_SECOND_FIELDS = (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42)  # producer, graph, ...


SAVED_MODEL_FILE = "saved_model.pb"


def is_saved_model(path: Path) -> bool:
    """A TensorFlow SavedModel: a folder holding saved_model.pb (quantized like Keras)."""
    return path.is_dir() and (path / SAVED_MODEL_FILE).is_file()


def check_suffix(path: Path, shown: str) -> None:
    """Refuse a file whose extension names a format the plugin does not read."""
    if is_saved_model(path):
        return
    suffix = path.suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return
    what = KNOWN_UNSUPPORTED.get(suffix, f"a `{suffix or 'extension-less'}` file")
    raise ModelFileError(
        f"{shown} is {what}: an unsupported model format, pio-tinyml does not read it.",
        "Supported: .pth/.pt (PyTorch), .pt2 (torch.export), .onnx, .tflite (int8 or float), "
        ".h5/.keras (Keras). Export the model to one of these (a TensorFlow graph: to ONNX "
        "with tf2onnx) and use that file.",
    )


def sniff_format(head: bytes) -> str:
    """The kind of model the first bytes show (a key of _CONTENT_KINDS), "" if unknown."""
    if len(head) >= 8 and head[4:8] == b"TFL3":
        return "tflite"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) >= 3 and head[0] == 0x08 and 1 <= head[1] <= 20 and head[2] in _ONNX_SECOND_FIELDS:
        return "onnx"
    return ""


def check_content(model: Path) -> None:
    """Refuse a file whose content is another format than its extension says."""
    with model.open("rb") as handle:
        head = handle.read(16)
    kind = sniff_format(head)
    if not kind:
        return  # unknown content: the format's own reader reports what is wrong
    what, suffixes = _CONTENT_KINDS[kind]
    if model.suffix in suffixes:
        if kind == "tflite":
            from ..analysis.tflite_reader import parse_tflite

            parse_tflite(model.read_bytes(), str(model))  # damaged / truncated -> error
        return
    if suffixes:
        hint = (
            f"Rename it to {model.stem}{'/'.join(suffixes)} (whichever it is), or give "
            "the file that was meant."
        )
    else:
        hint = "Give the model file that was meant, with its own extension."
    raise ModelFileError(f"{model} is named {model.suffix} but its content is {what}.", hint)


def is_float_tflite(model: Path) -> bool:
    """True when the .tflite's input is float32: a float model pio-tinyml quantizes."""
    from ..analysis.tflite_reader import parse_tflite

    parsed = parse_tflite(model.read_bytes(), str(model))
    return bool(parsed.inputs) and parsed.tensor(parsed.inputs[0]).dtype == "float32"


def check_model_file(model: Path) -> None:
    """Everything that can be refused about a model file without converting it."""
    if model.is_dir():
        if is_saved_model(model):
            return
        raise ModelFileError(
            f"{model} is a folder without {SAVED_MODEL_FILE}: not a TensorFlow SavedModel.",
            "Give the SavedModel folder itself (tf.saved_model.save / model.export), or a "
            "model file.",
        )
    if not model.is_file():
        raise ModelFileError(f"Model file {model} not found.", "Check the path.")
    check_suffix(model, str(model))
    if model.stat().st_size == 0:
        raise ModelFileError(
            f"{model} is empty (0 bytes).",
            "The file was not written completely; export the model again.",
        )
    check_content(model)
