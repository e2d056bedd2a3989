"""Human evaluation: a small, reproducible two-alternative forced-choice (2AFC) protocol.

Numbers such as FID say how far two sets of images are apart in a network's feature space; the
question a person asks is simpler: *can I tell them apart?* In a 2AFC trial an observer sees two
images side by side, one from set A (generated or restored) and one from set B (real), placed left
or right at random, and must say which one looks real. If A is indistinguishable from B, the
observer picks A half of the time; a rate far below 50% means the observer spots A. This module
draws the trials (:func:`make_trials`), shows them to a person in a notebook
(:class:`TwoAlternativeForcedChoice`, an ipywidgets tool), stands in for the person in CI
(:func:`scripted_votes`), and analyses the votes (:func:`analyse_votes`: the rate of choosing A
with a Wilson or exact binomial confidence interval, and a two-sided binomial test against 50%).
Votes can be saved to and loaded from JSON (:func:`save_votes`, :func:`load_votes`) so that a
class can pool its observers. Introduced in notebook 12_evaluation.

What it deliberately leaves out: recruiting observers, timing the display of each pair, and
modelling differences between observers (pool votes only from observers who saw the same
protocol, and report how many observers there were). ipywidgets is imported only when the widget
is built, so the rest works without a notebook front end.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import pathlib
import time
import typing
from typing import Callable, Iterable, Sequence

import numpy as np
import scipy.stats

from course_lib._checks import as_image_batch, non_negative_number, one_of, positive_int, same_image_shape
from course_lib._checks import seed as check_seed

__all__ = [
    "Trial", "Vote", "TwoAFCResult", "make_trials", "scripted_votes", "analyse_votes",
    "TwoAlternativeForcedChoice", "wilson_interval", "exact_interval", "save_votes", "load_votes",
]

CHOICES = ("left", "right")
INTERVAL_METHODS = ("wilson", "exact")
# A session of more trials than this is beyond any observer's patience (and memory: each
# trial keeps its two images).
MAX_TRIALS = 10_000
# The widget enlarges each image at most this many times (a 28 x 28 digit to 448 x 448).
MAX_DISPLAY_SCALE = 16


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class Trial:
    """One pair of images: which image of each set, and which side set A's image is shown on.

    Introduced in notebook 12_evaluation.
    """

    number: int            # position of the trial in the session, from 0
    index_a: int           # index of the image taken from set A
    index_b: int           # index of the image taken from set B
    a_on_left: bool        # True: A's image is shown on the left, B's on the right
    image_a: np.ndarray    # (height, width, channels), float32 in [0, 1]
    image_b: np.ndarray

    @property
    def left(self) -> np.ndarray:
        return self.image_a if self.a_on_left else self.image_b

    @property
    def right(self) -> np.ndarray:
        return self.image_b if self.a_on_left else self.image_a

    def chose_a(self, choice: str) -> bool:
        """Whether answering ``"left"`` or ``"right"`` picks set A's image."""
        one_of(choice, CHOICES, "choice")
        return (choice == "left") == self.a_on_left

    def __repr__(self) -> str:
        a_side, b_side = ("left", "right") if self.a_on_left else ("right", "left")
        return (f"Trial({self.number}: A[{self.index_a}] on the {a_side}, "
                f"B[{self.index_b}] on the {b_side})")


@dataclasses.dataclass(frozen=True)
class Vote:
    """One answer: the side picked as real, whether that was set A's image, and the time taken.

    Introduced in notebook 12_evaluation.
    """

    trial: int
    choice: str            # "left" or "right": the image the observer says looks real
    chose_a: bool
    seconds: float | None = None
    observer: str = "anonymous"


class TwoAFCResult(typing.NamedTuple):
    """How often set A was picked as real, with its confidence interval and binomial test.

    Introduced in notebook 12_evaluation.
    """

    num_votes: int
    num_chose_a: int
    rate: float            # num_chose_a / num_votes; 0.5 = indistinguishable from set B
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    p_value: float         # two-sided binomial test of rate = 0.5

    def __str__(self) -> str:
        return (f"set A picked as real in {self.num_chose_a} of {self.num_votes} trials: "
                f"{self.rate:.1%} ({self.confidence:.0%} {self.method} CI {self.ci_low:.1%} to "
                f"{self.ci_high:.1%}); two-sided binomial test against 50%: p = {self.p_value:.3g}")


# --------------------------------------------------------------------------------------------
# Trials
# --------------------------------------------------------------------------------------------

def make_trials(set_a, set_b, num_trials: int, seed: int = 0) -> list[Trial]:
    """Draw ``num_trials`` reproducible 2AFC trials pairing an image of A with one of B.

    ``set_a`` and ``set_b`` are image batches (NHWC in
    [0, 1]) of one image shape; they may hold different numbers of images. Images are drawn
    without replacement while a set has enough of them (with replacement beyond that), and set
    A's image is on the left in exactly half of the trials (one more on one side when
    ``num_trials`` is odd), in a random order: an observer with a bias for one side then cannot
    move the result. The same arguments give the same trials.

    Introduced in notebook 12_evaluation.
    """
    set_a = as_image_batch(set_a, "set_a")
    set_b = as_image_batch(set_b, "set_b")
    same_image_shape(set_a, set_b, "set_a", "set_b")
    num_trials = positive_int(num_trials, "num_trials", maximum=MAX_TRIALS)
    generator = np.random.default_rng(check_seed(seed))
    indices_a = generator.choice(len(set_a), num_trials, replace=num_trials > len(set_a))
    indices_b = generator.choice(len(set_b), num_trials, replace=num_trials > len(set_b))
    # balanced placement: half the trials with A on the left, then shuffled
    placements = np.arange(num_trials) < num_trials // 2
    if num_trials % 2:
        placements[-1] = bool(generator.integers(2))
    a_on_left = generator.permutation(placements)
    trials = []
    for number, (index_a, index_b, on_left) in enumerate(zip(indices_a, indices_b, a_on_left)):
        trials.append(Trial(number, int(index_a), int(index_b), bool(on_left),
                            set_a[index_a].copy(), set_b[index_b].copy()))
    return trials


def _check_trials(trials) -> list[Trial]:
    is_list = isinstance(trials, Iterable) and not isinstance(trials, (Trial, str, bytes))
    trials = list(trials) if is_list else None
    if not trials or not all(isinstance(trial, Trial) for trial in trials):
        raise ValueError("trials must be a non-empty list of Trial objects from make_trials.")
    return trials


# --------------------------------------------------------------------------------------------
# Observers: a scripted one for CI, and the ipywidgets tool for a person
# --------------------------------------------------------------------------------------------

def scripted_votes(trials: Sequence[Trial], judge: Callable, seed: int = 0,
                   noise: float = 0.1) -> list[Vote]:
    """Votes of a scripted observer, for CI and for testing the analysis.

    ``judge(images)`` maps a batch of images (N, H, W, C)
    to a "looks real" score per image (N,), for example the evaluator's confidence
    ``evaluator.probabilities(images).max(axis=1)``. On each trial the observer adds independent
    Gaussian noise of standard deviation ``noise`` to the two scores (people are not
    deterministic either) and picks the side with the higher one. ``noise=0`` gives a
    deterministic observer (ties go to the left). The same seed gives the same votes.

    Introduced in notebook 12_evaluation.
    """
    trials = _check_trials(trials)
    if not callable(judge):
        raise ValueError(f"judge must be a function from images (N, H, W, C) to scores (N,), "
                         f"got {judge!r}.")
    noise = non_negative_number(noise, "noise")
    generator = np.random.default_rng(check_seed(seed))
    left_images = np.stack([trial.left for trial in trials])        # (T, H, W, C)
    right_images = np.stack([trial.right for trial in trials])      # (T, H, W, C)
    answer = judge(np.concatenate([left_images, right_images]))
    try:
        scores = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"judge must return one number per image, got something that is not "
                         f"an array of numbers ({error}).") from error
    if scores.shape != (2 * len(trials),) or not np.all(np.isfinite(scores)):
        raise ValueError(f"judge must return one finite score per image, shape "
                         f"({2 * len(trials)},), got shape {scores.shape}.")
    left_scores, right_scores = scores[:len(trials)], scores[len(trials):]
    # perceived score = judge's score + N(0, noise^2), independently for each image
    left_perceived = left_scores + noise * generator.standard_normal(len(trials))
    right_perceived = right_scores + noise * generator.standard_normal(len(trials))
    votes = []
    for trial, left_score, right_score in zip(trials, left_perceived, right_perceived):
        choice = "left" if left_score >= right_score else "right"
        votes.append(Vote(trial.number, choice, trial.chose_a(choice), None, "scripted"))
    return votes


def _png_bytes(image: np.ndarray, scale: int) -> bytes:
    """A [0, 1] image (H, W, C) as PNG bytes, enlarged ``scale`` times with sharp pixels."""
    from PIL import Image

    pixels = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)   # (H s, W s, C)
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


class TwoAlternativeForcedChoice:
    """An ipywidgets tool that shows 2AFC trials to a person and records the votes.

    Display it in a notebook (leave it as a cell's last
    expression, or ``display(tool)``): it shows one pair at a time with the buttons
    "left looks real" and "right looks real", records a :class:`Vote` per click (with the
    response time), and moves on; after the last trial it disables the buttons and prints the
    analysis. ``tool.votes`` holds the votes, ``tool.result()`` analyses them, and
    ``on_finished(votes)`` is called once all trials are answered. Build it only when a person
    is there to click; in CI use :func:`scripted_votes`.

    Introduced in notebook 12_evaluation.
    """

    def __init__(self, trials: Sequence[Trial], *, observer: str = "anonymous",
                 question: str = "Which image looks like a real handwritten digit?",
                 scale: int = 6, on_finished: Callable | None = None):
        import ipywidgets

        self.trials = _check_trials(trials)
        if not isinstance(observer, str) or not observer:
            raise ValueError(f"observer must be a non-empty name, got {observer!r}.")
        self.observer = observer
        self.scale = positive_int(scale, "scale", maximum=MAX_DISPLAY_SCALE)
        if on_finished is not None and not callable(on_finished):
            raise ValueError(f"on_finished must be a function of the votes, got {on_finished!r}.")
        self.on_finished = on_finished
        self.votes: list[Vote] = []
        self._shown_at = time.perf_counter()

        self.question = ipywidgets.HTML(f"<b>{question}</b>")
        self.progress = ipywidgets.HTML()
        self.left_image = ipywidgets.Image(format="png")
        self.right_image = ipywidgets.Image(format="png")
        self.left_button = ipywidgets.Button(description="left looks real", button_style="info",
                                             layout=ipywidgets.Layout(width="160px"))
        self.right_button = ipywidgets.Button(description="right looks real", button_style="info",
                                              layout=ipywidgets.Layout(width="160px"))
        self.left_button.on_click(lambda _button: self.record("left"))
        self.right_button.on_click(lambda _button: self.record("right"))
        self.message = ipywidgets.HTML()
        pair = ipywidgets.HBox([ipywidgets.VBox([self.left_image, self.left_button]),
                                ipywidgets.VBox([self.right_image, self.right_button])])
        self.widget = ipywidgets.VBox([self.question, self.progress, pair, self.message])
        self._show_current()

    @property
    def finished(self) -> bool:
        return len(self.votes) == len(self.trials)

    def _show_current(self) -> None:
        if self.finished:
            self.left_button.disabled = self.right_button.disabled = True
            self.progress.value = f"All {len(self.trials)} trials answered. Thank you!"
            self.message.value = f"<pre>{self.result()}</pre>"
            return
        trial = self.trials[len(self.votes)]
        self.progress.value = f"Trial {len(self.votes) + 1} of {len(self.trials)}"
        self.left_image.value = _png_bytes(trial.left, self.scale)
        self.right_image.value = _png_bytes(trial.right, self.scale)
        self._shown_at = time.perf_counter()

    def record(self, choice: str) -> Vote:
        """Record the answer ``"left"`` or ``"right"`` to the current trial (what a click does)."""
        one_of(choice, CHOICES, "choice")
        if self.finished:
            raise ValueError(f"All {len(self.trials)} trials are answered already.")
        trial = self.trials[len(self.votes)]
        vote = Vote(trial.number, choice, trial.chose_a(choice),
                    round(time.perf_counter() - self._shown_at, 3), self.observer)
        self.votes.append(vote)
        self._show_current()
        if self.finished and self.on_finished is not None:
            self.on_finished(list(self.votes))
        return vote

    def result(self, confidence: float = 0.95, method: str = "wilson") -> TwoAFCResult:
        """:func:`analyse_votes` of the votes recorded so far."""
        return analyse_votes(self.votes, confidence=confidence, method=method)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------

def _votes_as_choices(votes) -> np.ndarray:
    """Votes (Vote objects, or booleans: True = chose A) as a boolean array, or raise."""
    if isinstance(votes, (str, bytes)) or not isinstance(votes, (Iterable, np.ndarray)):
        raise ValueError(f"votes must be a list of Vote objects or of booleans (True = set A "
                         f"picked), got {type(votes).__name__}.")
    votes = list(votes)
    if not votes:
        raise ValueError("votes is empty: there is nothing to analyse.")
    choices = []
    for vote in votes:
        if isinstance(vote, Vote):
            choices.append(bool(vote.chose_a))
        elif isinstance(vote, (bool, np.bool_, int, np.integer)) and vote in (0, 1):
            choices.append(bool(vote))
        else:
            raise ValueError(f"each vote must be a Vote or a boolean (True = set A picked as "
                             f"real), got {vote!r}.")
    return np.array(choices, dtype=bool)


def _confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (float, np.floating)) \
            or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a float strictly between 0 and 1, "
                         f"got {confidence!r}.")
    return float(confidence)


def _counts(successes, trials) -> tuple[int, int]:
    trials = positive_int(trials, "trials")
    if isinstance(successes, bool) or not isinstance(successes, (int, np.integer)) \
            or not 0 <= successes <= trials:
        raise ValueError(f"successes must be an integer in [0, trials = {trials}], "
                         f"got {successes!r}.")
    return int(successes), trials


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927).

    With p = k / n and z the two-sided normal quantile of ``confidence``:
    centre = (p + z^2 / (2n)) / (1 + z^2 / n),
    half-width = z sqrt(p (1 - p) / n + z^2 / (4 n^2)) / (1 + z^2 / n).
    Unlike the textbook p +- z sqrt(p (1 - p) / n) it stays inside [0, 1] and does not collapse
    to a point when k = 0 or k = n. Equals ``scipy.stats.binomtest(k, n).proportion_ci(
    confidence, method="wilson")``.

    Introduced in notebook 12_evaluation.
    """
    successes, trials = _counts(successes, trials)
    confidence = _confidence(confidence)
    z = scipy.stats.norm.ppf(0.5 + confidence / 2)
    proportion = successes / trials
    denominator = 1 + z ** 2 / trials
    centre = (proportion + z ** 2 / (2 * trials)) / denominator
    half_width = z * math.sqrt(proportion * (1 - proportion) / trials
                               + z ** 2 / (4 * trials ** 2)) / denominator
    # at k = 0 (k = n) the lower (upper) end is exactly 0 (1); round-off would miss it slightly
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == trials else min(1.0, centre + half_width)
    return float(low), float(high)


def exact_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson ("exact") interval: quantiles of Beta distributions; never too narrow.

    low = Beta(alpha/2; k, n - k + 1), high = Beta(1 - alpha/2; k + 1, n - k), with low = 0 when
    k = 0 and high = 1 when k = n. Equals ``scipy.stats.binomtest(k, n).proportion_ci(
    confidence, method="exact")``.

    Introduced in notebook 12_evaluation.
    """
    successes, trials = _counts(successes, trials)
    confidence = _confidence(confidence)
    alpha = 1 - confidence
    failures = trials - successes
    low = 0.0 if successes == 0 else scipy.stats.beta.ppf(alpha / 2, successes, failures + 1)
    high = 1.0 if failures == 0 else scipy.stats.beta.ppf(1 - alpha / 2, successes + 1, failures)
    return float(low), float(high)


def analyse_votes(votes, confidence: float = 0.95, method: str = "wilson") -> TwoAFCResult:
    """The rate at which set A was picked as real, its confidence interval and a binomial test.

    ``votes`` is a list of :class:`Vote` (from the widget,
    :func:`scripted_votes` or :func:`load_votes`) or of booleans (True = A picked). Returns a
    :class:`TwoAFCResult`: the rate k / n, its ``confidence`` interval by ``method``
    (``"wilson"``, the default, or ``"exact"`` Clopper-Pearson), and the p-value of the
    two-sided exact binomial test of "the observer picks A with probability 0.5"
    (``scipy.stats.binomtest``). A rate near 0.5 whose interval contains 0.5 means the observers
    could not tell A from B *with this many votes*; it is not a proof that they never can.

    Introduced in notebook 12_evaluation.
    """
    choices = _votes_as_choices(votes)
    confidence = _confidence(confidence)
    one_of(method, INTERVAL_METHODS, "interval method")
    num_votes, num_chose_a = len(choices), int(choices.sum())
    interval = wilson_interval if method == "wilson" else exact_interval
    low, high = interval(num_chose_a, num_votes, confidence)
    # P(|K - n/2| >= |k - n/2|) for K ~ Binomial(n, 1/2)
    p_value = scipy.stats.binomtest(num_chose_a, num_votes, 0.5, alternative="two-sided").pvalue
    return TwoAFCResult(num_votes=num_votes, num_chose_a=num_chose_a, rate=num_chose_a / num_votes,
                        ci_low=float(low), ci_high=float(high), confidence=confidence,
                        method=method, p_value=float(p_value))


# --------------------------------------------------------------------------------------------
# Pooling observers: votes to and from JSON
# --------------------------------------------------------------------------------------------

def save_votes(votes: Sequence[Vote], path: str | os.PathLike) -> pathlib.Path:
    """Write votes to a JSON file (one object per vote), to pool observers later.

    Introduced in notebook 12_evaluation.
    """
    if isinstance(votes, (str, bytes, Vote)) or not isinstance(votes, Iterable):
        votes = None
    votes = list(votes) if votes is not None else []
    if not votes or not all(isinstance(vote, Vote) for vote in votes):
        raise ValueError("votes must be a non-empty list of Vote objects.")
    path = pathlib.Path(path)
    path.write_text(json.dumps([dataclasses.asdict(vote) for vote in votes], indent=1) + "\n")
    return path


def _is_vote_record(record, fields: set) -> bool:
    """Whether a JSON record has exactly the fields of a :class:`Vote`, each of its type."""
    if not isinstance(record, dict) or not {"trial", "choice", "chose_a"} <= set(record) \
            or set(record) - fields:
        return False
    trial, seconds = record["trial"], record.get("seconds")
    return (isinstance(trial, int) and not isinstance(trial, bool) and trial >= 0
            and record["choice"] in CHOICES and isinstance(record["chose_a"], bool)
            and (seconds is None or (isinstance(seconds, (int, float))
                                     and not isinstance(seconds, bool)
                                     and math.isfinite(seconds) and seconds >= 0))
            and isinstance(record.get("observer", "anonymous"), str))


def load_votes(*paths: str | os.PathLike) -> list[Vote]:
    """Read and concatenate the votes saved by :func:`save_votes` in one or more files.

    Introduced in notebook 12_evaluation.
    """
    if not paths:
        raise ValueError("name at least one file of votes.")
    votes = []
    fields = {field.name for field in dataclasses.fields(Vote)}
    for path in paths:
        path = pathlib.Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist; save votes with save_votes first.")
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is not a JSON file of votes ({error}).") from error
        if not isinstance(records, list):
            raise ValueError(f"{path} must hold a JSON list of votes.")
        for record in records:
            if not _is_vote_record(record, fields):
                raise ValueError(f"{path} holds a record that is not a vote: {record!r}.")
            votes.append(Vote(**record))
    return votes
