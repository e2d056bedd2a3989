"""Shared fixtures. TensorFlow is quietened before any test imports it."""

from __future__ import annotations

import os
import pathlib
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
sys.path.insert(0, str(ROOT / "scripts"))


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ that COURSE_DATA_DIR points at, safe to corrupt."""
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy, ignore=shutil.ignore_patterns("external"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(copy))
    return copy


def flip_byte(path: pathlib.Path, offset: int | None = None) -> None:
    content = bytearray(path.read_bytes())
    offset = len(content) // 2 if offset is None else offset
    content[offset] ^= 0xFF
    path.write_bytes(bytes(content))


def perturb_weights(model, scale: float = 0.05, seed: int = 0):
    """An untrained diffusion model made to say something: its network's and EMA copy's weights
    moved by Gaussian noise of ``scale`` (the zero-initialised head otherwise predicts 0)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    perturbed = [value + scale * rng.standard_normal(value.shape).astype(value.dtype)
                 for value in model.network.get_weights()]
    model.network.set_weights(perturbed)
    model.ema_network.set_weights(perturbed)
    return model
