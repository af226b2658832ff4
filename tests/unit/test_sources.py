from __future__ import annotations

import hashlib
import http.server
import io
import threading
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from platformio_plugin.errors import SourcesError
from platformio_plugin.tflm import flatbuffers_patch
from platformio_plugin.tflm import sources as src
from platformio_plugin.tflm.download import download_archive


def populate(root: Path, *, skip: tuple[str, ...] = (), tflm_version: str = "") -> None:
    for pin in src.PINS:
        if pin.key in skip:
            continue
        folder = (
            pin.folder if pin.key != "tflm" or not tflm_version else f"tflite-micro-{tflm_version}"
        )
        (root / folder).mkdir(parents=True)


@pytest.mark.unit
def test_lookup_order(tmp_path: Path) -> None:
    option, envdir, home = tmp_path / "opt", tmp_path / "env", tmp_path / "home"
    for root in (option, envdir, home):
        populate(root)
    environ = {src.ENV_VAR: str(envdir)}
    trees = src.resolve_sources(
        kernels="cmsis-nn", option_dir=str(option), environ=environ, home_dir=home
    )
    assert trees.tflm.parent == option
    trees = src.resolve_sources(kernels="cmsis-nn", environ=environ, home_dir=home)
    assert trees.tflm.parent == envdir
    trees = src.resolve_sources(kernels="reference", environ={}, home_dir=home)
    assert trees.tflm.parent == home and trees.cmsis_nn is None


@pytest.mark.unit
def test_other_version_is_refused_unless_accepted(tmp_path: Path) -> None:
    populate(tmp_path, tflm_version="0123abcd")
    with pytest.raises(SourcesError) as info:
        src.resolve_sources(kernels="reference", option_dir=str(tmp_path), environ={})
    text = info.value.render()
    assert "tflite-micro-0123abcd/" in text and src.TFLM_COMMIT in text
    assert "custom_tinyml_allow_sources_mismatch" in text
    trees = src.resolve_sources(
        kernels="reference", option_dir=str(tmp_path), environ={}, accept_other_version=True
    )
    assert trees.tflm.name == "tflite-micro-0123abcd"


@pytest.mark.unit
def test_missing_trees_are_named(tmp_path: Path) -> None:
    populate(tmp_path, skip=("cmsis_nn",))
    with pytest.raises(SourcesError, match="lacks CMSIS-NN-4ab83cc"):
        src.resolve_sources(kernels="cmsis-nn", option_dir=str(tmp_path), environ={})


@pytest.mark.unit
def test_no_sources_and_no_network_names_both_ways(tmp_path: Path) -> None:
    def offline(url: str, checksum: str | None, dest: Path) -> Path:
        raise OSError("Network is unreachable")

    with pytest.raises(SourcesError) as info:
        src.resolve_sources(
            kernels="reference", environ={}, home_dir=tmp_path / "none",
            cache_dir=tmp_path / "cache", download=offline,
        )  # fmt: skip
    text = info.value.render()
    assert "Network is unreachable" in text
    assert "~/.pio-tinyml/sources/{tflite-micro-" in text
    assert src.ENV_VAR in text and src.OPTION in text


@pytest.mark.unit
def test_patch_parser_applies_by_hunk_counts() -> None:
    patch = (
        "--- a/include/x.h\n+++ b/include/x.h\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n+B2\n c\n-- \n2.52.0\n"
    )
    hunks = flatbuffers_patch.parse_patch(patch)["include/x.h"]
    assert flatbuffers_patch.apply_hunks("a\nb\nc\n", hunks) == "a\nB\nB2\nc\n"
    with pytest.raises(SourcesError):
        flatbuffers_patch.apply_hunks("a\nX\nc\n", hunks, "include/x.h")


# --- PlatformIO's downloader against a local HTTP server -----------------------------------


def make_zip(folder: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{folder}/Source/a.c", "int a;\n")
    return buf.getvalue()


@pytest.fixture()
def server() -> Iterator[tuple[str, dict[str, bytes]]]:
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = files.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path.startswith("/slow/"):
                for i in range(0, len(body), 64):
                    self.wfile.write(body[i : i + 64])
                    self.wfile.flush()
                    time.sleep(0.01)
            else:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    httpd.shutdown()
    httpd.server_close()


# PlatformIO's FileDownloader leaves its HTTP session's socket to the garbage collector.
pio_socket_warnings = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


def pin_for(url: str, checksum: str | None) -> src.Pin:
    return src.Pin("cmsis_nn", "CMSIS-NN", "4ab83cc", url, checksum, "test")


@pytest.mark.unit
@pio_socket_warnings
@pytest.mark.parametrize("path", ["/good.zip", "/slow/good.zip"])
def test_download_good_archive(
    server: tuple[str, dict[str, bytes]], tmp_path: Path, path: str
) -> None:
    base, files = server
    files[path] = make_zip("CMSIS-NN-4ab83cc")
    pin = pin_for(base + path, hashlib.md5(files[path]).hexdigest())
    got = src.fetch_pin(pin, tmp_path / "cache", download_archive)
    assert got == tmp_path / "cache" / "CMSIS-NN-4ab83cc"
    assert (got / "Source" / "a.c").read_text() == "int a;\n"


@pytest.mark.unit
@pio_socket_warnings
def test_download_wrong_checksum_is_refused(
    server: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    base, files = server
    files["/bad.zip"] = make_zip("CMSIS-NN-4ab83cc")
    pin = pin_for(base + "/bad.zip", "0" * 32)
    with pytest.raises(SourcesError, match="checksum"):
        src.fetch_pin(pin, tmp_path / "cache", download_archive)
    assert not (tmp_path / "cache" / "CMSIS-NN-4ab83cc").exists()


@pytest.mark.unit
@pio_socket_warnings
def test_download_404(server: tuple[str, dict[str, bytes]], tmp_path: Path) -> None:
    base, _files = server
    with pytest.raises(SourcesError, match="404"):
        src.fetch_pin(pin_for(base + "/missing.zip", None), tmp_path / "c", download_archive)
