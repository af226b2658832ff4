"""Build script of the host platform (SConstruct run by PlatformIO).

Compiles with the system's gcc/g++. Targets `exec` and `upload` run the program; a nonzero
exit code fails the target. The run command is also written to $BUILD_DIR/exec.json for test
runners. Timeout: emulator.timeout of the board (seconds) or TINYML_EXEC_TIMEOUT.
"""

import json
import os
import subprocess
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

env.Replace(AR="gcc-ar", AS="as", CC="gcc", CXX="g++", RANLIB="gcc-ranlib", PROGNAME="program")
env.Append(CCFLAGS=["-O2", "-Wall"], LIBS=["m"])

target_bin = env.BuildProgram()


def exec_timeout():
    return float(os.environ.get("TINYML_EXEC_TIMEOUT") or board.get("emulator.timeout", 60))


def write_exec_file():
    path = env.subst(os.path.join("$BUILD_DIR", "exec.json"))
    data = {"command": [target_bin[0].get_abspath()], "timeout": exec_timeout()}
    text = json.dumps(data, indent=2) + "\n"
    old = None
    if os.path.isfile(path):
        with open(path, encoding="utf8") as fp:
            old = fp.read()
    if old != text:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf8") as fp:
            fp.write(text)


def run_program(target, source, env):  # pylint: disable=unused-argument
    command = [source[0].get_abspath()]
    timeout = exec_timeout()
    sys.stdout.flush()
    try:
        returncode = subprocess.run(command, timeout=timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"Error: the program did not exit within {timeout:g} s\n")
        return 1
    if returncode:
        sys.stderr.write(f"Error: the program exited with code {returncode}\n")
    return returncode


if not env.IsCleanTarget() and not env.IsIntegrationDump():
    write_exec_file()

for name in ("exec", "upload"):
    AlwaysBuild(env.Alias(name, target_bin, env.VerboseAction(run_program, "Running $SOURCE")))

Default([target_bin])
