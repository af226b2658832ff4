"""pio-tinyml benchmarks: the plugin's build cost and the firmware's speed and size.

One command runs them all (``bench/run``, or ``python -m bench`` from the repository root with
the project's venv) and writes ``bench/out/results.json`` and ``bench/out/results.md``.
Never part of the test command; ``tests/bench`` runs each benchmark in ``--quick`` mode.
"""
