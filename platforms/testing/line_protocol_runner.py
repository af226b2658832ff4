"""PlatformIO `test_framework = custom` runner that needs no registry package.

Used by the examples and by the test suites the plugin generates. A project's
`test/test_custom_runner.py` imports `CustomTestRunner` from this module.

Line protocol: the test program writes one line per test case to stdout,
    PASS <name>
    FAIL <name>: <reason>
    SKIP <name>: <reason>
then returns from main: 0 if it ran to the end, nonzero otherwise. Every other line is shown
as-is. A nonzero exit code (e.g. 1 after a HardFault on the emulated boards), a timeout or a
run that reports no case at all is an error of the suite.

How to run the program comes from `<build_dir>/<env>/exec.json` ({"command": [...],
"timeout": seconds}), written by the local dev-platforms' build scripts: QEMU for the
emulated Cortex-M boards, the program itself on the host.
"""

import json
import os
import re
import subprocess

import click
from platformio.exception import ReturnErrorCode
from platformio.test.exception import UnitTestError, UnitTestSuiteError
from platformio.test.result import TestCase, TestStatus
from platformio.test.runners.base import TestRunnerBase

LINE_RE = re.compile(r"^(?P<status>PASS|FAIL|SKIP) (?P<name>[^:]+?)(?:: (?P<message>.*))?$")
STATUSES = {"PASS": TestStatus.PASSED, "FAIL": TestStatus.FAILED, "SKIP": TestStatus.SKIPPED}


def parse_line(line):
    """Return (status, name, message) for a protocol line, None for any other line."""
    match = LINE_RE.match(line.rstrip("\r\n"))
    if not match:
        return None
    return STATUSES[match["status"]], match["name"].strip(), match["message"]


class CustomTestRunner(TestRunnerBase):
    def stage_building(self):
        if self.options.without_building:
            return None
        click.secho("Building...", bold=True)
        targets = ["__test"]
        if self.platform.is_embedded():
            targets.append("checkprogsize")
        try:
            return self.run_project_targets(targets)
        except ReturnErrorCode as exc:
            raise UnitTestSuiteError(
                "Building stage has failed, see errors above. "
                "Use `pio test -vvv` option to enable verbose output."
            ) from exc

    def stage_uploading(self):
        return None  # the testing stage runs the program (in the emulator or on the host)

    def stage_testing(self):
        if self.options.without_testing:
            return None
        click.secho("Testing...", bold=True)
        env_name = self.test_suite.env_name
        build_dir = self.project_config.get("platformio", "build_dir")
        exec_path = os.path.join(build_dir, env_name, "exec.json")
        if not os.path.isfile(exec_path):
            raise UnitTestError(f"{exec_path} not found: was the program built for {env_name}?")
        with open(exec_path, encoding="utf8") as fp:
            spec = json.load(fp)
        try:
            result = subprocess.run(
                spec["command"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=spec["timeout"],
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            self._report_lines(exc.output or b"")
            raise UnitTestError(f"the program did not exit within {spec['timeout']} s") from exc
        cases = self._report_lines(result.stdout)
        if result.returncode:
            raise UnitTestError(f"the program exited with code {result.returncode}")
        if not cases:
            raise UnitTestError("the program reported no test case (PASS/FAIL/SKIP lines)")
        return None

    def _report_lines(self, output):
        cases = 0
        text = output.decode("utf8", "replace") if isinstance(output, bytes) else output
        for line in text.splitlines():
            self.on_testing_line_output(line + "\n")
            parsed = parse_line(line)
            if parsed is None:
                continue
            status, name, message = parsed
            self.test_suite.add_case(
                TestCase(name=name, status=status, message=message, stdout=line)
            )
            cases += 1
        return cases
