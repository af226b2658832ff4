"""Load calibration / validation data (.npy, .npz, CSV, image folder) as float32."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional

import numpy as np

from ...errors import CalibrationDataError
from ..calibcheck import check_labels, check_samples

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff"}
X_KEYS = ("x", "calibration", "samples", "data", "inputs", "specs")
Y_KEYS = ("y", "labels", "label", "targets")


def _bad(path: Path, what: str, hint: str) -> CalibrationDataError:
    return CalibrationDataError(f"{path}: {what}", hint)


def _load_npy(path: Path) -> np.ndarray:
    try:
        arr: np.ndarray = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise _bad(
            path,
            f"cannot be read without unpickling ({exc}).",
            "Save a plain numeric array: np.save(path, x.astype(np.float32)).",
        ) from None
    except (OSError, EOFError) as exc:
        raise _bad(
            path, f"is not a readable .npy file ({exc}).", "Save it with np.save(path, x)."
        ) from None
    return arr


def _load_npz(path: Path) -> tuple[np.ndarray, Optional[np.ndarray]]:
    try:
        npz = np.load(path, allow_pickle=False)
        keys = list(npz.keys())
        x_key = next((k for k in X_KEYS if k in keys), None)
        y_key = next((k for k in Y_KEYS if k in keys), None)
        if x_key is None:
            rest = [k for k in keys if k != y_key]
            if len(rest) != 1:
                raise _bad(
                    path,
                    f"has arrays {keys}; cannot tell which holds the samples.",
                    "Name the samples x (and labels y): np.savez(path, x=..., y=...).",
                )
            x_key = rest[0]
        x = npz[x_key]
        y = npz[y_key] if y_key else None
    except CalibrationDataError:
        raise
    except Exception as exc:
        raise _bad(
            path,
            f"is not a readable .npz file ({type(exc).__name__}: {exc}).",
            "Save it with np.savez(path, x=samples, y=labels).",
        ) from None
    return x, y


def _load_csv(path: Path) -> np.ndarray:
    rows: list[list[float]] = []
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            cells = [c.strip() for c in row if c.strip()]
            if not cells:
                continue
            try:
                rows.append([float(c) for c in cells])
            except ValueError:
                if lineno == 1 and not rows:
                    continue  # header line
                raise _bad(
                    path,
                    f"line {lineno} has a non-numeric value: {row!r}.",
                    "Each line must hold one flattened sample of numbers.",
                ) from None
    if not rows:
        raise _bad(path, "holds no samples.", "Each line must hold one flattened sample.")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise _bad(
            path,
            f"lines have different lengths {sorted(widths)}.",
            "Each line must hold one flattened sample of the same size.",
        )
    return np.asarray(rows, dtype=np.float64)


def _load_images(folder: Path, shape: tuple[int, ...]) -> np.ndarray:
    import cv2

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise _bad(
            folder,
            "is an empty folder (no .png/.jpg/.bmp/.pgm images).",
            "Put 100-500 representative input images there, or give a .npy file.",
        )
    if len(shape) != 4:
        raise _bad(
            folder,
            f"holds images but the model input {tuple(shape)} is not an image.",
            "Give the samples as .npy in the model's input shape.",
        )
    chw = shape[1] in (1, 3)
    c, h, w = (shape[1], shape[2], shape[3]) if chw else (shape[3], shape[1], shape[2])
    out = []
    for f in files:
        img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE if c == 1 else cv2.IMREAD_COLOR)
        if img is None:
            raise _bad(f, "is not a readable image.", "Remove it or replace it by a valid image.")
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        img = img[:, :, None] if c == 1 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        arr = img.astype(np.float32) / 255.0
        out.append(arr.transpose(2, 0, 1) if chw else arr)
    return np.stack(out)


def _measure(arr: np.ndarray) -> tuple[str, str, int]:
    kind = arr.dtype.kind
    nonfinite = int(np.count_nonzero(~np.isfinite(arr))) if kind == "f" else 0
    return kind, str(arr.dtype), nonfinite


def load_samples(
    path: Path, shape: tuple[int, ...], min_samples: int, role: str = "calibration"
) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(x as float32 of shape (N, *shape[1:]), labels or None), validated."""
    if not path.exists():
        raise _bad(path, f"{role} data not found.", "Check the path.")
    labels = None
    if path.is_dir():
        x = _load_images(path, shape)
    elif path.stat().st_size == 0:
        raise _bad(path, "is an empty (0-byte) file.", f"Give real {role} samples.")
    elif path.suffix == ".npy":
        x = _load_npy(path)
    elif path.suffix == ".npz":
        x, labels = _load_npz(path)
    elif path.suffix in (".csv", ".txt"):
        x = _load_csv(path)
        per = int(np.prod(shape[1:]))
        if x.shape[1] != per:
            raise _bad(
                path,
                f"lines have {x.shape[1]} values, expected {per} "
                f"(one flattened sample of shape {tuple(shape[1:])}).",
                "Each line must hold one flattened sample.",
            )
        x = x.reshape((x.shape[0], *shape[1:]))
    else:
        raise _bad(
            path,
            f"has unsupported suffix {path.suffix!r}.",
            "Use .npy, .npz (x, y), .csv or a folder of images.",
        )
    kind, name, nonfinite = _measure(x)
    n = check_samples(str(path), x.shape, kind, name, nonfinite, shape, min_samples, role=role)
    x = np.asarray(x, dtype=np.float32).reshape((n, *shape[1:]))
    if labels is not None:
        if labels.ndim == 2 and labels.shape[1] > 1:
            labels = labels.argmax(axis=1)
        labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
        check_labels(str(path), n, labels.shape)
        labels = labels.astype(np.int64)
    return x, labels
