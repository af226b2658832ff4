"""python -m bench [--quick] [--only rebuild,convert,first-build,firmware] [--runs N]"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
import time
from pathlib import Path
from typing import Any

from . import common, report

BENCHMARKS = {
    "rebuild": "bench.rebuild",  # 1: no-change rebuild, plugin vs hand-committed files
    "convert": "bench.convert",  # 2: cold .pth -> header, plugin vs the seed's pipeline
    "first-build": "bench.first_build",  # 3: first TFLM build vs the whole library tree
    "firmware": "bench.firmware",  # 4 + 5: instructions, sizes, arena on emulated cores
    "probe": "bench.probe",  # 6: first and no-change build with and without the probe
}
# rebuild reuses first-build's project
ORDER = ("first-build", "rebuild", "convert", "firmware", "probe")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny inputs (hello_world only, 1 run): checks that it all runs",
    )
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(ORDER))
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="timed runs per side for the whole-process timings (default 5)",
    )
    parser.add_argument(
        "--build-runs",
        type=int,
        default=1,
        help="timed runs per side for the first TFLM build (default 1)",
    )
    parser.add_argument(
        "--tree-sample",
        type=int,
        default=1,
        metavar="K",
        help="first-build: compile every K-th file of TFLM's whole tree and "
        "scale its time by the file count (default 1: every file)",
    )
    parser.add_argument(
        "--firmware-envs", default="", help="firmware: comma-separated envs (default: all)"
    )
    parser.add_argument(
        "--plugin-ref",
        default="HEAD",
        help="git ref of the plugin to measure (default HEAD: the committed "
        "plugin, unpacked in the output folder)",
    )
    parser.add_argument("--out", type=Path, default=common.BENCH / "out")
    args = parser.parse_args(argv)
    chosen = [n for n in ORDER if not args.only or n in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    runs = 1 if args.quick else args.runs
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    plugin, commit = common.plugin_snapshot(out / "plugin", args.plugin_ref)
    ctx = common.Context(
        out=out,
        core=common.private_core(out / "core"),
        quick=args.quick,
        runs=runs,
        build_runs=1 if args.quick else args.build_runs,
        tree_sample=max(1, args.tree_sample),
        firmware_envs=tuple(filter(None, args.firmware_envs.split(","))),
    )
    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "command": "bench/run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick,
        "plugin_commit": commit,
        "machine": common.machine(),
        "benchmarks": {},
    }
    started = time.monotonic()
    for name in chosen:
        common.say(f"{name} ...")
        t0 = time.monotonic()
        module = importlib.import_module(BENCHMARKS[name])
        data = module.run(ctx)
        data["bench_wall_s"] = round(time.monotonic() - t0, 1)
        results["benchmarks"][name] = data
        common.write_json(out / f"{name}.json", data)
    results["total_wall_s"] = round(time.monotonic() - started, 1)
    common.write_json(out / "results.json", results)
    (out / "results.md").write_text(report.render(results))
    print(report.render(results))
    common.say(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
