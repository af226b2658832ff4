"""Supply chain additions to tests/unit/test_sources.py: every archive pinned, a checksum
mismatch named as such, the override a version refusal names exists
(tests/integration/test_sources_refused.py: the same refusal through `pio run`)."""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from pathlib import Path
from typing import Iterator

import pytest

from platformio_plugin.errors import SourcesError
from platformio_plugin.options import OPTIONS_BY_KEY
from platformio_plugin.tflm import sources as src
from platformio_plugin.tflm.download import download_archive


@pytest.mark.unit
def test_every_archive_is_pinned_by_url_and_checksum() -> None:
    for pin in src.PINS:
        assert pin.url.startswith("https://github.com/"), pin
        assert pin.version in pin.url, pin  # the URL names the exact commit or tag
        if pin.key == "tflm":
            # TFLM publishes no checksum of its archive: the pin is the full commit.
            assert re.fullmatch(r"[0-9a-f]{40}", pin.version) and pin.checksum is None
        else:
            assert pin.checksum is not None and re.fullmatch(r"[0-9a-f]{32}", pin.checksum), pin


@pytest.fixture()
def server() -> Iterator[tuple[str, dict[str, bytes]]]:
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = files.get(self.path, b"")
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.unit
@pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)
def test_checksum_mismatch_names_the_archive_and_the_pin(
    server: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    base, files = server
    files["/tampered.zip"] = b"PK\x05\x06" + b"\0" * 18  # an empty zip: not the pinned bytes
    pin = src.Pin("cmsis_nn", "CMSIS-NN", "4ab83cc", base + "/tampered.zip",
                  "c960031e7d10cf31c477fb34ef460106", "test")  # fmt: skip
    with pytest.raises(SourcesError) as info:
        src.fetch_pin(pin, tmp_path / "cache", download_archive)
    text = info.value.render()
    assert pin.url in text and "checksum" in text.lower(), text
    assert pin.checksum in text and hashlib.md5(files["/tampered.zip"]).hexdigest() in text, text
    assert not (tmp_path / "cache" / "CMSIS-NN-4ab83cc").exists()
    print(text)


@pytest.mark.unit
def test_the_override_named_in_the_refusal_exists(tmp_path: Path) -> None:
    for pin in src.PINS:
        (tmp_path / ("tflite-micro-0123abcd" if pin.key == "tflm" else pin.folder)).mkdir()
    with pytest.raises(SourcesError) as info:
        src.resolve_sources(kernels="cmsis-nn", option_dir=str(tmp_path), environ={})
    named = set(re.findall(r"custom_tinyml_\w+", info.value.hint))
    assert named and named <= set(OPTIONS_BY_KEY), named
