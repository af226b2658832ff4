"""Just enough of a 32-bit little-endian ELF file for the probe: loadable segments and
function/object symbols. Standard library only."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProbeError

PT_LOAD = 1
SHT_SYMTAB = 2


@dataclass(frozen=True)
class Segment:
    address: int  # where it runs (p_vaddr): .data is loaded at its RAM address directly
    data: bytes  # file bytes; the rest up to `size` is zero (.bss)
    size: int


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int  # Thumb bit cleared
    size: int


@dataclass(frozen=True)
class ElfImage:
    segments: tuple[Segment, ...]
    symbols: dict[str, Symbol]

    def address(self, name: str) -> int:
        try:
            return self.symbols[name].address
        except KeyError:
            raise ProbeError(f"the probe program has no symbol {name}", "") from None

    def is_code(self, address: int) -> bool:
        """Inside the first loadable segment (code and constants, from address 0)."""
        first = self.segments[0] if self.segments else None
        return first is not None and first.address <= address < first.address + first.size

    def function_at(self, address: int) -> str:
        """The function containing ``address``, or its hex form."""
        best = None
        for sym in self.symbols.values():
            inside = sym.size and sym.address <= address < sym.address + sym.size
            if inside and (best is None or sym.size < best.size):
                best = sym
        return best.name if best is not None else f"0x{address:08x}"


def read_elf(path: Path) -> ElfImage:
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise ProbeError(f"{path} is not a 32-bit little-endian ELF file", "")
    (phoff, shoff) = struct.unpack_from("<II", data, 28)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 42)
    segments = []
    for i in range(phnum):
        p_type, off, vaddr, _paddr, filesz, memsz = struct.unpack_from(
            "<6I", data, phoff + i * phentsize
        )
        if p_type == PT_LOAD and memsz:
            segments.append(Segment(vaddr, data[off : off + filesz], memsz))
    sections = [struct.unpack_from("<10I", data, shoff + i * shentsize) for i in range(shnum)]
    symbols: dict[str, Symbol] = {}
    for sh in sections:
        if sh[1] != SHT_SYMTAB:
            continue
        strtab = sections[sh[6]]
        strings = data[strtab[4] : strtab[4] + strtab[5]]
        for off in range(sh[4], sh[4] + sh[5], 16):
            name_off, value, size, info = struct.unpack_from("<IIIB", data, off)
            if info & 0xF not in (1, 2):  # STT_OBJECT, STT_FUNC
                continue
            end = strings.index(b"\0", name_off)
            name = strings[name_off:end].decode("ascii", "replace")
            symbols.setdefault(name, Symbol(name, value & ~1, size))
    return ElfImage(tuple(segments), symbols)
