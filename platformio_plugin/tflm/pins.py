"""The upstream trees pio-tinyml builds against, each at one fixed version: the one
place their commits, archive URLs and checksums are written.

Hash provenance: GitHub builds its archives on the fly, so their bytes cannot be
reproduced here. The checksums below are the MD5 sums TFLM itself pins for the same
GitHub ``.zip`` URLs in ``tensorflow/lite/micro/tools/make/third_party_downloads.inc`` and
``ext_libs/{cmsis,cmsis_nn}_download.sh`` at the pinned TFLM commit (MD5 is what upstream
publishes; no SHA-256 exists upstream for these archives). TFLM pins nothing for its own
archive, so that one has no checksum: it is fixed by the commit in its URL and folder name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Mapping, Optional, Sequence

TFLM_COMMIT: Final = "90b983c2b3f1480642e040bbd2ddb37b998f3424"


@dataclass(frozen=True)
class Pin:
    """One upstream tree at a fixed version."""

    key: str  # field name in SourceTrees
    project: str  # folder prefix, e.g. "tflite-micro"
    version: str  # commit or tag version; folder is f"{project}-{version}"
    url: str  # GitHub archive URL (the one TFLM's own scripts use where they have one)
    checksum: Optional[str]  # MD5 pinned by TFLM for that URL, see module docstring
    checksum_source: str  # where the checksum (or the pin) comes from

    @property
    def folder(self) -> str:
        return f"{self.project}-{self.version}"


_MAKE: Final = "tensorflow/lite/micro/tools/make/"
PINS: Final[tuple[Pin, ...]] = (
    Pin("tflm", "tflite-micro", TFLM_COMMIT,
        f"https://github.com/tensorflow/tflite-micro/archive/{TFLM_COMMIT}.zip",
        None, "pio-tinyml's own pin (TFLM publishes no checksum of its archive)"),
    Pin("cmsis_nn", "CMSIS-NN", "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae",
        "https://github.com/ARM-software/CMSIS-NN/archive/4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae.zip",
        "c960031e7d10cf31c477fb34ef460106", _MAKE + "ext_libs/cmsis_nn_download.sh"),
    Pin("cmsis", "CMSIS_6", "5782d6f8057906d360f4b95ec08a2354afe5c9b9",
        "https://github.com/ARM-software/CMSIS_6/archive/5782d6f8057906d360f4b95ec08a2354afe5c9b9.zip",
        "563e7c6465f63bdc034359e9b536b366", _MAKE + "ext_libs/cmsis_download.sh"),
    Pin("flatbuffers", "flatbuffers", "25.9.23",
        "https://github.com/google/flatbuffers/archive/refs/tags/v25.9.23.zip",
        "023eca1e211d64007124420cd6be29c7", _MAKE + "third_party_downloads.inc"),
    Pin("gemmlowp", "gemmlowp", "719139ce755a0f31cbf1c37f7f98adcc7fc9f425",
        "https://github.com/google/gemmlowp/archive/719139ce755a0f31cbf1c37f7f98adcc7fc9f425.zip",
        "7e8191b24853d75de2af87622ad293ba", _MAKE + "third_party_downloads.inc"),
    Pin("ruy", "ruy", "d37128311b445e758136b8602d1bbd2a755e115d",
        "https://github.com/google/ruy/archive/d37128311b445e758136b8602d1bbd2a755e115d.zip",
        "abf7a91eb90d195f016ebe0be885bb6e", _MAKE + "third_party_downloads.inc"),
)  # fmt: skip
PINS_BY_KEY: Final[Mapping[str, Pin]] = {p.key: p for p in PINS}
CMSIS_KEYS: Final = ("cmsis_nn", "cmsis")


def required_pins(kernels: str) -> list[Pin]:
    """The trees a build with these kernels needs."""
    return [p for p in PINS if kernels == "cmsis-nn" or p.key not in CMSIS_KEYS]


def layout_text(pins: Sequence[Pin] = PINS) -> str:
    """The expected folder layout, for messages."""
    return ", ".join(f"{p.folder}/" for p in pins)
