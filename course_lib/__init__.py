"""course_lib: the tested building blocks of the course *Deep Learning for Image Generation
and Restoration*.

Modules (each opens with what it is for and which notebooks use it):

- ``course_lib.data``: MNIST and Fashion-MNIST loading, offline first; ``tf.data`` pipelines.
- ``course_lib.runtime``: seeds, device report, ``tf.distribute`` strategy, budgets.
- ``course_lib.training``: the one resumable, time-limited ``fit`` every model family trains
  through, and the shipped-model layer (manifests, load-or-train).
- ``course_lib.viz``: image grids, comparisons, training curves (figures, never ``plt.show``).
- ``course_lib.exercises``: automatic checks of the learners' exercises.
- ``course_lib.solutions``: the reference solutions those checks compare against.
- ``course_lib.report``: headline numbers that the rendered course index collects.
- ``course_lib.syllabus``: one entry per notebook, for notebook 00, the README check and the index.
- ``course_lib.evaluator``: the frozen CNN that judges every image (features for FID, recognition).
- ``course_lib.metrics``: image-quality and generative-model metrics.
- ``course_lib.human_eval``: a reproducible two-alternative forced-choice protocol.
- ``course_lib.gan`` / ``course_lib.gan_theory``: GAN losses, the DCGAN and its training, and the
  numerical checks of GAN theory on a 1-D grid.
- ``course_lib.degradations``: noise, masks (1 = known pixel), blur, downsampling, named by level.
- ``course_lib.restorer``: the restorer contract every restoration method follows (notebooks 08-10).
- ``course_lib.restoration``: the classical restorers of notebook 08 and their tuning on validation
  digits (NumPy, SciPy, scikit-image and bm3d only).
- ``course_lib.benchmark``: the restoration benchmark table (PSNR, SSIM, recognition, FID, time).
- ``course_lib.learned_restoration``: the learned CNN restorers of notebook 09 (DnCNN, U-Net),
  their training and their shipped weights.
- ``course_lib.vae`` / ``course_lib.vae_theory``: variational autoencoders (ELBO, importance-weighted bound, training) and the exact linear-Gaussian checks of their theory.
- ``course_lib.diffusion_theory`` / ``course_lib.diffusion``: diffusion and flow matching: schedules, the
  posterior, score and Tweedie, the DDPM/DDIM/Euler/Heun samplers and an exact Gaussian mixture (NumPy,
  notebook 06); the time-conditioned U-Net, the ``Diffusion`` model ``fit()`` trains, guidance and the
  shipped flow-matching model (notebook 07).
- ``course_lib.pix2pix``: the conditional GAN restorer of notebook 10 (PatchGAN, L1 + lambda * adversarial).
- ``course_lib.decisions`` / ``course_lib.challenges``: notebook 13's measured decision table (read from the
  shipped manifests) and its experiments: overfitting, memorisation, data size, width, latent traversals.
- ``course_lib.posterior_sampling`` / ``course_lib.diffusion_restoration``: zero-shot restoration with a
  diffusion prior (RePaint, DPS, the matching-noise start) and its checks on a 2-D mixture (notebook 11).
- ``course_lib.generalisation``: notebook 13's two-dataset table: which lessons of the digits hold on
  Fashion-MNIST, read from the benchmarks' results on both datasets.

Importing the package does not import TensorFlow: submodules import it when they need it. It
does check that some TensorFlow is installed (``tensorflow``, ``tensorflow-cpu`` or any other
build that provides the module), because installing the course never installs one over another:
``pip install -e .`` keeps the TensorFlow you have, ``pip install -e ".[tensorflow]"`` adds one.
"""

import importlib.util
import sys
import warnings

__version__ = "0.7.0"

if "tensorflow" not in sys.modules and importlib.util.find_spec("tensorflow") is None:
    raise ImportError(
        "course_lib needs TensorFlow 2.16.2 or newer, and none is installed in this Python "
        "environment. Install it with the course, pip install -e \".[tensorflow]\", or on its own, "
        "pip install tensorflow (tensorflow-cpu or another build of TensorFlow works too).")

# Keras warns on every fit() with a tf.data pipeline that its default shuffle=True is ignored;
# the course's pipelines shuffle themselves, so the warning only distracts.
warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed")
