"""pio-tinyml pre-build hook (library.json build.extraScript).

PlatformIO runs this while it constructs the library's builder: after the
platform builder set the CPU flags, before anything compiles. All the work
lives in the package next to this folder.
"""

import sys

Import("env", "pio_lib_builder")  # noqa: F821  (SCons builtins)

try:
    Import("projenv")  # noqa: F821  the project's sources' env, exported before libraries load
except Exception:  # noqa: BLE001
    projenv = None

if pio_lib_builder.path not in sys.path:  # noqa: F821
    sys.path.insert(0, pio_lib_builder.path)  # noqa: F821

from platformio_plugin import api  # noqa: E402

api.run(env, projenv)  # noqa: F821
