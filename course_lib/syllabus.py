"""The course's syllabus: one entry per notebook, used by notebook 00, the README check and the
rendered index. Kept in one place so that the three never disagree."""

from __future__ import annotations

import dataclasses
import pathlib

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


@dataclasses.dataclass(frozen=True)
class Lesson:
    """One row of the syllabus: number, slug, title and what the notebook teaches.

    Introduced in notebook 00_welcome_and_setup.
    """
    number: str
    slug: str
    title: str
    teaches: str

    @property
    def filename(self) -> str:
        return f"{self.number}_{self.slug}.ipynb"

    @property
    def available(self) -> bool:
        return (NOTEBOOK_DIR / self.filename).exists()


SYLLABUS = (
    Lesson("00", "welcome_and_setup", "Welcome and setup",
           "how the course runs; environment and device check; budgets; the datasets"),
    Lesson("01", "images_tensors_and_cnns", "Images, tensors and CNNs",
           "images as tensors, convolution, a CNN classifier: the frozen evaluator"),
    Lesson("02", "gan_theory", "GAN theory",
           "minimax value function, optimal discriminator, Jensen-Shannon link, mode collapse"),
    Lesson("03", "dcgan_mnist", "DCGAN on MNIST", "building and training a DCGAN with fit()"),
    Lesson("04", "vae_theory", "VAE theory",
           "ELBO from Jensen and from KL, reparameterisation, closed-form Gaussian KL"),
    Lesson("05", "vae_mnist", "VAE on MNIST", "a convolutional VAE: ELBO in nats, latent maps, samples"),
    Lesson("06", "diffusion_theory", "Diffusion and flow-matching theory",
           "the forward process, the noise-prediction loss, score and Tweedie, DDIM as an ODE, flow matching"),
    Lesson("07", "diffusion_mnist", "Diffusion on MNIST",
           "a time-conditioned U-Net trained with fit(); DDPM, DDIM, Euler and Heun samplers; guidance"),
    Lesson("08", "degradations_and_classical_restoration", "Degradations and classical restoration",
           "noise, masks, blur, downsampling; interpolation and classical restorers"),
    Lesson("09", "cnn_restoration", "CNN restoration", "a residual denoiser and a U-Net inpainter trained with MSE"),
    Lesson("10", "gan_restoration", "GAN restoration",
           "a pix2pix-style conditional GAN; the perception-distortion trade-off"),
    Lesson("11", "diffusion_restoration", "Diffusion restoration",
           ("zero-shot posterior sampling with a generative prior: RePaint, DPS, sample means and uncertainty; "
            "a flow restorer trained for the hole")),
    Lesson("12", "evaluation", "Evaluation", "MSE, PSNR, SSIM, FID/KID, recognition rate, human evaluation"),
    Lesson("13", "choosing_methods_and_challenges", "Choosing methods and challenges",
           "a measured decision table; overfitting, memorisation, data scarcity, misuse"),
)


def syllabus_markdown(current: str | None = None) -> str:
    """The syllabus as a Markdown table, linking the notebooks that are in the repository.

    Introduced in notebook 00_welcome_and_setup.
    """
    rows = ["| # | notebook | teaches |", "|---|---|---|"]
    for lesson in SYLLABUS:
        title = lesson.title
        if lesson.number == current:
            title = f"**{title}** (you are here)"
        elif lesson.available:
            title = f"[{title}]({lesson.filename})"
        rows.append(f"| {lesson.number} | {title} | {lesson.teaches} |")
    return "\n".join(rows)


def show_syllabus(current: str | None = None):
    """Display :func:`syllabus_markdown` in a notebook.

    Introduced in notebook 00_welcome_and_setup.
    """
    from IPython.display import Markdown

    return Markdown(syllabus_markdown(current))
