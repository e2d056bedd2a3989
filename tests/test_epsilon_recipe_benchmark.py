"""benchmarks/epsilon_recipe_benchmark.py: both schedules trained the same way, every sampler scored."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def test_the_recipe_comparison_prints_a_finite_fid_for_every_schedule_and_sampler(capsys):
    spec = importlib.util.spec_from_file_location("epsilon_recipe_benchmark",
                                                  ROOT / "benchmarks" / "epsilon_recipe_benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--seconds", "1", "--images", "64", "--samples", "12"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert lines[0] == "| schedule | " + " | ".join(module.SAMPLERS) + " |"
    rows = {line.split(" | ")[0][2:]: line.strip(" |").split(" | ")[1:] for line in lines[1:]}
    assert set(rows) == {"cosine", "linear"}
    for values in rows.values():
        fids = [float(value.replace(",", "")) for value in values]
        assert len(fids) == 4 and all(fid > 0 for fid in fids)
        assert len(set(fids)) > 1                       # the samplers draw different images
