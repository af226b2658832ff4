"""Extra script (post:) of the benchmark's all-ops env: link TFLite Micro with every builtin
op, through the plugin's own library builder, for a firmware that registers every op.

The env sets ``custom_tinyml_runtime = none`` so the plugin generates the model headers only;
this script adds the library for all ops and the plugin's C++ runtime sources.
"""

import sys

Import("env")  # noqa: F821  (SCons builtin)

REPO = env.GetProjectOption("custom_bench_repo")  # noqa: F821
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from platformio_plugin.scons import tflm_build  # noqa: E402
from platformio_plugin.tflm import op_table  # noqa: E402

ops = [op.name for op in op_table.BUILTIN_OPS.values()]
tflm_build.add_tflm_library(env, ops=ops, kernels="cmsis-nn")  # noqa: F821
env.BuildSources("$BUILD_DIR/tinyml-runtime", REPO + "/src/tinyml")  # noqa: F821
