"""Conversion tests: real conversions in the converter environment (marker convert)."""
