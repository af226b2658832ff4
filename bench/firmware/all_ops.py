"""Extra script (post:) of the benchmark's all-ops env: link TFLite Micro with every builtin
op, through the plugin's own library builder, for a firmware that registers every op.

The env sets ``custom_tinyml_runtime = none`` so the plugin generates the model headers only;
this script adds the library for all ops and the plugin's C++ runtime sources.
``custom_bench_repo`` is the folder of the plugin the benchmark uses.
"""

import sys

Import("env")  # noqa: F821  (SCons builtin)
try:
    Import("projenv")  # noqa: F821  the project's sources' env
except Exception:  # noqa: BLE001
    projenv = None

REPO = env.GetProjectOption("custom_bench_repo")  # noqa: F821
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from platformio_plugin.scons import tflm_build  # noqa: E402
from platformio_plugin.tflm import op_table  # noqa: E402
from platformio_plugin.tflm.cpu import choose_kernels  # noqa: E402

ops = [op.name for op in op_table.BUILTIN_OPS.values()]
board = env.BoardConfig()  # noqa: F821
cpu = board.get("build.cpu", "")
choice = choose_kernels(board=env.subst("$BOARD"), cpu=cpu, option="cmsis-nn")  # noqa: F821
extra = [e for e in (projenv,) if e is not None]
tflm_build.add_tflm_library(env, ops=ops, choice=choice, project_envs=extra)  # noqa: F821
# the runtime's sources include each other as "tinyml/..." (the library's src/ folder)
runtime_env = env.Clone()  # noqa: F821
runtime_env.AppendUnique(CPPPATH=[REPO + "/src"])
runtime = runtime_env.BuildLibrary("$BUILD_DIR/tinyml-runtime", REPO + "/src/tinyml")
env.Prepend(LIBS=[runtime])  # noqa: F821
