"""Execute the course's notebooks with papermill at a budget and print a time table.

    python scripts/run_notebooks.py --budget cpu --output build/cpu notebooks/*.ipynb

papermill injects ``BUDGET`` into each notebook's ``parameters`` cell. With ``--prepare-only``
the notebooks are only parameterised (their golden outputs kept), for nbval to execute and
compare. Times go to ``<output>/timings.json`` for the rendered index. A failing notebook is
reported and the others still run; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import papermill

BUDGETS = ("smoke", "cpu", "gpu", "auto")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--budget", choices=BUDGETS, default="cpu")
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--retrain", action="store_true", help="set RETRAIN = True in every notebook")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    parameters = {"BUDGET": args.budget}
    if args.retrain:
        parameters["RETRAIN"] = True
    timings, failures = {}, []
    for notebook in args.notebooks:
        target = args.output / notebook.name
        started = time.perf_counter()
        try:
            papermill.execute_notebook(str(notebook), str(target), parameters=parameters,
                                       prepare_only=args.prepare_only, kernel_name="python3",
                                       cwd=str(args.output), progress_bar=False, log_output=False)
            status = "ok"
        except Exception as error:  # report every failing notebook, not only the first
            status = "FAILED"
            failures.append((notebook.name, str(error).strip().splitlines()[-1:]))
        timings[notebook.name] = {"seconds": round(time.perf_counter() - started, 1),
                                  "budget": args.budget, "status": status}
        if not args.prepare_only:
            print(f"{notebook.name}: {status} in {timings[notebook.name]['seconds']:.0f} s", flush=True)
    if args.prepare_only:
        print(f"Prepared {len(timings)} notebook(s) at budget {args.budget!r} in {args.output}.")
        return 1 if failures else 0
    (args.output / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
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
