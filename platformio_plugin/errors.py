"""One exception class per failure kind.

Core modules raise these; only the SCons boundary (``scons/``) and the CLI turn
them into a single ``Error: ...`` line. Every message says what was found,
where (file, option, env) and how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence


class TinyMLError(Exception):
    """Root of every error the plugin reports to a user."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The user-facing text: the message, then the fix on an indented line."""
        if not self.hint:
            return self.message
        return f"{self.message}\n       {self.hint}"


class ConfigError(TinyMLError):
    """A `custom_tinyml_*` option is unknown, malformed or inconsistent."""


class ModelFileError(TinyMLError):
    """A model file is missing, empty, corrupt or of an unsupported format."""


class UntrustedModelError(ModelFileError):
    """A model would need unpickling (arbitrary code) and trust was not given."""


class ModelClassError(TinyMLError):
    """The nn.Module class for a state_dict is missing, broken or does not match."""


class CalibrationDataError(TinyMLError):
    """Calibration / validation data is missing, misshaped or not finite."""


class ConversionError(TinyMLError):
    """A conversion stage produced a wrong or unusable model."""


class AccuracyError(ConversionError):
    """The int8 model lost more accuracy than the configured limit allows."""


class UnsupportedOpsError(TinyMLError):
    """The model uses ops TFLite Micro has no kernel for; lists every offender."""

    def __init__(self, model: str, offenders: Sequence[tuple[str, str]], hint: str = "") -> None:
        lines = ", ".join(f"{op} (node {node})" for node, op in offenders)
        super().__init__(f"{model} uses ops TFLite Micro does not support: {lines}", hint)
        self.offenders = list(offenders)


class AotUnsupportedError(TinyMLError):
    """The ahead-of-time generator has no code for some nodes of a model; lists every one."""

    def __init__(self, model: str, offenders: Sequence[tuple[int, str, str]]) -> None:
        lines = ", ".join(f"{op} (node {node}: {why})" for node, op, why in offenders)
        super().__init__(
            f"{model}: custom_tinyml_runtime = aot cannot generate code for {lines}",
            "Use the interpreter runtime for this model (custom_tinyml_runtime = tflm).",
        )
        self.offenders = list(offenders)


class BudgetError(TinyMLError):
    """Model flash or arena RAM exceeds what the selected board has."""


class ProbeError(TinyMLError):
    """The model does not run on the env's own core: AllocateTensors or Invoke failed,
    faulted, hung, or its outputs differ from TFLM's interpreter on the host."""


class SourcesError(TinyMLError):
    """TFLM / CMSIS-NN sources are missing, of another version or fail their checksum."""


class BuildFolderError(TinyMLError):
    """A file or folder under the build folder cannot be written (permissions, read-only
    mount, full disk)."""


class ConverterEnvironmentError(TinyMLError):
    """The isolated converter environment could not be created or used."""


class ProcessError(TinyMLError):
    """A subprocess failed: carries the command, return code and tail of its log."""

    def __init__(
        self,
        step: str,
        command: Sequence[str],
        returncode: int,
        log_tail: str,
        log_path: Optional[Path] = None,
        hint: str = "",
    ) -> None:
        where = f" (full log: {log_path})" if log_path else ""
        tail = "\n".join("       | " + line for line in log_tail.strip().splitlines()[-15:])
        msg = f"{step} failed with return code {returncode}{where}"
        msg += f"\n       command: {' '.join(command)}"
        if tail:
            msg += "\n" + tail
        super().__init__(msg, hint)
        self.step = step
        self.command = list(command)
        self.returncode = returncode
        self.log_tail = log_tail
        self.log_path = log_path
