"""Helpers shared by the test modules (import as `from helpers.pio import run_pio`)."""
