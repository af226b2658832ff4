"""Build script of the emulated Cortex-M platform (SConstruct run by PlatformIO).

CPU flags come from the board manifest (build.cpu, build.float_abi, build.fpu); the linker
script is build.ldscript from ../ldscripts; runtime/ holds the vector table and reset code.
Targets `exec` and `upload` run the firmware in qemu-system-arm (machine emulator.machine)
with semihosting; the firmware's stdout is printed and a nonzero exit code fails the target.
The run command is also written to $BUILD_DIR/exec.json for test runners.
Timeout: emulator.timeout (seconds; override with `board_emulator.timeout` in platformio.ini)
or the environment variable TINYML_EXEC_TIMEOUT.
"""

import json
import os
import subprocess
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()

machine_flags = [f"-mcpu={board.get('build.cpu')}", "-mthumb"]
if board.get("build.fpu", ""):
    machine_flags += [
        f"-mfloat-abi={board.get('build.float_abi', 'hard')}",
        f"-mfpu={board.get('build.fpu')}",
    ]
else:
    machine_flags.append("-mfloat-abi=soft")

env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    ARFLAGS=["rc"],
    SIZEPROGREGEXP=r"^(?:\.text|\.data|\.ARM\.exidx|\.ARM\.extab)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
)

env.Append(
    ASFLAGS=machine_flags,
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    CCFLAGS=machine_flags + ["-Os", "-ffunction-sections", "-fdata-sections", "-Wall"],
    CXXFLAGS=["-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"],
    LINKFLAGS=machine_flags
    + [
        "-Os",
        "--specs=nano.specs",
        "--specs=rdimon.specs",  # semihosting stdio and exit
        "-nostartfiles",  # runtime/startup.c is the startup code
        "-Wl,--gc-sections",
        # quoted: SCons splits an expanded variable at spaces (a project path may hold one)
        '-Wl,-Map="{}"'.format(os.path.join("$BUILD_DIR", "firmware.map")),
    ],
    LIBS=["stdc++", "m", "c", "rdimon", "gcc"],
)
# newlib-nano drops %f unless asked: model outputs are floats. `board_build.printf_float = no`
# links the C library as most Arm frameworks do (e.g. Arduino STM32), without it.
if board.get("build.printf_float", "yes") != "no":
    env.Append(LINKFLAGS=["-u", "_printf_float"])

# The startup code is linked as objects (not an archive) so the vector table is always kept.
env.BuildSources(
    os.path.join("$BUILD_DIR", "EmulatedCortexM"), os.path.join(platform.get_dir(), "runtime")
)

target_elf = env.BuildProgram()


def emulator_command(elf_path):
    return [
        "qemu-system-arm",
        "-M",
        board.get("emulator.machine"),
        "-nographic",
        "-semihosting-config",
        "enable=on,target=native",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-kernel",
        elf_path,
    ]


def exec_timeout():
    return float(os.environ.get("TINYML_EXEC_TIMEOUT") or board.get("emulator.timeout", 60))


def write_exec_file():
    path = env.subst(os.path.join("$BUILD_DIR", "exec.json"))
    data = {"command": emulator_command(target_elf[0].get_abspath()), "timeout": exec_timeout()}
    text = json.dumps(data, indent=2) + "\n"
    old = None
    if os.path.isfile(path):
        with open(path, encoding="utf8") as fp:
            old = fp.read()
    if old != text:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf8") as fp:
            fp.write(text)


def run_firmware(target, source, env):  # pylint: disable=unused-argument
    command = emulator_command(source[0].get_abspath())
    timeout = exec_timeout()
    print(" ".join(command))
    sys.stdout.flush()
    try:
        returncode = subprocess.run(command, timeout=timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        sys.stderr.write(
            f"Error: the firmware did not exit within {timeout:g} s on "
            f"{board.get('emulator.machine')} (raise emulator.timeout or TINYML_EXEC_TIMEOUT "
            "if it needs longer)\n"
        )
        return 1
    if returncode:
        sys.stderr.write(f"Error: the firmware exited with code {returncode}\n")
    return returncode


if not env.IsCleanTarget() and not env.IsIntegrationDump():
    write_exec_file()

target_size = env.Alias(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE")
)
AlwaysBuild(target_size)

for name in ("exec", "upload"):
    AlwaysBuild(env.Alias(name, target_elf, env.VerboseAction(run_firmware, "Running $SOURCE")))

env.Alias("buildprog", target_elf)
Default([target_elf, target_size])
