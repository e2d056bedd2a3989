"""Prove the course on TensorFlow/Keras pairs other than the locked one, the way Colab installs it.

    python scripts/check_versions.py            # both pairs: oldest and newest
    python scripts/check_versions.py oldest     # one of them

For each pair this builds a fresh virtual environment in ``build/versions/<pair>/`` with the
pair's Python, installs the pair's TensorFlow and Keras first (as Colab or a laptop has them,
with papermill and ipykernel to execute notebooks), then installs the course with exactly the
command that every notebook's setup cell runs (``sync_notebook_headers.INSTALL_ARGUMENTS``, no
extra), and checks that this install left the TensorFlow that was there importable and
unchanged. It then executes notebooks 00, 03 and 09 of this checkout at the ``smoke`` budget
with ``run_notebooks.py`` and checks that each ran on the pair's versions. ``oldest`` is the
oldest pair that the lower bounds in ``pyproject.toml`` allow, installed under the name
``tensorflow-cpu`` (the build a CPU-only machine or a container ships, which pip does not
recognise as ``tensorflow``); ``newest`` is whatever the registry serves today. The table at
the end gives each pair's versions, its install and run times and the verdict; it is also
written to ``build/versions/results.json``. Needs the registry (PyPI) and a few minutes a pair.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from sync_notebook_headers import INSTALL_ARGUMENTS  # noqa: E402

NOTEBOOKS = ("00_welcome_and_setup.ipynb", "03_dcgan_mnist.ipynb", "09_cnn_restoration.ipynb")
RUNTIME_TOOLS = ("papermill", "ipykernel")  # what Colab's runtime has beside TensorFlow
VERSIONS_CODE = ("import importlib.metadata as m, platform, tensorflow, keras, numpy; "
                 "print(platform.python_version(), tensorflow.__version__, keras.__version__, numpy.__version__, "
                 "' '.join(sorted(d.metadata['Name'].lower() for d in m.distributions() "
                 "if d.metadata['Name'].lower().startswith('tensorflow') and not d.metadata['Name'].lower().startswith('tensorflow-io'))))")


@dataclasses.dataclass(frozen=True)
class Pair:
    name: str
    python: str  # a version, "3.10"
    requirements: tuple[str, ...]  # TensorFlow and Keras as the runtime has them


PAIRS = {
    "oldest": Pair("oldest", "3.10", ("tensorflow-cpu==2.16.2", "keras==3.0.5")),
    "newest": Pair("newest", "3.12", ("tensorflow", "keras")),
}


def find_python(version: str) -> str:
    """pyenv's build of that version, else ``pythonX.Y`` on PATH (not a pyenv shim, which may refuse)."""
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    found = shutil.which(f"python{version}")
    if found and "shims" not in pathlib.Path(found).parts:
        candidates.append(found)
    if not candidates:
        raise SystemExit(f"No Python {version}: put python{version} on PATH (or install it with pyenv).")
    return candidates[0]


def run(command: list[str], log: pathlib.Path, env: dict | None = None, timeout: float = 1800) -> float:
    """Run a command with its output appended to ``log``; its seconds. Fails with the log's tail."""
    started = time.perf_counter()
    with log.open("a") as stream:
        stream.write(f"$ {' '.join(command)}\n")
        stream.flush()
        result = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}:\n{tail}")
    return time.perf_counter() - started


def installed_versions(python: str) -> dict:
    output = subprocess.run([python, "-c", VERSIONS_CODE], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if output.returncode != 0:
        raise RuntimeError(f"TensorFlow does not import: {output.stderr.strip().splitlines()[-1:]}")
    python_version, tensorflow, keras, numpy, *distributions = output.stdout.split()
    return {"python": python_version, "tensorflow": tensorflow, "keras": keras, "numpy": numpy,
            "distributions": distributions}


def check_pair(pair: Pair, folder: pathlib.Path) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = folder / "log.txt"
    venv = folder / "venv"
    python = str(venv / "bin" / "python")
    record = {"pair": pair.name, "requested": " ".join(pair.requirements)}
    try:
        seconds = run([find_python(pair.python), "-m", "venv", str(venv)], log)
        seconds += run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], log)
        seconds += run([python, "-m", "pip", "install", "--quiet", *pair.requirements, *RUNTIME_TOOLS], log)
        record["runtime_install_s"] = round(seconds, 1)
        before = installed_versions(python)
        record.update(before)
        # exactly the setup cell's command, on this checkout instead of the clone in /content/course
        record["course_install_s"] = round(run([python, *INSTALL_ARGUMENTS, str(ROOT)], log), 1)
        after = installed_versions(python)
        if after != before:
            raise RuntimeError(f"installing the course changed the runtime: {before} became {after}")
        env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               "VIRTUAL_ENV": str(venv), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0",
               "COURSE_WORKDIR": str(folder / "work"), "JUPYTER_PATH": str(venv / "share" / "jupyter")}
        env.pop("PYTHONPATH", None)  # the course must come from the install, not from this checkout
        executed = folder / "executed"
        try:
            run([python, str(ROOT / "scripts" / "run_notebooks.py"), "--budget", "smoke", "--output", str(executed),
                 *(str(ROOT / "notebooks" / name) for name in NOTEBOOKS)], log, env=env)
        finally:
            timings_path = executed / "timings.json"
            timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
            record["notebooks"] = {name[:2]: timing for name, timing in timings.items()}
        cells = json.loads((executed / NOTEBOOKS[0]).read_text())["cells"]
        setup_output = json.dumps([cell.get("outputs", []) for cell in cells])
        if before["tensorflow"] not in setup_output or before["keras"] not in setup_output:
            raise RuntimeError(f"notebook {NOTEBOOKS[0]} did not report TensorFlow {before['tensorflow']} "
                               f"and Keras {before['keras']}: its kernel ran on another environment")
        record["result"] = "pass"
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        record["result"] = "FAIL"
        record["error"] = str(error)
    return record


def table(records: list[dict]) -> str:
    lines = ["| pair | Python | TensorFlow (as installed) | Keras | NumPy | runtime install | course install "
             "| 00 | 03 | 07 | result |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for record in records:
        notebooks = record.get("notebooks", {})
        cells = [f"{notebooks[key]['seconds']:.0f} s {notebooks[key]['status']}" if key in notebooks else "-"
                 for key in ("00", "03", "07")]
        tensorflow = f"{record.get('tensorflow', '-')} ({' '.join(record.get('distributions', [])) or '-'})"
        lines.append(f"| {record['pair']} | {record.get('python', '-')} | {tensorflow} | {record.get('keras', '-')} "
                     f"| {record.get('numpy', '-')} | {record.get('runtime_install_s', '-')} s "
                     f"| {record.get('course_install_s', '-')} s | {' | '.join(cells)} | {record['result']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="*", help=f"any of {', '.join(PAIRS)} (default: all)")
    parser.add_argument("--output", type=pathlib.Path, default=ROOT / "build" / "versions")
    args = parser.parse_args(argv)
    unknown = [name for name in args.pairs if name not in PAIRS]
    if unknown:
        parser.error(f"unknown pair(s) {', '.join(unknown)}: choose from {', '.join(PAIRS)}")
    records = []
    for name in args.pairs or list(PAIRS):
        print(f"{name}: {' '.join(PAIRS[name].requirements)} on Python {PAIRS[name].python} ...", flush=True)
        started = time.perf_counter()
        record = check_pair(PAIRS[name], args.output / name)
        record["total_s"] = round(time.perf_counter() - started, 1)
        records.append(record)
        print(f"{name}: {record['result']} in {record['total_s']:.0f} s" +
              (f"\n{record['error']}" if "error" in record else ""), flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    results_path = args.output / "results.json"
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    previous.update({record["pair"]: record for record in records})
    results_path.write_text(json.dumps(previous, indent=1) + "\n")
    print("\n" + table(list(previous.values())))
    return 0 if all(record["result"] == "pass" for record in records) else 1


if __name__ == "__main__":
    sys.exit(main())
