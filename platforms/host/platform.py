"""PlatformIO dev-platform: the build machine, with the system's gcc/g++ (no registry package)."""

from platformio.public import PlatformBase


class TinymlhostPlatform(PlatformBase):
    pass
