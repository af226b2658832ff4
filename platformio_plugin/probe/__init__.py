"""The probe: the env's own TFLite Micro library run in a CPU emulator at build time.

``harness/`` holds the probe program (C++) and its memory map, linked by ``scons/probe_build``
from the same archive as the firmware (with custom_tinyml_runtime = aot: ``aot_probe.cc``, the
same calls over the generated code, linked by ``scons/aot_probe_build``); ``elf`` reads the
linked program (standard library); the emulation itself runs in the converter environment
(``convert/stages/probe``), and ``protocol`` is what crosses that process boundary.
"""
