"""Reference solutions of the notebooks' exercises.

:mod:`course_lib.exercises` checks a learner's function against these on random inputs, and
``exercises.show_solution(name)`` prints one after a learner has tried. Each is written the way
the course would like a learner to write it. Grouped by notebook.
"""

from __future__ import annotations

import numpy as np


# ----------------------------------------------------------------- 00_welcome_and_setup

def to_unit_range(raw_images: np.ndarray) -> np.ndarray:
    """uint8 images (batch, height, width) -> float32 NHWC images in [0, 1].

    Introduced in notebook 00_welcome_and_setup.
    """
    images = raw_images.astype(np.float32) / 255.0  # (batch, height, width)
    return images[..., np.newaxis]  # (batch, height, width, 1)


def class_frequencies(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Fraction of the labels that fall in each class: shape (num_classes,), sums to 1.

    Introduced in notebook 00_welcome_and_setup.
    """
    counts = np.bincount(labels, minlength=num_classes)  # (num_classes,)
    return counts / counts.sum()


def mean_image_per_class(images: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The average image of each class: (num_classes, height, width, channels).

    Introduced in notebook 00_welcome_and_setup.
    """
    return np.stack([images[labels == label].mean(axis=0) for label in range(num_classes)])


# ----------------------------------------------------------------- 12_evaluation

import math  # noqa: E402  (exact binomial sums in two_sided_binomial_p_value)


def pooled_psnr(images: np.ndarray, references: np.ndarray, data_range: float = 1.0) -> float:
    """PSNR in dB of the MSE pooled over all images (not the mean of per-image PSNRs).

    Introduced in notebook 12_evaluation.
    """
    pooled_mse = np.mean((images - references) ** 2)        # one number: all pixels of all images
    return float(10 * np.log10(data_range ** 2 / pooled_mse))


def frechet_distance_1d(mean_a: float, var_a: float, mean_b: float, var_b: float) -> float:
    """Squared Frechet distance (FID) between the 1-D Gaussians N(mean_a, var_a) and N(mean_b, var_b).

    Introduced in notebook 12_evaluation.
    """
    # FD = (mu_a - mu_b)^2 + var_a + var_b - 2 sqrt(var_a var_b) = (mu_a - mu_b)^2 + (sd_a - sd_b)^2
    return float((mean_a - mean_b) ** 2 + var_a + var_b - 2 * np.sqrt(var_a * var_b))


def two_sided_binomial_p_value(num_chose_a: int, num_votes: int) -> float:
    """p-value of the two-sided exact binomial test of "A is picked half of the time".

    Introduced in notebook 12_evaluation.
    """
    # Under the null hypothesis K ~ Binomial(n, 1/2), symmetric about n / 2, so the two tails
    # P(K <= t) and P(K >= n - t), t = min(k, n - k), are equal: p = 2 P(K <= t), at most 1.
    tail = min(num_chose_a, num_votes - num_chose_a)
    ways = sum(math.comb(num_votes, count) for count in range(tail + 1))  # sum_{i <= t} C(n, i)
    return min(1.0, 2 * ways / 2 ** num_votes)


# ----------------------------------------------------------------- 02_gan_theory

def optimal_discriminator(p_data: np.ndarray, p_generator: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) at every point; 1/2 where both densities are 0.

    Introduced in notebook 02_gan_theory.
    """
    total = p_data + p_generator                                    # (points,)
    safe_total = np.where(total > 0, total, 1.0)                    # no 0 / 0 below
    return np.where(total > 0, p_data / safe_total, 0.5)


def value_function_monte_carlo(real_scores: np.ndarray, fake_scores: np.ndarray) -> float:
    """V ~ mean of log D(x) over real samples + mean of log(1 - D(G(z))) over generated samples.

    real_scores: D(x) in (0, 1), shape (num_real,); fake_scores: D(G(z)), shape (num_fake,).

    Introduced in notebook 02_gan_theory.
    """
    return float(np.mean(np.log(real_scores)) + np.mean(np.log1p(-fake_scores)))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2, in nats (discrete p, q).

    Introduced in notebook 02_gan_theory.
    """
    middle = (p + q) / 2

    def kl_divergence(a, b):  # sum over a > 0 only: 0 log 0 = 0 (and b >= a / 2 > 0 there)
        support = a > 0
        return np.sum(a[support] * np.log(a[support] / b[support]))

    return float(0.5 * kl_divergence(p, middle) + 0.5 * kl_divergence(q, middle))


# ----------------------------------------------------------------- 01_images_tensors_and_cnns

def conv2d_output_size(input_size: int, kernel_size: int, stride: int, padding: str) -> int:
    """Side of a convolution's output: "valid" keeps only full windows, "same" pads to ceil(n / s).

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    if padding == "same":
        return -(-input_size // stride)  # ceil(input_size / stride)
    return (input_size - kernel_size) // stride + 1  # "valid"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (batch, classes) logits, stable for large logits.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)  # same result, no overflow in exp
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def confusion_matrix(true_labels: np.ndarray, predicted_labels: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = how many images of true class i were predicted as class j.

    Introduced in notebook 01_images_tensors_and_cnns.
    """
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (true_labels, predicted_labels), 1)
    return counts


# ----------------------------------------------------------------- 03_dcgan_mnist

def slerp(start: np.ndarray, end: np.ndarray, num_steps: int) -> np.ndarray:
    """Spherical interpolation from start to end, both included: (num_steps, latent_dim).

    Introduced in notebook 03_dcgan_mnist.
    """
    cosine = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end))
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))                       # Omega
    steps = np.linspace(0.0, 1.0, num_steps)[:, None]                   # (num_steps, 1)
    if angle < 1e-6:                                                    # parallel: a straight line
        return ((1 - steps) * start + steps * end).astype(np.float32)
    return ((np.sin((1 - steps) * angle) * start + np.sin(steps * angle) * end) / np.sin(angle)).astype(np.float32)


def class_balance_ratio(predicted_labels: np.ndarray, num_classes: int) -> float:
    """Largest class share over the smallest; inf when a class never occurs.

    Introduced in notebook 03_dcgan_mnist.
    """
    counts = np.bincount(predicted_labels, minlength=num_classes)
    return float("inf") if counts.min() == 0 else float(counts.max() / counts.min())


# The two exercises that change a model's training code (notebooks 03 and 05) have classes as
# references. Each holds only the methods the learner writes; the check mixes them into the
# notebook's model (course_lib.gan.GAN, course_lib.vae.VAE), and their bodies import Keras only
# when they run, so that importing the exercises never imports TensorFlow.

class HingeGAN:
    """The hinge loss for notebook 03's GAN (exercise 4): the two objectives its train_step descends.

    L_D = E_x[max(0, 1 - l(x))] + E_z[max(0, 1 + l(G(z)))]      L_G = -E_z[l(G(z))]

    Introduced in notebook 03_dcgan_mnist.
    """

    def discriminator_objective(self, real_logits, fake_logits):
        from keras import ops

        # real logits above 1 and fake ones below -1; past the margin, no gradient
        return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))

    def generator_objective(self, generated_logits):
        from keras import ops

        return -ops.mean(generated_logits)  # raise the discriminator's logit on the samples: no margin


# ----------------------------------------------------------------- 08_degradations_and_classical_restoration

def centre_hole_mask(image_size: int, hole_size: int) -> np.ndarray:
    """(image_size, image_size) float32 mask: 0 in the centred hole_size square, 1 elsewhere.

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    mask = np.ones((image_size, image_size), dtype=np.float32)
    corner = (image_size - hole_size) // 2
    mask[corner:corner + hole_size, corner:corner + hole_size] = 0.0
    return mask


def mean_fill(damaged: np.ndarray, mask: np.ndarray, mean_image: np.ndarray) -> np.ndarray:
    """Known pixels (mask 1) from damaged, missing ones (mask 0) from mean_image: (N, H, W, C).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    return mask * damaged + (1.0 - mask) * mean_image[None]


def clipped_noise_mean(values: np.ndarray, sigma: float) -> np.ndarray:
    """E[clip(x + sigma n, 0, 1)] for each x in values, n ~ N(0, 1).

    Introduced in notebook 08_degradations_and_classical_restoration.
    """
    from scipy.stats import norm

    lower, upper = -values / sigma, (1.0 - values) / sigma                # a, b
    return (values * (norm.cdf(upper) - norm.cdf(lower))                  # x (Phi(b) - Phi(a))
            + sigma * (norm.pdf(lower) - norm.pdf(upper))                 # + sigma (phi(a) - phi(b))
            + (1.0 - norm.cdf(upper)))                                    # + P(x + sigma n > 1)


# ----------------------------------------------------------------- 04_vae_theory

def gaussian_kl_closed_form(mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) per row: (batch, latent_dim) -> (batch,).

    Introduced in notebook 04_vae_theory.
    """
    return -0.5 * np.sum(1.0 + log_var - mean ** 2 - np.exp(log_var), axis=1)


def reparameterize(mean: np.ndarray, log_var: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """z = mean + sigma * eps with sigma = exp(log_var / 2): one eps per example and dimension.

    Introduced in notebook 04_vae_theory.
    """
    return mean + np.exp(0.5 * log_var) * eps


def importance_weighted_bound(log_weights: np.ndarray) -> np.ndarray:
    """log (1/k) sum_i exp(log_weights[i]) per column, without underflow: (k, batch) -> (batch,).

    Introduced in notebook 04_vae_theory.
    """
    largest = log_weights.max(axis=0)                                       # (batch,)
    return largest + np.log(np.mean(np.exp(log_weights - largest), axis=0))


# ----------------------------------------------------------------- 05_vae_mnist

def bits_per_dimension(negative_log_likelihood_nats: np.ndarray, num_dimensions: int) -> np.ndarray:
    """Nats per image -> bits per pixel: divide by the pixel count and by ln 2.

    Introduced in notebook 05_vae_mnist.
    """
    return negative_log_likelihood_nats / (num_dimensions * np.log(2.0))


def gaussian_quantile_grid(num_per_side: int) -> np.ndarray:
    """(num_per_side^2, 2) latent points at the prior's quantiles (i + 0.5) / n, row-major with z_1 varying fastest.

    Introduced in notebook 05_vae_mnist.
    """
    from scipy import stats

    quantiles = stats.norm.ppf((np.arange(num_per_side) + 0.5) / num_per_side)
    first, second = np.meshgrid(quantiles, quantiles)                       # second varies along rows
    return np.stack([first.ravel(), second.ravel()], axis=1)


def active_units(posterior_means: np.ndarray, threshold: float = 0.01) -> int:
    """How many latent dimensions the encoder uses: Var over images of E_q[z_j] above threshold.

    Introduced in notebook 05_vae_mnist.
    """
    return int(np.sum(posterior_means.var(axis=0) > threshold))


class KLWarmupVAE:
    """VAE.compute_loss with a KL warm-up (notebook 05, exercise 4): beta_t = beta * min(1, epoch / E).

    The epoch e = floor(iterations / steps_per_epoch) counts from 0, so the first epoch trains on
    the reconstruction alone; E is ``warmup_epochs``. The ``kl`` tracker keeps the unweighted KL.

    Introduced in notebook 05_vae_mnist.
    """

    def __init__(self, encoder, decoder, *, warmup_epochs=5, steps_per_epoch=250, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.warmup_epochs = warmup_epochs
        self.steps_per_epoch = steps_per_epoch

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        from keras import ops

        from course_lib.vae import gaussian_kl

        if y_pred is None:
            y_pred = self(x, training=training)
        epoch = ops.floor_divide(self.optimizer.iterations, self.steps_per_epoch)    # 0, 1, 2, ...
        beta = self.beta * ops.minimum(1.0, ops.cast(epoch, "float32") / self.warmup_epochs)
        reconstruction = -self.log_likelihood(y_pred["targets"], y_pred["logits"])  # (batch,)
        kl = gaussian_kl(y_pred["mean"], y_pred["log_var"])                        # (batch,)
        loss = ops.mean(reconstruction + beta * kl)                                # nats per image
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(ops.mean(reconstruction))
        self.kl_tracker.update_state(ops.mean(kl))
        return loss


# ----------------------------------------------------------------- 06_diffusion_theory

def forward_process_sample(x_0: np.ndarray, alpha: np.ndarray, sigma: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """x_t = alpha x_0 + sigma eps, one (alpha, sigma) per example: x_0, eps (N, D); alpha, sigma (N,).

    Introduced in notebook 06_diffusion_theory.
    """
    return alpha[:, np.newaxis] * x_0 + sigma[:, np.newaxis] * eps      # sigma, the standard deviation


def ddpm_posterior_variance(betas: np.ndarray, step: int) -> float:
    """The variance (1 - abar_{t-1}) / (1 - abar_t) beta_t of q(x_{t-1} | x_t, x_0) at ``step`` t (from 1).

    Introduced in notebook 06_diffusion_theory.
    """
    alpha_bar = np.cumprod(1.0 - betas)                                 # abar_1 .. abar_T
    alpha_bar_t = alpha_bar[step - 1]
    alpha_bar_before = alpha_bar[step - 2] if step > 1 else 1.0         # abar_0 = 1: no noise yet
    return float((1.0 - alpha_bar_before) / (1.0 - alpha_bar_t) * betas[step - 1])


def tweedie_denoise(x_t: np.ndarray, score: np.ndarray, alpha: float, sigma: float) -> np.ndarray:
    """Tweedie's formula E[x_0 | x_t] = (x_t + sigma^2 score) / alpha.

    Introduced in notebook 06_diffusion_theory.
    """
    return (x_t + sigma ** 2 * score) / alpha


def ddim_step(x_t: np.ndarray, eps_hat: np.ndarray, alpha_t: float, sigma_t: float, alpha_s: float,
              sigma_s: float) -> np.ndarray:
    """A deterministic DDIM step from time t to s: x0_hat = (x_t - sigma_t eps_hat) / alpha_t, then
    x_s = alpha_s x0_hat + sigma_s eps_hat.

    Introduced in notebook 06_diffusion_theory.
    """
    x0_hat = (x_t - sigma_t * eps_hat) / alpha_t                        # the denoised estimate
    return alpha_s * x0_hat + sigma_s * eps_hat                         # the same noise, at the level of s


# ----------------------------------------------------------------- 09_cnn_restoration

def mse_objective(restored: np.ndarray, clean: np.ndarray) -> float:
    """The MSE objective of notebook 09: (1 / N H W C) sum (restored - clean)^2 over the whole batch.

    Introduced in notebook 09_cnn_restoration.
    """
    return float(np.mean((restored - clean) ** 2))


def paste_known_pixels(predicted: np.ndarray, damaged: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Known pixels (mask 1) from damaged, missing ones (mask 0) from predicted: (N, H, W, C).

    Introduced in notebook 09_cnn_restoration.
    """
    return mask * damaged + (1.0 - mask) * predicted


def worst_restorations(restored: np.ndarray, clean: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` images with the lowest PSNR (data range 1), worst first.

    Introduced in notebook 09_cnn_restoration.
    """
    mse = np.mean((restored - clean) ** 2, axis=(1, 2, 3))                   # (N,)
    psnr = 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))                    # (N,) dB
    return np.argsort(psnr, kind="stable")[:count]
# ----------------------------------------------------------------- 10_gan_restoration

def patch_receptive_field(kernel_sizes: list, strides: list) -> int:
    """Side of the input patch one output of a stack of convolutions sees: walk back from 1 pixel.

    Introduced in notebook 10_gan_restoration.
    """
    receptive = 1
    for kernel, stride in reversed(list(zip(kernel_sizes, strides))):
        receptive = (receptive - 1) * stride + kernel   # each step back widens by (kernel - 1) * stride
    return int(receptive)


def pix2pix_generator_loss(restored: np.ndarray, clean: np.ndarray, fake_logits: np.ndarray,
                           adversarial_weight: float) -> float:
    """L1 + lambda * non-saturating adversarial loss: mean|restored - clean| + lambda * mean(-log sigmoid(l)).

    Introduced in notebook 10_gan_restoration.
    """
    l1 = np.mean(np.abs(restored - clean))
    adversarial = np.mean(np.logaddexp(0.0, -fake_logits))   # -log sigmoid(l) = log(1 + exp(-l)), stable
    return float(l1 + adversarial_weight * adversarial)


def pareto_front(distortion: np.ndarray, perception: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the points no other point beats on both (lower is better for both).

    Introduced in notebook 10_gan_restoration.
    """
    keep = []
    for index in range(len(distortion)):
        dominated = np.any((distortion <= distortion[index]) & (perception <= perception[index])
                           & ((distortion < distortion[index]) | (perception < perception[index])))
        if not dominated:
            keep.append(index)
    return np.array(keep, dtype=np.int64)
# ----------------------------------------------------------------- 13_choosing_methods_and_challenges

def early_stopping(validation_losses: np.ndarray, patience: int) -> tuple:
    """(stop_epoch, best_epoch), 1-based: training stops after `patience` epochs without a new lowest
    validation loss (or at the last epoch); best_epoch is the epoch of the lowest loss before stopping.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    best_epoch, best_loss = 1, validation_losses[0]
    for epoch, loss in enumerate(validation_losses[1:], start=2):
        if loss < best_loss:
            best_epoch, best_loss = epoch, loss
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return len(validation_losses), best_epoch


def median_distance_ratio(sample_distances: np.ndarray, held_out_distances: np.ndarray) -> float:
    """median(sample distances to the training set) / median(held-out distances to it).

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    return float(np.median(sample_distances) / np.median(held_out_distances))


def fastest_good_enough(quality: np.ndarray, milliseconds: np.ndarray, minimum_quality: float) -> int:
    """Index of the fastest method whose quality reaches minimum_quality (ties: the better quality,
    then the lower index); -1 when none does.

    Introduced in notebook 13_choosing_methods_and_challenges.
    """
    candidates = [index for index in range(len(quality)) if quality[index] >= minimum_quality]
    if not candidates:
        return -1
    return int(min(candidates, key=lambda index: (milliseconds[index], -quality[index], index)))


# ----------------------------------------------------------------- 07_diffusion_mnist

def velocity_training_pair(images: np.ndarray, noise: np.ndarray, t: np.ndarray) -> tuple:
    """One flow-matching training pair: ``(x_t, target)`` for images in [0, 1], noise and times t (N,).

    Introduced in notebook 07_diffusion_mnist.
    """
    x_0 = 2.0 * images - 1.0                       # [0, 1] -> [-1, 1], the model's space
    t = t.reshape(-1, 1, 1, 1)                     # one time per image, broadcast over its pixels
    x_t = (1.0 - t) * x_0 + t * noise              # the straight path from data (t = 0) to noise (t = 1)
    return x_t, noise - x_0                        # d x_t / d t: the velocity the network regresses


def guided_velocity(conditional: np.ndarray, unconditional: np.ndarray, weight: float) -> np.ndarray:
    """Classifier-free guidance: ``v = v_uncond + w (v_cond - v_uncond)``.

    Introduced in notebook 07_diffusion_mnist.
    """
    return unconditional + weight * (conditional - unconditional)


def euler_flow_sampler(velocity, noise: np.ndarray, num_steps: int) -> np.ndarray:
    """Euler steps of dx/dt = velocity(x, t) from t = 1 (noise) to t = 0 (data), evenly spaced.

    Introduced in notebook 07_diffusion_mnist.
    """
    times = np.linspace(1.0, 0.0, num_steps + 1)
    x = noise
    for t, s in zip(times[:-1], times[1:]):
        x = x + (s - t) * velocity(x, t)           # s - t < 0: a step backwards in time
    return x


def straight_matching_time(noise_std: float) -> float:
    """The time ``t`` of the straight path at which ``sigma / alpha = t / (1 - t)`` equals ``noise_std``.

    Introduced in notebook 11_diffusion_restoration.
    """
    return noise_std / (1.0 + noise_std)            # t / (1 - t) = s  <=>  t = s / (1 + s)


def sample_mean_and_spread(samples: np.ndarray) -> tuple:
    """The mean over the samples' axis 1 and the per-pixel sample standard deviation (ddof 1).

    Introduced in notebook 11_diffusion_restoration.
    """
    return samples.mean(axis=1), samples.std(axis=1, ddof=1)


def mean_of_k_psnr_gain(k: int) -> float:
    """dB by which the mean of ``k`` exact posterior samples beats one: ``10 log10(2 / (1 + 1/k))``.

    Introduced in notebook 11_diffusion_restoration.
    """
    return float(10.0 * np.log10(2.0 / (1.0 + 1.0 / k)))
