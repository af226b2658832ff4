"""Supply chain additions to tests/tflm/test_sources.py: every archive pinned, a checksum
mismatch named as such, another version of a local source tree refused through `pio run`."""

from __future__ import annotations

import hashlib
import http.server
import re
import shutil
import threading
from pathlib import Path
from typing import Iterator

import pytest

from platformio_plugin.errors import SourcesError
from platformio_plugin.options import OPTIONS_BY_KEY
from platformio_plugin.tflm import sources as src

from .support import assert_refused, env_section, make_project, run, state_files


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
    tflm_build = pytest.importorskip("platformio_plugin.scons.tflm_build")
    base, files = server
    files["/tampered.zip"] = b"PK\x05\x06" + b"\0" * 18  # an empty zip: not the pinned bytes
    pin = src.Pin("cmsis_nn", "CMSIS-NN", "4ab83cc", base + "/tampered.zip",
                  "c960031e7d10cf31c477fb34ef460106", "test")  # fmt: skip
    with pytest.raises(SourcesError) as info:
        src.fetch_pin(pin, tmp_path / "cache", tflm_build.platformio_downloader)
    text = info.value.render()
    assert pin.url in text and "checksum" in text.lower(), text
    assert pin.checksum in text and hashlib.md5(files["/tampered.zip"]).hexdigest() in text, text
    assert not (tmp_path / "cache" / "CMSIS-NN-4ab83cc").exists()
    print(text)


@pytest.mark.integration
@pytest.mark.usefixtures("pio_ready")
def test_local_sources_of_another_version_refused_by_the_build(
    tmp_path: Path, shared_models: Path
) -> None:
    sources = tmp_path / "sources"
    for pin in src.PINS:
        folder = "tflite-micro-0123abcd" if pin.key == "tflm" else pin.folder
        (sources / folder).mkdir(parents=True)
    project = tmp_path / "p"
    (project / "models").mkdir(parents=True)
    shutil.copyfile(shared_models / "tflm_hello_world/hello_world_int8.tflite",
                    project / "models/net.tflite")  # fmt: skip
    make_project(project, [env_section("host", f"custom_tinyml_sources_dir = {sources}",
                                       runtime="tflm")])  # fmt: skip
    proc = run(project, "host")
    message = assert_refused(proc, "tflite-micro-0123abcd/", src.TFLM_COMMIT, str(sources))
    assert "Compiling .pio/build/host/tflm" not in proc.stdout
    assert state_files(project)  # the model was converted and generated before the refusal
    assert "custom_tinyml_allow_sources_mismatch = yes" in message


@pytest.mark.unit
def test_the_override_named_in_the_refusal_exists(tmp_path: Path) -> None:
    for pin in src.PINS:
        (tmp_path / ("tflite-micro-0123abcd" if pin.key == "tflm" else pin.folder)).mkdir()
    with pytest.raises(SourcesError) as info:
        src.resolve_sources(kernels="cmsis-nn", option_dir=str(tmp_path), environ={})
    named = set(re.findall(r"custom_tinyml_\w+", info.value.hint))
    assert named and named <= set(OPTIONS_BY_KEY), named
