"""What a GNU ld map file says one archive put into flash. Standard library only.

The probe is linked with a map; the bytes the linker kept from the env's TFLite Micro archive
(code, constants, initialised data, unwind tables) are the runtime's flash, measured with the
same archive, flags and --gc-sections as the firmware rather than assumed.
"""

from __future__ import annotations

import re

START = "Linker script and memory map"
OUTPUT = re.compile(r"^(\S+)(?:\s+0x[0-9a-fA-F]+\s+0x[0-9a-fA-F]+)?")
INPUT = re.compile(r"^\s+(?:\S+\s+)?0x[0-9a-fA-F]+\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
NOT_FLASH = (".bss", ".noinit", ".heap", ".stack", "._user_heap_stack", ".debug", ".comment",
             ".ARM.attributes", ".stab", ".tbss")  # fmt: skip


def flash_bytes(map_text: str, archive: str) -> int:
    """Bytes in flash-resident output sections that came from ``archive`` (a file name such
    as ``libtinyml-tflm.a``)."""
    at = map_text.find(START)
    if at < 0:
        return 0
    total = 0
    section = ""
    needle = f"{archive}("
    for line in map_text[at:].splitlines()[1:]:
        if line and not line[0].isspace():
            match = OUTPUT.match(line)
            section = match.group(1) if match else ""
            continue
        if section.startswith(NOT_FLASH) or needle not in line:
            continue
        match = INPUT.match(line)
        if match is not None and needle in match.group(2):
            total += int(match.group(1), 16)
    return total
