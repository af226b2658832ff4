"""PlatformIO dev-platform: Cortex-M boards emulated by qemu-system-arm.

Needs no registry package: the toolchain is the local folder ``toolchain/`` (links to
Debian's /usr/bin/arm-none-eabi-*), referenced from platform.json as ``symlink://toolchain``
and made absolute here, and the emulator is the system's ``qemu-system-arm``.
"""

import os

from platformio.public import PlatformBase


class TinymlemulatedcortexmPlatform(PlatformBase):
    def __init__(self, manifest_path):
        super().__init__(manifest_path)
        for options in self._manifest.get("packages", {}).values():
            version = options.get("version", "")
            if version.startswith("symlink://") and not os.path.isabs(version[10:]):
                options["version"] = "symlink://" + os.path.join(self.get_dir(), version[10:])

    def is_embedded(self):
        # Firmware for a target, even though "uploading" runs it in an emulator.
        return True
