"""The only place that touches SCons and PlatformIO."""
