"""Automatic checks for the exercises in the notebooks.

A learner writes a function in a notebook cell (the stub raises ``NotImplementedError``) and
calls ``check("exercise_name", their_function)``. The check runs it and the hidden reference
(:mod:`course_lib.solutions`) on freshly drawn random inputs (after a few fixed ones, where a
common mistake shows only on a particular input) and prints one verdict:
**passed**, **not attempted yet** (the stub still raises), or **wrong** with the first failing
case and a hint. It never raises on the learner's code, so a notebook with untouched stubs
still runs top to bottom in CI. ``show_solution(name)`` prints the reference once the learner
has tried. Introduced in notebook 00_welcome_and_setup.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import textwrap
import warnings
from typing import Callable

import numpy as np

from course_lib import solutions
from course_lib._checks import one_of
from course_lib._checks import seed as check_seed


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise: its reference solution, how to draw a test case and the tolerances of the check.

    Introduced in notebook 00_welcome_and_setup.
    """
    name: str
    notebook: str
    reference: Callable
    make_case: Callable[[np.random.Generator], tuple]  # returns the positional arguments
    hint: str
    rtol: float = 1e-5
    atol: float = 1e-6
    num_cases: int = 5  # more for cheap exercises whose mistakes show only on some inputs
    # for exercises where the learner writes a class (a model's train_step or compute_loss): turns
    # the class into the function of a case's arguments whose results are compared
    wrap: Callable | None = None
    fixed_cases: tuple = ()  # argument tuples tried before the random ones, on every seed
    warnings_are_errors: bool = False  # the exercise asks for no warnings: a NumPy warning fails it


@contextlib.contextmanager
def _strict_floating_point(exercise: Exercise):
    """Inside, warnings and NumPy floating-point errors (not underflow) raise, if the exercise asks."""
    if not exercise.warnings_are_errors:
        yield
        return
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check`: passed, not attempted or wrong, with the message shown to the learner.

    Introduced in notebook 00_welcome_and_setup.
    """
    exercise: str
    status: str  # "passed", "not attempted", "wrong"
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        return self.message


EXERCISES: dict[str, Exercise] = {}
MAX_CASES = 1000  # random cases per check: enough to catch any mistake the hints describe


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to ``EXERCISES`` under its name; a name registered twice is a ``ValueError``.

    Introduced in notebook 00_welcome_and_setup.
    """
    if exercise.name in EXERCISES:
        raise ValueError(f"exercise {exercise.name!r} is registered twice.")
    EXERCISES[exercise.name] = exercise
    return exercise


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}, dtype {value.dtype}"
    return repr(value) if len(repr(value)) < 80 else type(value).__name__


def compare(expected, actual, rtol: float, atol: float) -> str | None:
    """``None`` when ``actual`` matches ``expected``; otherwise what differs, in words.

    Introduced in notebook 00_welcome_and_setup.
    """
    if isinstance(expected, tuple):
        if not isinstance(actual, tuple) or len(actual) != len(expected):
            return f"expected a tuple of {len(expected)} values, got {_describe(actual)}"
        for position, (want, got) in enumerate(zip(expected, actual)):
            problem = compare(want, got, rtol, atol)
            if problem:
                return f"item {position}: {problem}"
        return None
    if hasattr(actual, "numpy"):
        actual = actual.numpy()
    expected_array, actual_array = np.asarray(expected), np.asarray(actual)
    if actual_array.dtype == object:
        return f"expected {_describe(expected)}, got {_describe(actual)}"
    if expected_array.shape != actual_array.shape:
        return f"expected shape {expected_array.shape}, got shape {actual_array.shape}"
    if isinstance(expected, np.ndarray) and expected.dtype.kind == "f" and actual_array.dtype != expected.dtype:
        return f"expected dtype {expected.dtype}, got dtype {actual_array.dtype}"
    if not np.allclose(actual_array, expected_array, rtol=rtol, atol=atol, equal_nan=True):
        actual_values, expected_values = actual_array.astype(np.float64), expected_array.astype(np.float64)
        stray_nan = np.isnan(actual_values) & ~np.isnan(expected_values)
        if stray_nan.any():
            return (f"{int(stray_nan.sum())} of {stray_nan.size} values are nan where the reference has a "
                    f"number (an overflow, a log of 0, or 0 / 0?)")
        infinite_mismatch = np.isinf(actual_values) != np.isinf(expected_values)
        if infinite_mismatch.any():
            return (f"{int(infinite_mismatch.sum())} of {infinite_mismatch.size} values are infinite in one of "
                    f"yours and the reference but finite in the other")
        difference = np.abs(actual_values - expected_values)
        return f"values differ (largest difference {difference.max():.4g})"
    return None


def check(name: str, function: Callable, *, num_cases: int | None = None, seed: int | None = None,
          verbose: bool = True) -> CheckResult:
    """Check ``function`` against the reference of exercise ``name``; print and return the verdict.

    ``num_cases`` random cases are tried (by default the exercise's own number, 5 unless a common
    mistake shows only on some inputs; at most ``MAX_CASES``): a verdict of "passed" needs at
    least one. Whatever the learner passes as ``function`` and whatever it does, the check
    reports it; a wrong call of ``check`` itself (an unknown name, ``num_cases=0``, a negative
    seed) raises a ``ValueError``.

    Introduced in notebook 00_welcome_and_setup.
    """
    one_of(name, tuple(EXERCISES), "exercise")
    exercise = EXERCISES[name]
    if num_cases is None:
        num_cases = exercise.num_cases
    if isinstance(num_cases, bool) or not isinstance(num_cases, (int, np.integer)) or not 1 <= num_cases <= MAX_CASES:
        raise ValueError(f"num_cases must be an integer from 1 to {MAX_CASES}: \"passed\" on no case would "
                         f"check nothing; got {num_cases!r}.")
    reference, candidate = exercise.reference, function
    if exercise.wrap is not None:
        reference, candidate = exercise.wrap(reference), exercise.wrap(function)
    rng = np.random.default_rng(None if seed is None else check_seed(seed))
    result = None
    for case in range(num_cases):
        arguments = exercise.fixed_cases[case] if case < len(exercise.fixed_cases) else exercise.make_case(rng)
        expected = reference(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in arguments))
        try:
            with _strict_floating_point(exercise):
                actual = candidate(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in arguments))
        except NotImplementedError:
            result = CheckResult(name, "not attempted",
                                 f"⏳ {name}: not attempted yet. Replace `raise NotImplementedError` "
                                 f"with your code and run this cell again.")
            break
        except Exception as error:  # the learner's code may fail in any way
            result = CheckResult(name, "wrong",
                                 f"❌ {name}: your function raised {type(error).__name__}: {error} "
                                 f"(on arguments {', '.join(_describe(a) for a in arguments)}).\n"
                                 f"   Hint: {exercise.hint}")
            break
        problem = compare(expected, actual, exercise.rtol, exercise.atol)
        if problem:
            result = CheckResult(name, "wrong",
                                 f"❌ {name}: wrong on random case {case + 1} "
                                 f"({', '.join(_describe(a) for a in arguments)}): {problem}.\n"
                                 f"   Hint: {exercise.hint}")
            break
    if result is None:
        result = CheckResult(name, "passed", f"✅ {name}: passed on {num_cases} random cases.")
    if verbose:
        print(result.message)
    return result


def show_solution(name: str) -> str:
    """Print (and return) the reference solution of exercise ``name``.

    Introduced in notebook 00_welcome_and_setup.
    """
    one_of(name, tuple(EXERCISES), "exercise")
    source = textwrap.dedent(inspect.getsource(EXERCISES[name].reference))
    print(source)
    return source


# ----------------------------------------------------------------- 00_welcome_and_setup

def _raw_digits(rng: np.random.Generator) -> tuple:
    batch, height, width = rng.integers(1, 6), rng.integers(4, 29), rng.integers(4, 29)
    return (rng.integers(0, 256, size=(batch, height, width), dtype=np.uint8),)


def _labels(rng: np.random.Generator) -> tuple:
    num_classes = int(rng.integers(2, 12))
    labels = rng.integers(0, num_classes, size=int(rng.integers(1, 200)))
    if rng.random() < 0.6:  # a class that never occurs, often the last (bincount needs minlength)
        absent = num_classes - 1 if rng.random() < 0.5 else int(rng.integers(num_classes))
        labels = np.where(labels == absent, (absent + 1) % num_classes, labels)
    return labels, num_classes


def _images_and_labels(rng: np.random.Generator) -> tuple:
    num_classes = int(rng.integers(2, 6))
    labels = np.concatenate([np.arange(num_classes), rng.integers(0, num_classes, size=20)])
    images = rng.random((len(labels), 6, 5, 1), dtype=np.float32)
    return images, labels, num_classes


register(Exercise("to_unit_range", "00_welcome_and_setup", solutions.to_unit_range, _raw_digits,
                  "divide by 255 as float32, then add a channel axis with images[..., np.newaxis]."))
register(Exercise("class_frequencies", "00_welcome_and_setup", solutions.class_frequencies, _labels,
                  "np.bincount(labels, minlength=num_classes) counts every class, including "
                  "classes that never occur; divide by the total.", num_cases=10))
register(Exercise("mean_image_per_class", "00_welcome_and_setup", solutions.mean_image_per_class,
                  _images_and_labels,
                  "select images[labels == label] for each label and average over axis 0; "
                  "stack the results in label order."))


# ----------------------------------------------------------------- 12_evaluation

def _restored_and_clean(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 6)), int(rng.integers(4, 29)), int(rng.integers(4, 29)),
             int(rng.choice([1, 3])))
    references = rng.random(shape)
    # each image gets its own noise level, so per-image and pooled PSNR differ
    noise_levels = rng.uniform(0.01, 0.3, size=(shape[0], 1, 1, 1))
    images = np.clip(references + noise_levels * rng.standard_normal(shape), 0.0, 1.0)
    return images, references


def _two_gaussians(rng: np.random.Generator) -> tuple:
    return (float(rng.normal(0.0, 2.0)), float(rng.uniform(0.05, 4.0)),
            float(rng.normal(0.0, 2.0)), float(rng.uniform(0.05, 4.0)))


def _votes(rng: np.random.Generator) -> tuple:
    num_votes = int(rng.integers(1, 300))
    if rng.random() < 0.5:  # an exact tie: 2 P(K <= n / 2) exceeds 1 unless it is capped
        num_votes += num_votes % 2
        return num_votes // 2, num_votes
    return int(rng.integers(0, num_votes + 1)), num_votes


register(Exercise("pooled_psnr", "12_evaluation", solutions.pooled_psnr, _restored_and_clean,
                  "average the squared error over every pixel of every image (one number), "
                  "then 10 * np.log10(1 / that); return a float."))
register(Exercise("frechet_distance_1d", "12_evaluation", solutions.frechet_distance_1d, _two_gaussians,
                  "in 1-D the covariances are the variances and (S_a S_b)^(1/2) = sqrt(var_a * var_b); "
                  "the mean term is (mean_a - mean_b) ** 2."))
register(Exercise("two_sided_binomial_p_value", "12_evaluation", solutions.two_sided_binomial_p_value,
                  _votes,
                  "with t = min(k, n - k), the p-value is 2 * P(K <= t) for K ~ Binomial(n, 1/2), "
                  "where P(K = i) = math.comb(n, i) / 2 ** n; cap it at 1.", rtol=1e-6, atol=1e-12,
                  fixed_cases=((50, 100),)))  # a tie on an even n: 2 P(K <= 50) = 1.08 without the cap


# ----------------------------------------------------------------- 02_gan_theory

def _two_densities(rng: np.random.Generator) -> tuple:
    size = int(rng.integers(5, 60))
    p_data, p_generator = rng.random(size) * 2, rng.random(size) * 2
    p_data[rng.random(size) < 0.2] = 0.0        # places only the generator reaches
    p_generator[rng.random(size) < 0.2] = 0.0   # places only the data reaches
    both_empty = rng.random(size) < 0.2
    both_empty[rng.integers(size)] = True       # at least one 0 / 0
    p_data[both_empty] = 0.0
    p_generator[both_empty] = 0.0
    return p_data, p_generator


def _discriminator_scores(rng: np.random.Generator) -> tuple:
    return (rng.uniform(0.01, 0.99, size=int(rng.integers(1, 200))),
            rng.uniform(0.01, 0.99, size=int(rng.integers(1, 200))))


def _two_distributions(rng: np.random.Generator) -> tuple:
    size = int(rng.integers(2, 12))
    p, q = rng.dirichlet(np.ones(size)), rng.dirichlet(np.ones(size))
    p[rng.integers(size)] = 0.0                 # zeros: 0 log 0 = 0
    q[rng.integers(size)] = 0.0
    return p / p.sum(), q / q.sum()


register(Exercise("optimal_discriminator", "02_gan_theory", solutions.optimal_discriminator, _two_densities,
                  "D* = p_data / (p_data + p_generator); where both are 0 that is 0/0, so use "
                  "np.where(total > 0, ..., 0.5) and divide by np.where(total > 0, total, 1.0) (np.where "
                  "computes both branches, so p / total inside it still divides 0 by 0; the check turns "
                  "that warning into an error).", warnings_are_errors=True))
register(Exercise("value_function_monte_carlo", "02_gan_theory", solutions.value_function_monte_carlo,
                  _discriminator_scores,
                  "average np.log(real_scores) and np.log(1 - fake_scores) separately (the two sets can "
                  "have different sizes), then add the two averages; return a float."))
register(Exercise("jensen_shannon", "02_gan_theory", solutions.jensen_shannon, _two_distributions,
                  "m = (p + q) / 2; KL(a || m) = sum of a * log(a / m) over the entries where a > 0 "
                  "(0 log 0 = 0); JSD = (KL(p || m) + KL(q || m)) / 2, in nats (np.log)."))


# ----------------------------------------------------------------- 01_images_tensors_and_cnns

def _convolution_sizes(rng: np.random.Generator) -> tuple:
    kernel_size = int(rng.integers(1, 8))
    input_size = int(rng.integers(kernel_size, 65))
    return input_size, kernel_size, int(rng.integers(1, 4)), str(rng.choice(["valid", "same"]))


def _logits(rng: np.random.Generator) -> tuple:
    scale = float(rng.choice([1.0, 10.0, 1000.0]))
    logits = scale * rng.normal(size=(int(rng.integers(1, 8)), int(rng.integers(2, 12))))
    logits[rng.integers(len(logits))] += 1000.0  # every case: a row where a naive exp overflows
    return (logits,)


def _label_pairs(rng: np.random.Generator) -> tuple:
    num_classes = int(rng.integers(2, 11))
    size = int(rng.integers(1, 300))
    return rng.integers(0, num_classes, size), rng.integers(0, num_classes, size), num_classes


register(Exercise("conv2d_output_size", "01_images_tensors_and_cnns", solutions.conv2d_output_size,
                  _convolution_sizes,
                  '"valid": (n - k) // s + 1; "same": the input is padded so that the output is ceil(n / s), '
                  "whatever the kernel size.", num_cases=40))
register(Exercise("softmax", "01_images_tensors_and_cnns", solutions.softmax, _logits,
                  "subtract each row's maximum before exp: softmax does not change, and exp no longer "
                  "overflows for logits like 1000."))
register(Exercise("confusion_matrix", "01_images_tensors_and_cnns", solutions.confusion_matrix, _label_pairs,
                  "rows are true classes, columns predicted ones; np.add.at(counts, (true, predicted), 1) "
                  "counts repeated pairs correctly (counts[true, predicted] += 1 does not)."))


# ----------------------------------------------------------------- 03_dcgan_mnist

def _latent_pair(rng: np.random.Generator) -> tuple:
    latent_dim = int(rng.integers(2, 100))
    return (rng.normal(size=latent_dim).astype(np.float32), rng.normal(size=latent_dim).astype(np.float32),
            int(rng.integers(2, 12)))


def _predicted_labels(rng: np.random.Generator) -> tuple:
    num_classes = int(rng.integers(2, 11))
    size = int(rng.integers(1, 400))
    labels = rng.integers(0, num_classes, size)
    if rng.random() < 0.6:  # a class the generator never draws (np.unique's counts do not show it)
        absent = int(rng.integers(num_classes))
        labels = np.where(labels == absent, (absent + 1) % num_classes, labels)
    return labels, num_classes


def _model_class(candidate, plumbing, model):
    """The learner's class as it is (a subclass of ``plumbing``, e.g. the notebook's ``GAN``), or a
    reference (a class holding only the changed method) mixed into ``model``, the library's version."""
    if not isinstance(candidate, type):
        raise TypeError(f"pass the class itself (e.g. HingeGAN, not HingeGAN(...)), got {type(candidate).__name__}.")
    if issubclass(candidate, plumbing):
        return candidate
    return type(candidate.__name__, (candidate, model), {})


def _random_weights(network, rng: np.random.Generator) -> None:
    network.set_weights([rng.normal(0.0, 1.0, weight.shape).astype(np.float32) for weight in network.get_weights()])


def _flat_weights(network) -> np.ndarray:
    return np.concatenate([np.ravel(weight) for weight in network.get_weights()])


def _one_gan_training_step(model_class):
    """``model_class`` -> f(real_points, seed): what one ``train_step`` on a toy GAN gives.

    The toy GAN draws points in 2-D (notebook 02's networks, 8 hidden units, weights drawn from
    ``seed``); both players step with SGD (learning rate 0.1), so the weights after the step show
    the size of each gradient, not only its direction (Adam would hide a factor in a loss).
    Returns the reported ``d_loss`` and ``g_loss``, then the discriminator's and the generator's
    weights after the step.
    """
    def step(real_points, seed):
        import keras

        from course_lib import gan

        model_type = _model_class(model_class, gan.GANBase, gan.GAN)
        rng = np.random.default_rng(seed)
        generator = gan.build_mlp_generator(2, 2, hidden_units=8, num_hidden=1)
        discriminator = gan.build_mlp_discriminator(2, hidden_units=8, num_hidden=1)
        _random_weights(generator, rng)
        _random_weights(discriminator, rng)
        model = model_type(generator, discriminator, 2, scale_images=False, seed=int(seed))
        model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
        logs = model.train_step(keras.ops.convert_to_tensor(real_points))
        losses = np.array([float(logs["d_loss"]), float(logs["g_loss"])])
        return losses, _flat_weights(model.discriminator), _flat_weights(model.generator)

    return step


def _real_points(rng: np.random.Generator) -> tuple:
    points = rng.normal(0.0, 2.0, size=(int(rng.integers(8, 33)), 2)).astype(np.float32)
    return points, int(rng.integers(0, 2**31 - 1))


register(Exercise("slerp", "03_dcgan_mnist", solutions.slerp, _latent_pair,
                  "compute Omega = arccos(a.b / (|a| |b|)), then weights sin((1-t) Omega) / sin(Omega) and "
                  "sin(t Omega) / sin(Omega) for t = np.linspace(0, 1, num_steps); return float32.", rtol=1e-4,
                  atol=1e-5))
register(Exercise("class_balance_ratio", "03_dcgan_mnist", solutions.class_balance_ratio, _predicted_labels,
                  "np.bincount(labels, minlength=num_classes) gives every class's count; a count of 0 "
                  "makes the ratio infinite.", num_cases=10))
register(Exercise("hinge_gan", "03_dcgan_mnist", solutions.HingeGAN, _real_points,
                  "discriminator_objective returns ops.mean(ops.relu(1.0 - real_logits)) + "
                  "ops.mean(ops.relu(1.0 + fake_logits)); generator_objective returns -ops.mean(generated_logits) "
                  "(no relu: the generator has no margin).", num_cases=3, wrap=_one_gan_training_step))


# ----------------------------------------------------------------- 08_degradations_and_classical_restoration

def _hole_sizes(rng: np.random.Generator) -> tuple:
    image_size = int(rng.integers(4, 40))
    return image_size, int(rng.integers(1, image_size + 1))


def _masked_batch(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 5)), int(rng.integers(4, 29)), int(rng.integers(4, 29)), int(rng.choice([1, 3])))
    mask = (rng.random(shape[:3] + (1,)) < 0.6).astype(np.float32)
    damaged = (rng.random(shape) * mask).astype(np.float32)
    return damaged, mask, rng.random(shape[1:]).astype(np.float32)


def _clean_values_and_sigma(rng: np.random.Generator) -> tuple:
    values = rng.random(int(rng.integers(1, 50)))
    values[:2] = [0.0, 1.0][:len(values[:2])]  # the extremes, where clipping matters most
    return values, float(rng.uniform(0.01, 1.0))


register(Exercise("centre_hole_mask", "08_degradations_and_classical_restoration", solutions.centre_hole_mask,
                  _hole_sizes,
                  "start from np.ones((image_size, image_size), np.float32); corner = (image_size - hole_size) // 2; "
                  "set mask[corner:corner + hole_size, corner:corner + hole_size] = 0.", num_cases=20))
register(Exercise("mean_fill", "08_degradations_and_classical_restoration", solutions.mean_fill, _masked_batch,
                  "mask * damaged + (1 - mask) * mean_image[None]: the mask's single channel and the mean "
                  "image's missing batch axis broadcast."))
register(Exercise("clipped_noise_mean", "08_degradations_and_classical_restoration", solutions.clipped_noise_mean,
                  _clean_values_and_sigma,
                  "a = -x / sigma, b = (1 - x) / sigma; x (Phi(b) - Phi(a)) + sigma (phi(a) - phi(b)) + 1 - Phi(b), "
                  "with scipy.stats.norm.cdf and norm.pdf.", rtol=1e-6, atol=1e-8))


# ----------------------------------------------------------------- 04_vae_theory

def _gaussian_parameters(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 20)), int(rng.integers(1, 17)))
    return rng.normal(size=shape), rng.normal(size=shape)


def _gaussian_parameters_and_noise(rng: np.random.Generator) -> tuple:
    mean, log_var = _gaussian_parameters(rng)
    return mean, log_var, rng.standard_normal(mean.shape)


def _log_weights(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 200)), int(rng.integers(1, 10)))
    offsets = -rng.choice([1.0, 100.0, 1000.0], size=shape[1])    # one level per column (image)
    offsets[rng.integers(shape[1])] = -1000.0                     # every case: exp(-1000) underflows
    return (rng.normal(offsets, 5.0, size=shape),)


register(Exercise("gaussian_kl_closed_form", "04_vae_theory", solutions.gaussian_kl_closed_form,
                  _gaussian_parameters,
                  "-0.5 * (1 + log_var - mean**2 - np.exp(log_var)), summed over axis 1 (the latent dimensions)."))
register(Exercise("reparameterize", "04_vae_theory", solutions.reparameterize, _gaussian_parameters_and_noise,
                  "sigma is the standard deviation, np.exp(log_var / 2), not the variance np.exp(log_var); "
                  "add mean + sigma * eps, element by element."))
register(Exercise("importance_weighted_bound", "04_vae_theory", solutions.importance_weighted_bound, _log_weights,
                  "m = log_weights.max(axis=0); return m + np.log(np.mean(np.exp(log_weights - m), axis=0))."))


# ----------------------------------------------------------------- 05_vae_mnist

def _nats(rng: np.random.Generator) -> tuple:
    return rng.uniform(50.0, 600.0, size=int(rng.integers(1, 20))), int(rng.choice([784, 3072, 4096]))


def _grid_size(rng: np.random.Generator) -> tuple:
    return (int(rng.integers(1, 16)),)


def _posterior_means(rng: np.random.Generator) -> tuple:
    latent_dim = int(rng.integers(2, 20))
    scales = np.where(rng.random(latent_dim) < 0.5, rng.uniform(0.2, 2.0, latent_dim), rng.uniform(0.0, 0.05, latent_dim))
    return rng.normal(size=(int(rng.integers(50, 300)), latent_dim)) * scales, float(rng.choice([0.01, 0.05]))


def _vae_loss_at_iteration(model_class):
    """``model_class`` -> f(images, beta, warmup_epochs, steps_per_epoch, iteration, seed): one ``compute_loss``.

    A toy VAE (6 binary pixels, latent 2, weights drawn from ``seed``) whose optimizer has made
    ``iteration`` updates. Returns the loss ``compute_loss`` returned and what its ``loss``,
    ``reconstruction`` and ``kl`` trackers hold afterwards.
    """
    def loss_at(images, beta, warmup_epochs, steps_per_epoch, iteration, seed):
        import keras
        from keras import layers

        from course_lib import vae

        model_type = _model_class(model_class, vae.VAEBase, vae.VAE)
        rng = np.random.default_rng(seed)
        pixels = keras.Input((images.shape[1],))
        encoder = keras.Model(pixels, [layers.Dense(2)(pixels), layers.Dense(2)(pixels)])
        code = keras.Input((2,))
        decoder = keras.Model(code, layers.Dense(images.shape[1])(code))
        _random_weights(encoder, rng)
        _random_weights(decoder, rng)
        model = model_type(encoder, decoder, beta=beta, seed=int(seed), warmup_epochs=warmup_epochs,
                           steps_per_epoch=steps_per_epoch)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        model.optimizer.iterations.assign(iteration)
        loss = model.compute_loss(x=keras.ops.convert_to_tensor(images), training=True)
        return np.array([float(loss), *(float(metric.result()) for metric in model.metrics)])

    return loss_at


def _warmup_case(rng: np.random.Generator) -> tuple:
    images = rng.random((int(rng.integers(4, 17)), 6)).astype(np.float32)
    warmup_epochs, steps_per_epoch = int(rng.integers(2, 7)), int(rng.integers(2, 21))
    epoch = int(rng.integers(0, warmup_epochs + 2))  # mostly inside the warm-up, where mistakes show
    iteration = epoch * steps_per_epoch + int(rng.integers(1, steps_per_epoch))  # mid-epoch
    return (images, float(rng.choice([0.5, 2.0, 4.0])), warmup_epochs, steps_per_epoch, iteration,
            int(rng.integers(0, 2**31 - 1)))


register(Exercise("bits_per_dimension", "05_vae_mnist", solutions.bits_per_dimension, _nats,
                  "1 nat = 1 / ln 2 bits: divide the nats by num_dimensions * np.log(2)."))
register(Exercise("gaussian_quantile_grid", "05_vae_mnist", solutions.gaussian_quantile_grid, _grid_size,
                  "scipy.stats.norm.ppf((np.arange(n) + 0.5) / n) gives the quantiles; np.meshgrid(q, q) then "
                  "np.stack([first.ravel(), second.ravel()], axis=1)."))
register(Exercise("active_units", "05_vae_mnist", solutions.active_units, _posterior_means,
                  "posterior_means.var(axis=0) is each dimension's variance across images; count those above "
                  "threshold and return an int."))
register(Exercise("kl_warmup_vae", "05_vae_mnist", solutions.KLWarmupVAE, _warmup_case,
                  "start from VAE.compute_loss; epoch = ops.floor_divide(self.optimizer.iterations, "
                  "self.steps_per_epoch) counts from 0; beta_t = self.beta * ops.minimum(1.0, ops.cast(epoch, "
                  "'float32') / self.warmup_epochs) weighs the KL in the loss; the kl tracker keeps the unweighted "
                  "KL.", num_cases=8, rtol=1e-5, atol=1e-5, wrap=_vae_loss_at_iteration))


# ----------------------------------------------------------------- 06_diffusion_theory

def _points_and_levels(rng: np.random.Generator) -> tuple:
    dim = int(rng.integers(1, 5))
    count = int(rng.integers(1, 12))
    alpha = rng.uniform(0.05, 0.95, count)
    return rng.normal(size=(count, dim)), alpha, rng.uniform(0.05, 0.95, count), rng.standard_normal((count, dim))


def _betas_and_step(rng: np.random.Generator) -> tuple:
    num_steps = int(rng.integers(2, 300))
    betas = np.linspace(1e-4, 0.02, num_steps) * rng.uniform(0.5, 2.0)
    return betas, int(rng.integers(1, num_steps + 1))


def _points_scores_and_levels(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 20)), int(rng.integers(1, 4)))
    return (rng.normal(size=shape), rng.normal(size=shape), float(rng.uniform(0.1, 0.9)),
            float(rng.uniform(0.2, 0.9)))


def _ddim_case(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 20)), int(rng.integers(1, 4)))
    alpha_t, alpha_s = np.sort(rng.uniform(0.1, 0.95, 2))               # s < t: more signal at s
    return (rng.normal(size=shape), rng.normal(size=shape), float(alpha_t), float(rng.uniform(0.3, 0.99)),
            float(alpha_s), float(rng.uniform(0.05, 0.3)))


_FIXED_RNG = np.random.default_rng(6)
register(Exercise("forward_process_sample", "06_diffusion_theory", solutions.forward_process_sample,
                  _points_and_levels,
                  "alpha[:, None] * x_0 + sigma[:, None] * eps: sigma is the standard deviation of the noise "
                  "(not the variance sigma**2), and one alpha and sigma per row, so add an axis to broadcast.",
                  # three points in three dimensions: alpha * x_0 without the new axis broadcasts silently
                  fixed_cases=((_FIXED_RNG.normal(size=(3, 3)), np.array([0.9, 0.5, 0.1]), np.array([0.3, 0.6, 0.95]),
                                _FIXED_RNG.standard_normal((3, 3))),)))
register(Exercise("ddpm_posterior_variance", "06_diffusion_theory", solutions.ddpm_posterior_variance,
                  _betas_and_step,
                  "abar = np.cumprod(1 - betas); step t counts from 1, so abar_t is abar[t - 1] and abar_{t-1} is "
                  "abar[t - 2], except at t = 1 where abar_0 = 1 (abar[-1] would be the last step's); return "
                  "(1 - abar_{t-1}) / (1 - abar_t) * betas[t - 1] as a float.",
                  fixed_cases=((np.linspace(1e-4, 0.02, 1000), 1), (np.linspace(1e-4, 0.02, 1000), 2),
                               (np.linspace(1e-4, 0.02, 1000), 1000))))
register(Exercise("tweedie_denoise", "06_diffusion_theory", solutions.tweedie_denoise, _points_scores_and_levels,
                  "(x_t + sigma**2 * score) / alpha: the variance sigma**2 multiplies the score, and dividing by "
                  "alpha undoes the shrinking of the signal."))
register(Exercise("ddim_step", "06_diffusion_theory", solutions.ddim_step, _ddim_case,
                  "first the denoised estimate x0_hat = (x_t - sigma_t * eps_hat) / alpha_t, then "
                  "alpha_s * x0_hat + sigma_s * eps_hat: the same noise direction, at the noise level of s."))


# ----------------------------------------------------------------- 09_cnn_restoration

def _restored_and_clean_digits(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 9)), 28, 28, 1)
    clean = rng.random(shape)
    return np.clip(clean + rng.normal(0.0, rng.uniform(0.01, 0.3), shape), 0.0, 1.0), clean


def _prediction_damaged_mask(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 6)), 28, 28, int(rng.choice([1, 3])))
    mask = (rng.random(shape[:3] + (1,)) < rng.uniform(0.2, 0.8)).astype(np.float64)
    return rng.random(shape), rng.random(shape) * mask, mask


def _restored_clean_count(rng: np.random.Generator) -> tuple:
    size = int(rng.integers(5, 40))
    clean = rng.random((size, 28, 28, 1))
    noise = rng.normal(size=(size, 28, 28, 1)) * rng.uniform(0.01, 0.4, size=(size, 1, 1, 1))  # one level per image
    return clean + noise, clean, int(rng.integers(1, size + 1))


register(Exercise("mse_objective", "09_cnn_restoration", solutions.mse_objective, _restored_and_clean_digits,
                  "np.mean((restored - clean) ** 2): one number, the mean over images, rows, columns and channels."))
register(Exercise("paste_known_pixels", "09_cnn_restoration", solutions.paste_known_pixels, _prediction_damaged_mask,
                  "mask * damaged + (1 - mask) * predicted; the mask (N, H, W, 1) broadcasts over channels."))
register(Exercise("worst_restorations", "09_cnn_restoration", solutions.worst_restorations, _restored_clean_count,
                  "per-image MSE with .mean(axis=(1, 2, 3)), PSNR = 10 log10(1 / MSE), then np.argsort(psnr)[:count] "
                  "(lowest first)."))
# ----------------------------------------------------------------- 10_gan_restoration

def _convolution_stack(rng: np.random.Generator) -> tuple:
    depth = int(rng.integers(1, 6))
    return [int(k) for k in rng.integers(1, 8, size=depth)], [int(s) for s in rng.integers(1, 4, size=depth)]


def _restorations_and_logits(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 6)), 28, 28, 1)
    logits_shape = (shape[0], int(rng.choice([1, 7, 14])), int(rng.choice([1, 7, 14])), 1)
    logits = float(rng.choice([1.0, 50.0])) * rng.normal(size=logits_shape)
    logits.flat[rng.integers(logits.size)] = -rng.uniform(720.0, 2000.0)  # np.exp(-l) overflows past 709.8
    return rng.random(shape), rng.random(shape), logits, float(rng.choice([0.0, 0.01, 0.3, 1.0]))


def _trade_off_points(rng: np.random.Generator) -> tuple:
    size = int(rng.integers(1, 12))
    distortion = rng.integers(0, 6, size=size).astype(float)  # ties happen
    return distortion, rng.integers(0, 6, size=size).astype(float)


register(Exercise("patch_receptive_field", "10_gan_restoration", solutions.patch_receptive_field,
                  _convolution_stack,
                  "start from r = 1 at the output and go back through the layers, last one first: "
                  "r = (r - 1) * stride + kernel; return an int."))
register(Exercise("pix2pix_generator_loss", "10_gan_restoration", solutions.pix2pix_generator_loss,
                  _restorations_and_logits,
                  "np.mean(np.abs(restored - clean)) + weight * np.mean(-log sigmoid(logits)); write "
                  "-log sigmoid(l) as np.logaddexp(0, -l) so large logits do not overflow.", rtol=1e-6))
register(Exercise("pareto_front", "10_gan_restoration", solutions.pareto_front, _trade_off_points,
                  "point i is dominated when some j is <= on both and < on at least one; return the "
                  "indices of the others as an int array, in ascending order."))
# ----------------------------------------------------------------- 13_choosing_methods_and_challenges

def _validation_curve(rng: np.random.Generator) -> tuple:
    epochs = int(rng.integers(1, 30))
    # falls, then wanders: a U-shaped curve with noise and ties (rounded)
    curve = (np.linspace(1.0, 0.2, epochs) + 0.02 * np.maximum(0, np.arange(epochs) - rng.integers(0, epochs + 1)) ** 1.5
             + rng.normal(0.0, 0.03, epochs))
    return np.round(curve, 2), int(rng.integers(1, 6))


def _two_distance_sets(rng: np.random.Generator) -> tuple:
    return (rng.uniform(0.0, 10.0, int(rng.integers(1, 50))), rng.uniform(1.0, 10.0, int(rng.integers(1, 50))))


def _methods_table(rng: np.random.Generator) -> tuple:
    count = int(rng.integers(1, 10))
    quality = np.round(rng.uniform(10.0, 30.0, count), 0)            # ties happen
    milliseconds = np.round(rng.uniform(0.1, 5.0, count), 0)        # ties happen
    # half the time the bar is exactly one method's quality: ">=" and ">" then differ
    minimum = float(rng.choice(quality)) if rng.random() < 0.5 else float(rng.uniform(10.0, 30.0))
    return quality, milliseconds, minimum


register(Exercise("early_stopping", "13_choosing_methods_and_challenges", solutions.early_stopping,
                  _validation_curve,
                  "walk the epochs 1, 2, ...; remember the epoch of the lowest loss so far (strictly lower); stop "
                  "when epoch - best_epoch reaches patience; if that never happens, stop at the last epoch. "
                  "Return (stop_epoch, best_epoch), both counted from 1.", num_cases=40))
register(Exercise("median_distance_ratio", "13_choosing_methods_and_challenges", solutions.median_distance_ratio,
                  _two_distance_sets,
                  "np.median(sample_distances) / np.median(held_out_distances), as a float."))
register(Exercise("fastest_good_enough", "13_choosing_methods_and_challenges", solutions.fastest_good_enough,
                  _methods_table,
                  "keep the indices with quality >= minimum_quality; among them take the smallest milliseconds, "
                  "breaking ties by higher quality, then by lower index; return -1 if none is kept.", num_cases=40))
# ----------------------------------------------------------------- 07_diffusion_mnist

def _images_noise_times(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(2, 7)), 28, 28, 1)    # at least 2 images: a (N,) time must be broadcast per image
    t = rng.random(shape[0])
    t[0] = 0.0 if rng.random() < 0.5 else 1.0       # an end of the path, where a swapped convention shows
    return rng.random(shape), rng.standard_normal(shape), t


def _guidance_case(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 5)), 28, 28, 1)
    return rng.standard_normal(shape), rng.standard_normal(shape), float(rng.choice([0.0, 0.5, 2.0, 3.0, 5.0]))


class _TimeDependentVelocity:
    """v(x, t) = a x + b t + c: a velocity field that depends on t, so that stepping with the wrong
    time, in the wrong direction or a step too many or too few gives another answer."""

    def __init__(self, rng: np.random.Generator):
        self.a, self.b, self.c = rng.uniform(-1.0, 1.0), rng.uniform(0.5, 2.0), rng.uniform(-1.0, 1.0)

    def __call__(self, x, t):
        return self.a * x + self.b * t + self.c

    def __repr__(self) -> str:
        return f"velocity(x, t) = {self.a:.2f} x + {self.b:.2f} t + {self.c:.2f}"


def _velocity_noise_steps(rng: np.random.Generator) -> tuple:
    return (_TimeDependentVelocity(rng), rng.standard_normal((int(rng.integers(1, 5)), 3)),
            int(rng.integers(2, 9)))


register(Exercise("velocity_training_pair", "07_diffusion_mnist", solutions.velocity_training_pair,
                  _images_noise_times,
                  "x_0 = 2 * images - 1 first (the model works in [-1, 1]); t = t.reshape(-1, 1, 1, 1) so each "
                  "image gets its own time; x_t = (1 - t) * x_0 + t * noise (t = 0 is data, t = 1 noise); "
                  "the target is the velocity d x_t / dt = noise - x_0. Return (x_t, target)."))
register(Exercise("guided_velocity", "07_diffusion_mnist", solutions.guided_velocity, _guidance_case,
                  "start from the unconditional prediction and move w times the difference towards the "
                  "conditional one: unconditional + weight * (conditional - unconditional); w = 1 gives the "
                  "conditional prediction, w = 0 the unconditional one."))
register(Exercise("euler_flow_sampler", "07_diffusion_mnist", solutions.euler_flow_sampler,
                  _velocity_noise_steps,
                  "times = np.linspace(1, 0, num_steps + 1); for each pair (t, s) of neighbours, "
                  "x = x + (s - t) * velocity(x, t): the velocity at the start of the step, and s - t is negative.",
                  num_cases=10))
# ----------------------------------------------------------------- 11_diffusion_restoration

def _noise_std(rng: np.random.Generator) -> tuple:
    return (float(rng.choice([0.0, 0.2, 0.6, 1.0])) if rng.random() < 0.3 else float(rng.uniform(0.0, 3.0)),)


def _posterior_samples(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 4)), int(rng.integers(2, 6)), 4, 4, 1)   # (N, k, H, W, C), k >= 2
    return (rng.random(shape),)


def _sample_count(rng: np.random.Generator) -> tuple:
    return (int(rng.integers(1, 65)),)


register(Exercise("straight_matching_time", "11_diffusion_restoration", solutions.straight_matching_time,
                  _noise_std,
                  "on the straight path alpha = 1 - t and sigma = t, so sigma / alpha = t / (1 - t); set it equal "
                  "to noise_std and solve for t: t = noise_std / (1 + noise_std).", fixed_cases=((0.0,), (1.0,))))
register(Exercise("sample_mean_and_spread", "11_diffusion_restoration", solutions.sample_mean_and_spread,
                  _posterior_samples,
                  "samples.mean(axis=1) and samples.std(axis=1, ddof=1): axis 1 holds the k samples of each "
                  "input, and ddof=1 divides by k - 1. Return the pair (mean, std)."))
register(Exercise("mean_of_k_psnr_gain", "11_diffusion_restoration", solutions.mean_of_k_psnr_gain,
                  _sample_count,
                  "one sample has error 2 MMSE and the mean of k has (1 + 1/k) MMSE; the PSNR gap is 10 log10 of "
                  "their ratio: 10 * np.log10(2 / (1 + 1 / k)). k = 1 gives 0.", fixed_cases=((1,), (16,))))
