"""Execute the course's notebooks with papermill at a budget and print a time table.

    python scripts/run_notebooks.py --budget cpu --output build/cpu notebooks/*.ipynb

papermill injects ``BUDGET`` into each notebook's ``parameters`` cell, and with ``--dataset
fashion_mnist`` also ``DATASET`` (only notebooks whose parameters cell has ``DATASET`` may be
given then: the others would silently run on digits). With ``--prepare-only``
the notebooks are only parameterised (their golden outputs kept), for nbval to execute and
compare. Times go to ``<output>/timings.json`` for the rendered index. After each notebook one
line says how it went, how long it took and about how long the rest will take (from the times
that the last run into the same folder recorded, else from the mean so far). A failing notebook is
reported and the others still run; the exit status is non-zero if any failed.

The kernels log at the level of errors: ipykernel otherwise warns once per notebook that it talks
to papermill over TCP on localhost without encryption, which is how every local Jupyter kernel
runs. Warnings raised by the notebooks' own code still show in their cells.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import papermill

BUDGETS = ("smoke", "cpu", "gpu", "auto")
DATASETS = ("mnist", "fashion_mnist")


def has_parameter(notebook: pathlib.Path, name: str) -> bool:
    """Whether ``notebook``'s cell tagged ``parameters`` assigns ``name``."""
    import ast

    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse("".join(cell["source"]))
            return any(isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name
                                                            for target in node.targets) for node in tree.body)
    return False
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def remaining_seconds(remaining: list[str], done: dict[str, float], previous: dict[str, float]) -> float | None:
    """Seconds the ``remaining`` notebooks should take: each one's time in the previous run when it
    has one, else the mean of those ``done`` in this run (None when neither says anything)."""
    mean = sum(done.values()) / len(done) if done else None
    total = 0.0
    for name in remaining:
        if name in previous:
            total += previous[name]
        elif mean is not None:
            total += mean
        else:
            return None
    return total


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def progress_line(position: int, count: int, name: str, status: str, seconds: float, left: float | None) -> str:
    """``[3/11] 03_dcgan_mnist.ipynb  ok in 37 s  (about 9.5 min left)``"""
    rest = "done" if position == count else (f"about {duration(left)} left" if left is not None else "")
    return f"[{position}/{count}] {name}  {status} in {duration(seconds)}" + (f"  ({rest})" if rest else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--budget", choices=BUDGETS, default="cpu")
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--retrain", action="store_true", help="set RETRAIN = True in every notebook")
    parser.add_argument("--dataset", choices=DATASETS, default=None,
                        help="set DATASET in every notebook (each must have the parameter)")
    args = parser.parse_args(argv)
    parameters = {"BUDGET": args.budget}
    if args.retrain:
        parameters["RETRAIN"] = True
    if args.dataset is not None:
        lacking = [notebook.name for notebook in args.notebooks if not has_parameter(notebook, "DATASET")]
        if lacking:
            parser.error(f"--dataset needs a DATASET parameter, which {', '.join(lacking)} lack(s)")
        parameters["DATASET"] = args.dataset
    args.output.mkdir(parents=True, exist_ok=True)
    timings, failures = {}, []
    timings_path = args.output / "timings.json"
    try:
        previous = {name: timing["seconds"] for name, timing in json.loads(timings_path.read_text()).items()
                    if timing.get("budget") == args.budget and timing.get("status") == "ok"}
    except (FileNotFoundError, ValueError, KeyError, AttributeError):
        previous = {}
    for position, notebook in enumerate(args.notebooks, start=1):
        target = args.output / notebook.name
        started = time.perf_counter()
        try:
            papermill.execute_notebook(str(notebook), str(target), parameters=parameters,
                                       prepare_only=args.prepare_only, kernel_name="python3",
                                       cwd=str(args.output), progress_bar=False, log_output=False,
                                       extra_arguments=KERNEL_ARGUMENTS)
            status = "ok"
        except Exception as error:  # report every failing notebook, not only the first
            status = "FAILED"
            failures.append((notebook.name, str(error).strip().splitlines()[-1:]))
        timings[notebook.name] = {"seconds": round(time.perf_counter() - started, 1),
                                  "budget": args.budget, "status": status}
        if not args.prepare_only:
            done = {name: timing["seconds"] for name, timing in timings.items()}
            left = remaining_seconds([path.name for path in args.notebooks[position:]], done, previous)
            print(progress_line(position, len(args.notebooks), notebook.name, status, done[notebook.name], left),
                  flush=True)
    if args.prepare_only:
        print(f"Prepared {len(timings)} notebook(s) at budget {args.budget!r} in {args.output}.")
        return 1 if failures else 0
    timings_path.write_text(json.dumps(timings, indent=1) + "\n")
    width = max(len(name) for name in timings)
    print(f"\n{'notebook':<{width}}  budget  status  seconds")
    for name, timing in timings.items():
        print(f"{name:<{width}}  {timing['budget']:<6}  {timing['status']:<6}  {timing['seconds']:>7.1f}")
    print(f"{'total':<{width}}  {'':6}  {'':6}  {sum(t['seconds'] for t in timings.values()):>7.1f}")
    for name, message in failures:
        print(f"{name} failed: {' '.join(message)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
