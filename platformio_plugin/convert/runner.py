"""Run one conversion step in the converter environment (standard library only).

Each heavy tool step (torch export, onnx2tf + TFLiteConverter, TFLM checks, the
arena search) runs in its own ``python -m platformio_plugin.convert.worker``
process, so a crash (a signal such as SIGFPE or SIGSEGV) names the step that
crashed. A worker can be started early with ``preload``: it imports its tools
(TensorFlow takes seconds) while earlier steps run, then waits for its request.
The worker answers in ``result.json``: either ``{"result": ...}`` or
``{"error": {"kind": ..., "message": ..., "hint": ...}}``, which is raised here
again as the same class from :mod:`platformio_plugin.errors`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Optional

from ..errors import ProcessError
from .protocol import error_from_dict

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
LOG_TAIL_LINES = 15


def worker_environment(python: Path) -> dict[str, str]:
    env = dict(os.environ)
    parent = str(PACKAGE_PARENT)
    env["PYTHONPATH"] = parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # onnx2tf runs `onnxsim` as a command and silently skips it when not found.
    env["PATH"] = str(python.parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONHASHSEED"] = "0"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    env["TF_DETERMINISTIC_OPS"] = "1"
    env["CUDA_VISIBLE_DEVICES"] = "-1"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONSTARTUP", None)
    return env


def _children_peak_rss_mb() -> float:
    """Peak resident memory of finished child processes (POSIX only; 0 elsewhere)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"{returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            return str(returncode)
    return str(returncode)


@dataclass
class Worker:
    """A started worker process and the files of its step."""

    tag: str
    name: str
    cmd: list[str]
    req_path: Path
    res_path: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    log_file: IO[str]
    started: float = field(default_factory=time.monotonic)
    waiting: bool = False  # preloaded: waits for "go" on stdin


def start_worker(
    python: Path,
    tag: str,
    work_dir: Path,
    *,
    step: str,
    request: Optional[dict[str, Any]] = None,
    preload: Optional[str] = None,
) -> Worker:
    """Start a worker for ``request`` now, or (``preload`` = the step's name, no request yet)
    one that imports that step's tools and waits for :func:`finish_worker` to send it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    req_path = work_dir / f"{tag}.request.json"
    res_path = work_dir / f"{tag}.result.json"
    log_path = work_dir / f"{tag}.log"
    res_path.unlink(missing_ok=True)
    if request is not None:
        req_path.write_text(json.dumps(request, indent=1, sort_keys=True))
    cmd = [str(python), "-m", "platformio_plugin.convert.worker"]
    if preload:
        cmd += ["--preload", preload]
    cmd += [str(req_path), str(res_path)]
    log_file = log_path.open("w")
    proc = subprocess.Popen(
        cmd,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.PIPE if preload else subprocess.DEVNULL,
        env=worker_environment(python),
        cwd=str(work_dir),
    )
    return Worker(tag, step, cmd, req_path, res_path, log_path, proc, log_file,
                  waiting=bool(preload))  # fmt: skip


def cancel_worker(worker: Worker) -> None:
    """Stop a worker whose answer is no longer wanted (an earlier step failed)."""
    if worker.proc.poll() is None:
        worker.proc.kill()
        worker.proc.wait()
    worker.log_file.close()


def finish_worker(
    worker: Worker,
    request: Optional[dict[str, Any]] = None,
    *,
    timeout: Optional[float] = None,
) -> dict[str, Any]:
    """Send a preloaded worker its ``request``, wait for the answer and return the result
    (plus ``"seconds"``, from the request to the answer, and ``"peak_rss_mb"``)."""
    if worker.waiting:
        assert request is not None, "a preloaded worker needs its request"
        worker.req_path.write_text(json.dumps(request, indent=1, sort_keys=True))
        worker.started = time.monotonic()
        try:
            assert worker.proc.stdin is not None
            worker.proc.stdin.write(b"go\n")
            worker.proc.stdin.close()
        except OSError:
            pass  # it died while preloading: its exit code and log tell why
    try:
        returncode = worker.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.proc.kill()
        worker.proc.wait()
        returncode = -int(signal.SIGKILL)
        worker.log_file.write(f"\n[pio-tinyml] step timed out after {timeout} s\n")
    finally:
        worker.log_file.close()
    seconds = time.monotonic() - worker.started
    peak_mb = _children_peak_rss_mb()
    answer: Optional[dict[str, Any]] = None
    if worker.res_path.is_file():
        try:
            answer = json.loads(worker.res_path.read_text())
        except ValueError:
            answer = None
    if answer is not None and "error" in answer:
        raise error_from_dict(answer["error"])
    if returncode != 0 or answer is None or "result" not in answer:
        raise ProcessError(
            worker.name,
            worker.cmd,
            returncode if returncode != 0 else 1,
            _tail(worker.log_path),
            worker.log_path,
            hint=f"Return code {_describe(returncode)}. This is a crash inside the conversion "
            "tools, not a problem pio-tinyml detected: please report it with the log above.",
        )
    result: dict[str, Any] = dict(answer["result"])
    result.setdefault("seconds", round(seconds, 3))
    result.setdefault("peak_rss_mb", round(answer.get("peak_rss_mb", peak_mb), 1))
    return result


def run_worker(
    python: Path,
    request: dict[str, Any],
    work_dir: Path,
    *,
    step: Optional[str] = None,
    timeout: Optional[float] = None,
) -> dict[str, Any]:
    """Run ``request["step"]`` in a fresh worker process and return its result.

    The returned dict carries the worker's result plus ``"seconds"`` (wall
    time) and ``"peak_rss_mb"`` (peak resident memory of the step's process).
    """
    tag = str(request.get("tag") or request.get("step", "worker"))
    name = step or str(request.get("step", "worker"))
    worker = start_worker(python, tag, work_dir, step=name, request=request)
    return finish_worker(worker, timeout=timeout)
