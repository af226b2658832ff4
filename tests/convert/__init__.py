"""Conversion tests (marker convert) and unit tests of the converter's pure pieces."""
