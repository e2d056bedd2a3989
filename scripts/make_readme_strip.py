"""Draw the README's picture from the shipped models: generated digits and restored ones.

    python scripts/make_readme_strip.py            # writes docs/readme_strip.png

The first row holds digits that the shipped DCGAN generator (notebook 03) draws from seeded
noise; each row below shows held-out digits damaged by one of the course's degradations and the
shipped restorer's output beside each (notebook 09: the DnCNN denoiser, the U-Nets for a hole and
for missing pixels). Nothing trains; the picture is the same on every run with the same weights.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_lib import data, degradations, gan, restoration  # noqa: E402

COLUMNS = 12  # tiles per row: 12 samples, or 6 damaged / restored pairs
RESTORATIONS = (("noise_0.3", "dncnn_noise_0.3", "noise σ 0.3 → DnCNN"),
                ("hole_12", "unet_hole_12", "12×12 hole → U-Net"),
                ("missing_50", "unet_missing_50", "50% missing → U-Net"))
DEFAULT_OUTPUT = ROOT / "docs" / "readme_strip.png"


def rows(seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """``(label, tiles)`` for each row; tiles are (COLUMNS, 28, 28) in [0, 1]."""
    generator, _ = gan.load_generator()
    noise = np.random.default_rng(seed).standard_normal((COLUMNS, generator.latent_dim)).astype("float32")
    found = [("DCGAN samples", generator.generate(noise=noise)[..., 0])]
    digits = data.load_dataset("mnist", source="subset", verbose=False)
    pairs = COLUMNS // 2
    # one held-out digit of each class 0-5, so the strip shows different digits
    clean = np.stack([digits.x_test[np.flatnonzero(digits.y_test == label)[0]] for label in range(pairs)])
    for degradation, model, label in RESTORATIONS:
        damaged = degradations.get_degradation(degradation).apply(clean, seed=seed)
        restored = restoration.shipped_restorer(model)(damaged)
        tiles = np.empty((COLUMNS, 28, 28), dtype="float32")
        tiles[0::2], tiles[1::2] = np.clip(damaged.images[..., 0], 0, 1), restored[..., 0]
        found.append((label, tiles))
    return found


def draw(found: list[tuple[str, np.ndarray]], output: pathlib.Path) -> None:
    figure, axes = plt.subplots(len(found), COLUMNS, figsize=(COLUMNS * 0.62 + 1.9, len(found) * 0.66),
                                gridspec_kw={"wspace": 0.05, "hspace": 0.08, "left": 0.2, "right": 0.995,
                                             "top": 0.99, "bottom": 0.01})
    for row, (label, tiles) in enumerate(found):
        for column, tile in enumerate(tiles):
            axis = axes[row, column]
            axis.imshow(tile, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(row > 0 and column % 2 == 1)  # a frame marks each restored digit
                spine.set_color("#f9ab00")
                spine.set_linewidth(1.5)
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9, labelpad=6)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110, metadata={"Software": None})
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    draw(rows(args.seed), args.output)
    print(f"Wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KB).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
