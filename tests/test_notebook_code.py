"""The model code that the notebooks show in cells is the library's code, line for line.

Notebooks 03, 05, 06, 07, 09, 10 and 11 put the code a learner should read and change in cells tagged
``library-code`` (see scripts/sync_library_code.py): the notebook's version runs there, the
library's runs everywhere else (tests, benchmarks, shipped weights), so the two must not drift.

The comparison is the exact source text, after removing the common indentation
(``textwrap.dedent(inspect.getsource(obj))`` against the cell's definition), not an AST
comparison. The comments in this code carry the equations and the shapes
(``# -V = -E[log D(x)] - ...``, ``# (batch, latent_dim)``), which an AST drops and a learner reads
as closely as the code; exact text also turns a failure into a diff that one command applies,
with no normalisation rule to learn. Formatting counts too, which is intended: both copies must
read the same.
"""

from __future__ import annotations

import pathlib
import re

import nbformat
import pytest

import sync_library_code as sync

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# what each notebook must show as code, and nothing more: a cell that loses its tag fails here
EXPECTED = {
    "03_dcgan_mnist": ["course_lib.gan.build_dcgan_generator", "course_lib.gan.build_dcgan_discriminator",
                       "course_lib.gan.GAN"],
    "05_vae_mnist": ["course_lib.vae.Sampling", "course_lib.vae.VAE"],
    "06_diffusion_theory": ["course_lib.diffusion_theory.sample"],
    "07_diffusion_mnist": ["course_lib.diffusion.residual_block", "course_lib.diffusion.build_unet",
                           "course_lib.diffusion.Diffusion"],
    "09_cnn_restoration": ["course_lib.learned_restoration.build_dncnn", "course_lib.learned_restoration.build_unet"],
    "10_gan_restoration": ["course_lib.pix2pix.build_patch_discriminator", "course_lib.pix2pix.Pix2Pix"],
    "11_diffusion_restoration": ["course_lib.posterior_sampling.inpaint", "course_lib.posterior_sampling.dps",
                                 "course_lib.flow_restorer.FlowRestorer"],
}


def read(name: str):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def all_library_cells():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in sync.library_cells(notebook):
            yield pytest.param(path.stem, index, cell, id=f"{path.stem}-cell{index}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_notebook_shows_the_model_code_it_teaches(name):
    shown = []
    for index, cell in sync.library_cells(read(name)):
        try:
            shown.append(sync.split_cell(cell.source)[0])
        except ValueError as error:
            pytest.fail(f"notebooks/{name}.ipynb cell {index} (id {cell.get('id')}) is tagged "
                        f"{sync.TAG!r}, but {error}")
    assert shown == EXPECTED[name], (
        f"notebooks/{name}.ipynb shows {shown} in {sync.TAG!r} cells, expected {EXPECTED[name]} in that order")


def test_no_other_notebook_has_library_code_cells():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if path.stem not in EXPECTED:
            notebook = nbformat.read(path, as_version=4)
            assert not sync.library_cells(notebook), f"{path.name} has library-code cells: add it to EXPECTED"


@pytest.mark.parametrize("notebook_name, index, cell", list(all_library_cells()))
def test_library_code_cells_are_the_library_code(notebook_name, index, cell):
    qualified, text = sync.split_cell(cell.source)
    difference = sync.drift(text, qualified)
    assert difference is None, (
        f"notebooks/{notebook_name}.ipynb cell {index} (id {cell.get('id')}) shows {qualified}, and the two "
        f"have drifted apart (- library, + notebook):\n{difference}\n"
        f"Fix: if the library's version is right, run `python scripts/sync_library_code.py "
        f"notebooks/{notebook_name}.ipynb`; if the cell's is, copy it into the library and rerun the tests.")


@pytest.mark.parametrize("notebook_name, index, cell", list(all_library_cells()))
def test_the_notebook_runs_its_own_version(notebook_name, index, cell):
    """A later code cell uses the name the cell defines (the VAE cell uses the Sampling cell's
    layer; the training cells the builders and classes): the notebook builds or trains with it."""
    qualified, _ = sync.split_cell(cell.source)
    name = qualified.rsplit(".", 1)[1]
    notebook = read(notebook_name)
    later = [other.source for other in notebook.cells[index + 1:] if other.cell_type == "code"]
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}\b")
    assert any(pattern.search(source) for source in later), (
        f"notebooks/{notebook_name}.ipynb defines {name} in cell {index}, but no later code cell uses it "
        f"unqualified: the notebook must build or train with its own version, not course_lib's.")


# ------------------------------------------------------------------ the comparison can fail

def library_cell(qualified: str) -> str:
    return sync.MARKER.format(name=qualified) + "\n" + sync.library_source(qualified)


def test_a_changed_comment_is_drift_and_the_message_shows_the_line():
    source = library_cell("course_lib.gan.GAN")
    changed = source.replace("# [0, 1] -> [-1, 1]", "# [0, 1] -> [-1, 1], scaled")
    assert changed != source
    qualified, text = sync.split_cell(changed)
    difference = sync.drift(text, qualified)
    assert difference is not None
    assert "course_lib/gan.py (course_lib.gan.GAN)" in difference
    assert "+            real = real * 2.0 - 1.0  # [0, 1] -> [-1, 1], scaled" in difference
    unchanged_name, unchanged_text = sync.split_cell(source)
    assert sync.drift(unchanged_text, unchanged_name) is None


def test_a_changed_line_of_code_is_drift():
    source = library_cell("course_lib.vae.VAE")
    changed = source.replace("loss = ops.mean(reconstruction + self.beta * kl)", "loss = ops.mean(reconstruction + kl)")
    assert changed != source
    assert sync.drift(sync.split_cell(changed)[1], "course_lib.vae.VAE") is not None


@pytest.mark.parametrize("source, message", [
    ("def GAN():\n    pass", "first line must be"),
    ("# The same code as course_lib.gan.GAN (tests/test_notebook_code.py keeps the two identical).\n"
     "class GAN:\n    pass\n\nprint('hidden')", "exactly one def or class"),
    ("# The same code as course_lib.gan.GAN (tests/test_notebook_code.py keeps the two identical).\n"
     "class Other:\n    pass", "defines 'Other'"),
])
def test_malformed_cells_are_refused_with_the_reason(source, message):
    with pytest.raises(ValueError, match=message):
        sync.split_cell(source)


def test_unknown_library_names_are_refused():
    with pytest.raises(ValueError, match="has no 'NoSuchModel'"):
        sync.library_source("course_lib.gan.NoSuchModel")


def test_sync_rewrites_a_drifted_cell_and_check_reports_it(tmp_path):
    path = tmp_path / "notebook.ipynb"
    notebook = read("05_vae_mnist")
    index, cell = sync.library_cells(notebook)[0]
    cell.source = cell.source.replace("z = mu + sigma * eps", "z = mu + sigma * noise")
    nbformat.write(notebook, path)
    assert sync.main(["--check", str(path)]) == 1
    assert sync.sync(path) == ["course_lib.vae.Sampling"]
    repaired = nbformat.read(path, as_version=4)
    assert repaired.cells[index].source == library_cell("course_lib.vae.Sampling")
    assert repaired.cells[index].get("id") == cell.get("id")
    assert sync.main(["--check", str(path)]) == 0


# ------------------------------------------------------------------ the notebook's version is what trains

def test_build_dcgan_uses_the_class_and_builders_it_is_given():
    from course_lib import gan

    calls = []

    def counting(builder):
        def build(*args, **kwargs):
            calls.append(builder.__name__)
            return builder(*args, **kwargs)
        return build

    class NotebookGAN(gan.GANBase):
        train_step = gan.GAN.train_step

    config = gan.DCGANConfig(generator_filters=(8, 4), discriminator_filters=(4, 8), jit_compile=False)
    model = gan.build_dcgan(config, model_class=NotebookGAN, build_generator=counting(gan.build_dcgan_generator),
                            build_discriminator=counting(gan.build_dcgan_discriminator))
    assert type(model) is NotebookGAN
    assert calls == ["build_dcgan_generator", "build_dcgan_discriminator"]
    with pytest.raises(TypeError, match="model_class must be a subclass of course_lib.gan.GANBase"):
        gan.build_dcgan(config, model_class=gan.build_dcgan_generator)
    with pytest.raises(TypeError, match="build_generator and build_discriminator"):
        gan.build_dcgan(config, build_generator="dcgan")


def test_build_vae_uses_the_class_and_its_sampling_layer():
    from course_lib import vae

    class NotebookSampling(vae.Sampling):
        pass

    class NotebookVAE(vae.VAE):
        sampling_class = NotebookSampling

    model = vae.build_vae(vae.VAEConfig(), model_class=NotebookVAE)
    assert type(model) is NotebookVAE and type(model.sampling) is NotebookSampling
    with pytest.raises(TypeError, match="model_class must be a subclass of course_lib.vae.VAEBase"):
        vae.build_vae(vae.VAEConfig(), model_class=dict)
    with pytest.raises(TypeError, match="must set sampling_class"):
        vae.VAEBase(vae.build_encoder(2), vae.build_decoder(2))


def test_build_pix2pix_uses_the_class_and_discriminator_builder_it_is_given():
    from course_lib import pix2pix

    built = []

    def discriminator(filters, image_shape):
        built.append(tuple(filters))
        return pix2pix.build_patch_discriminator(filters, image_shape)

    class NotebookPix2Pix(pix2pix.Pix2Pix):
        pass

    config = pix2pix.Pix2PixConfig(filters=4, levels=1, discriminator_filters=(4,), init_from=None, jit_compile=False)
    model = pix2pix.build_pix2pix(config, model_class=NotebookPix2Pix, build_discriminator=discriminator)
    assert type(model) is NotebookPix2Pix and built == [(4,)]
    with pytest.raises(TypeError, match="model_class must be a subclass of course_lib.pix2pix.Pix2PixBase"):
        pix2pix.build_pix2pix(config, model_class=object)


def test_build_learned_restorer_uses_the_builders_it_is_given():
    from course_lib import learned_restoration

    built = []

    def dncnn(*args, **kwargs):
        built.append("dncnn")
        return learned_restoration.build_dncnn(*args, **kwargs)

    config = learned_restoration.LearnedRestorerConfig(depth=2, filters=4, jit_compile=False)
    model = learned_restoration.build_learned_restorer(config, build_dncnn=dncnn)
    assert built == ["dncnn"] and model.name == "dncnn" and model.optimizer is not None
    with pytest.raises(TypeError, match="build_dncnn and build_unet must be functions"):
        learned_restoration.build_learned_restorer(config, build_unet=None)
