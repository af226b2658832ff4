"""Test data made from scikit-learn's bundled 8x8 digits (digits.npz, BSD licence).

Run with the converter environment's python (needs numpy, and torch for the
small CNN): python make_data.py OUT_DIR [what ...]
  mnist32   LeNet inputs: digits scaled into 32x32 like MNIST, normalized
  mnist28   the same at 28x28, 0..255 (onnx mnist-8), and flattened 784 (MLP)
  cnn       a small CNN trained on the 8x8 digits, saved as .pth, .pt and .pt2
  bad       broken calibration files (NaN, wrong layout, text, too few)
"""

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def digits():
    d = np.load(HERE / "digits.npz")
    return d["images"].astype(np.float32) / 16.0, d["target"].astype(np.int64)


def scaled(images, inner, outer):
    """Each 8x8 digit resized (bilinear) to inner x inner, centred in outer x outer."""
    n = len(images)
    src = np.linspace(0, 7, inner)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, 7)
    f = (src - i0).astype(np.float32)
    rows = images[:, i0, :] * (1 - f)[None, :, None] + images[:, i1, :] * f[None, :, None]
    big = rows[:, :, i0] * (1 - f)[None, None, :] + rows[:, :, i1] * f[None, None, :]
    out = np.zeros((n, outer, outer), np.float32)
    o = (outer - inner) // 2
    out[:, o : o + inner, o : o + inner] = big
    return out


def mnist32(out):
    x, y = digits()
    img = scaled(x, 22, 32)[:, None]
    img = (img - 0.1307) / 0.3081
    np.save(out / "lenet_calib.npy", img[:200])
    np.savez(out / "lenet_val.npz", x=img[1500:1700], y=y[1500:1700])


def mnist28(out):
    x, y = digits()
    img = scaled(x, 20, 28)[:, None]
    # mnist-8 (model zoo) takes raw 0..255 pixels, like its reference test sets.
    np.save(out / "mnist28_calib.npy", img[:100] * 255.0)
    np.savez(out / "mnist28_val.npz", x=img[1500:1600] * 255.0, y=y[1500:1600])
    flat = (img.reshape(len(img), 784) - 0.1307) / 0.3081
    np.save(out / "mnist784_calib.npy", flat[:100])
    np.savez(out / "mnist784_val.npz", x=flat[1500:1600], y=y[1500:1600])


def cnn(out):
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from small_cnn import SmallCNN

    x, y = digits()
    xt, yt = torch.from_numpy(x[:, None]), torch.from_numpy(y)
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _epoch in range(15):
        for i in range(0, 1400, 64):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xt[i : i + 64]), yt[i : i + 64])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(xt[1400:]).argmax(1) == yt[1400:]).float().mean().item()
    print(f"small CNN float accuracy on held-out digits: {acc * 100:.1f} %")
    torch.save(model.state_dict(), out / "cnn.pth")
    example = torch.zeros(1, 1, 8, 8)
    torch.jit.save(torch.jit.trace(model, example), str(out / "cnn.pt"))
    torch.export.save(torch.export.export(model, (example,)), str(out / "cnn.pt2"))
    np.save(out / "cnn_calib.npy", x[:200, None])
    np.savez(out / "cnn_val.npz", x=x[1400:1600, None], y=y[1400:1600])


def bad(out):
    x, _ = digits()
    good = x[:50, None]
    nan = good.copy()
    nan[3, 0, 2, 2] = np.nan
    np.save(out / "bad_nan.npy", nan)
    np.save(out / "bad_nhwc.npy", np.moveaxis(good, 1, -1))
    np.save(out / "bad_few.npy", good[:3])
    np.save(out / "bad_text.npy", np.array(["a", "b"]))
    (out / "empty_dir").mkdir(exist_ok=True)


def unsupported(out):
    """An ONNX model with two Tile nodes (TILE has no TFLite Micro kernel) around a Relu."""
    import onnx
    from onnx import TensorProto, helper

    reps = helper.make_tensor("reps", TensorProto.INT64, [2], [1, 2])
    nodes = [
        helper.make_node("Tile", ["x", "reps"], ["t1"], name="tile_a"),
        helper.make_node("Relu", ["t1"], ["r"], name="relu"),
        helper.make_node("Tile", ["r", "reps"], ["y"], name="tile_b"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiles",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [reps],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, out / "tiles.onnx")
    rng = np.random.default_rng(0)
    np.save(out / "tiles_calib.npy", rng.standard_normal((20, 4)).astype(np.float32))


class _Payload:
    """Unpickling this creates the file named by MARKER: proof that pickle code ran."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def evil(out):
    import torch

    _Payload.marker = str(out / "pickle_payload_ran")
    torch.save({"model": _Payload()}, out / "evil.pt")


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:] or ["mnist32", "mnist28", "cnn", "bad", "unsupported", "evil"]:
        globals()[name](target)
