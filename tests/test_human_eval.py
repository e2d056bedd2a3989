"""course_lib.human_eval: the two-alternative forced-choice protocol of notebook 12."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from course_lib import human_eval


@pytest.fixture
def sets():
    generator = np.random.default_rng(0)
    set_a = generator.random((30, 8, 8, 1), dtype=np.float32) * 0.5          # darker images
    set_b = 0.5 + generator.random((40, 8, 8, 1), dtype=np.float32) * 0.5   # brighter images
    return set_a, set_b


def brightness(images):
    return images.mean(axis=(1, 2, 3))


# ---------------------------------------------------------------------------------- trials

@pytest.mark.parametrize("num_trials", [1, 10, 25, 64, 101])
def test_placement_is_balanced_and_each_trial_pairs_one_image_of_each_set(sets, num_trials):
    set_a, set_b = sets
    trials = human_eval.make_trials(set_a, set_b, num_trials, seed=3)
    assert len(trials) == num_trials and [trial.number for trial in trials] == list(range(num_trials))
    on_left = sum(trial.a_on_left for trial in trials)
    assert abs(on_left - (num_trials - on_left)) <= 1
    for trial in trials:
        np.testing.assert_array_equal(trial.image_a, set_a[trial.index_a])
        np.testing.assert_array_equal(trial.image_b, set_b[trial.index_b])
        shown_a, shown_b = (trial.left, trial.right) if trial.a_on_left else (trial.right, trial.left)
        np.testing.assert_array_equal(shown_a, set_a[trial.index_a])
        np.testing.assert_array_equal(shown_b, set_b[trial.index_b])
        assert trial.chose_a("left") == trial.a_on_left and trial.chose_a("right") != trial.a_on_left


def test_trials_are_reproducible_and_the_seed_changes_them(sets):
    first = human_eval.make_trials(*sets, 20, seed=7)
    again = human_eval.make_trials(*sets, 20, seed=7)
    other = human_eval.make_trials(*sets, 20, seed=8)
    key = [(trial.index_a, trial.index_b, trial.a_on_left) for trial in first]
    assert key == [(trial.index_a, trial.index_b, trial.a_on_left) for trial in again]
    assert key != [(trial.index_a, trial.index_b, trial.a_on_left) for trial in other]


def test_placement_is_random_not_alternating(sets):
    placements = [trial.a_on_left for trial in human_eval.make_trials(*sets, 200, seed=0)]
    runs = 1 + sum(first != second for first, second in zip(placements, placements[1:]))
    assert 70 < runs < 130  # a random order has about 100 runs; alternating would have 200


def test_images_are_drawn_without_replacement_while_there_are_enough(sets):
    set_a, set_b = sets
    trials = human_eval.make_trials(set_a, set_b, 30, seed=1)
    assert len({trial.index_a for trial in trials}) == 30
    assert len({trial.index_b for trial in trials}) == 30
    many = human_eval.make_trials(set_a, set_b, 100, seed=1)  # more trials than images of A
    assert {trial.index_a for trial in many} <= set(range(30))


@pytest.mark.parametrize("call, message", [
    (lambda a, b: human_eval.make_trials(a, b, 0), "num_trials"),
    (lambda a, b: human_eval.make_trials(a, b, 2.5), "num_trials"),
    (lambda a, b: human_eval.make_trials(a, b[:, :4], 5), "one shape"),
    (lambda a, b: human_eval.make_trials(a[0], b, 5), "shape"),
    (lambda a, b: human_eval.make_trials(a * 255, b, 5), r"\[0.0, 1.0\]"),
    (lambda a, b: human_eval.make_trials(a, b, 5, seed=-1), "seed"),
    (lambda a, b: human_eval.scripted_votes([], brightness), "non-empty list of Trial"),
    (lambda a, b: human_eval.scripted_votes(human_eval.make_trials(a, b, 4), "judge"), "judge"),
    (lambda a, b: human_eval.scripted_votes(human_eval.make_trials(a, b, 4), lambda x: x[:1].ravel()), "one finite score"),
    (lambda a, b: human_eval.scripted_votes(human_eval.make_trials(a, b, 4), brightness, noise=-1.0), "noise"),
])
def test_trials_and_scripted_observer_reject_bad_input(sets, call, message):
    with pytest.raises(ValueError, match=message):
        call(*sets)


# ------------------------------------------------------------------------ scripted observer

def test_a_noiseless_scripted_observer_always_picks_the_higher_score(sets):
    set_a, set_b = sets
    trials = human_eval.make_trials(set_a, set_b, 40, seed=2)
    votes = human_eval.scripted_votes(trials, brightness, seed=0, noise=0.0)
    assert all(not vote.chose_a for vote in votes)  # B is always brighter
    assert [vote.choice for vote in votes] == ["right" if trial.a_on_left else "left" for trial in trials]
    assert all(vote.observer == "scripted" for vote in votes)


def test_scripted_votes_are_reproducible_and_noise_makes_a_coin_flip(sets):
    set_a, set_b = sets
    trials = human_eval.make_trials(set_a, set_b, 200, seed=2)
    first = human_eval.scripted_votes(trials, brightness, seed=5, noise=0.3)
    assert first == human_eval.scripted_votes(trials, brightness, seed=5, noise=0.3)
    result = human_eval.analyse_votes(human_eval.scripted_votes(trials, brightness, seed=5, noise=100.0))
    assert result.ci_low < 0.5 < result.ci_high  # the scores drown in the noise


# --------------------------------------------------------------------------------- analysis

def booleans(num_chose_a, num_votes):
    return [True] * num_chose_a + [False] * (num_votes - num_chose_a)


def test_fifty_of_a_hundred_is_indistinguishable():
    result = human_eval.analyse_votes(booleans(50, 100))
    assert result.rate == 0.5 and result.num_votes == 100 and result.num_chose_a == 50
    assert result.p_value == pytest.approx(1.0)
    assert result.ci_low < 0.5 < result.ci_high


def test_ninety_of_a_hundred_is_far_from_chance():
    result = human_eval.analyse_votes(booleans(90, 100))
    assert result.rate == 0.9 and result.p_value < 1e-10
    assert result.ci_low > 0.8 and result.ci_high < 0.95
    assert "90 of 100" in str(result)


@pytest.mark.parametrize("method", ["wilson", "exact"])
@pytest.mark.parametrize("num_chose_a, num_votes", [(0, 10), (3, 10), (10, 10), (50, 100), (90, 100), (7, 41)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_interval_and_p_value_match_scipy_binomtest(method, num_chose_a, num_votes, confidence):
    result = human_eval.analyse_votes(booleans(num_chose_a, num_votes), confidence=confidence, method=method)
    reference = scipy.stats.binomtest(num_chose_a, num_votes, 0.5)
    interval = reference.proportion_ci(confidence_level=confidence, method=method)
    assert result.ci_low == pytest.approx(interval.low, abs=1e-9)
    assert result.ci_high == pytest.approx(interval.high, abs=1e-9)
    assert result.ci_low <= result.rate <= result.ci_high
    assert result.p_value == pytest.approx(reference.pvalue)


def test_vote_objects_and_booleans_give_the_same_analysis(sets):
    trials = human_eval.make_trials(*sets, 30, seed=4)
    votes = human_eval.scripted_votes(trials, brightness, seed=1, noise=0.2)
    assert human_eval.analyse_votes(votes) == human_eval.analyse_votes([vote.chose_a for vote in votes])
    assert human_eval.analyse_votes(np.array([1, 0, 1, 1])).num_chose_a == 3


def test_an_interval_is_wider_with_fewer_votes_and_higher_confidence():
    small = human_eval.analyse_votes(booleans(6, 10))
    large = human_eval.analyse_votes(booleans(60, 100))
    strict = human_eval.analyse_votes(booleans(60, 100), confidence=0.99)
    assert small.ci_high - small.ci_low > large.ci_high - large.ci_low
    assert strict.ci_high - strict.ci_low > large.ci_high - large.ci_low


@pytest.mark.parametrize("call, message", [
    (lambda: human_eval.analyse_votes([]), "empty"),
    (lambda: human_eval.analyse_votes("left"), "list of Vote"),
    (lambda: human_eval.analyse_votes(5), "list of Vote"),
    (lambda: human_eval.analyse_votes(["left", "right"]), "each vote"),
    (lambda: human_eval.analyse_votes([0, 2]), "each vote"),
    (lambda: human_eval.analyse_votes([True], confidence=95), "confidence"),
    (lambda: human_eval.analyse_votes([True], confidence=1.0), "confidence"),
    (lambda: human_eval.analyse_votes([True], method="normal"), "interval method"),
    (lambda: human_eval.wilson_interval(11, 10), "successes"),
    (lambda: human_eval.exact_interval(1, 0), "trials"),
])
def test_analysis_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------- the widget, headless

def test_the_widget_records_simulated_clicks_and_finishes(sets):
    import ipywidgets

    trials = human_eval.make_trials(*sets, 3, seed=0)
    finished = []
    tool = human_eval.TwoAlternativeForcedChoice(trials, observer="tester", on_finished=finished.append)
    assert isinstance(tool.widget, ipywidgets.VBox)
    assert bytes(tool.left_image.value).startswith(b"\x89PNG") and "Trial 1 of 3" in tool.progress.value
    tool.left_button.click()
    assert len(tool.votes) == 1
    vote = tool.votes[0]
    assert vote.trial == 0 and vote.choice == "left" and vote.chose_a == trials[0].a_on_left
    assert vote.observer == "tester" and vote.seconds >= 0
    assert "Trial 2 of 3" in tool.progress.value
    tool.right_button.click()
    assert not tool.finished and not finished
    tool.left_button.click()
    assert tool.finished and tool.left_button.disabled and tool.right_button.disabled
    assert finished == [tool.votes] and [vote.choice for vote in tool.votes] == ["left", "right", "left"]
    assert tool.result().num_votes == 3 and "3 trials" in tool.message.value
    with pytest.raises(ValueError, match="answered already"):
        tool.record("left")
    assert "application/vnd.jupyter.widget-view+json" in tool._repr_mimebundle_()


def test_the_widget_shows_the_trial_images_enlarged(sets):
    import io

    from PIL import Image

    trials = human_eval.make_trials(*sets, 2, seed=0)
    tool = human_eval.TwoAlternativeForcedChoice(trials, scale=4)
    left = np.asarray(Image.open(io.BytesIO(bytes(tool.left_image.value))))
    assert left.shape == (32, 32)
    expected = np.round(trials[0].left[..., 0] * 255).astype(np.uint8)
    np.testing.assert_array_equal(left[::4, ::4], expected)


@pytest.mark.parametrize("kwargs, message", [
    ({"observer": ""}, "observer"),
    ({"scale": 0}, "scale"),
    ({"on_finished": "print"}, "on_finished"),
])
def test_the_widget_rejects_bad_input(sets, kwargs, message):
    trials = human_eval.make_trials(*sets, 2, seed=0)
    with pytest.raises(ValueError, match=message):
        human_eval.TwoAlternativeForcedChoice(trials, **kwargs)
    with pytest.raises(ValueError, match="non-empty list of Trial"):
        human_eval.TwoAlternativeForcedChoice([])
    with pytest.raises(ValueError, match="choice"):
        human_eval.TwoAlternativeForcedChoice(trials).record("middle")


# ------------------------------------------------------------------------------ pooling

def test_votes_round_trip_through_json_and_pool_across_observers(sets, tmp_path):
    trials = human_eval.make_trials(*sets, 10, seed=0)
    first = human_eval.scripted_votes(trials, brightness, seed=0)
    second = human_eval.scripted_votes(trials, brightness, seed=1, noise=1.0)
    human_eval.save_votes(first, tmp_path / "first.json")
    human_eval.save_votes(second, tmp_path / "second.json")
    assert human_eval.load_votes(tmp_path / "first.json") == first
    assert human_eval.load_votes(tmp_path / "first.json", tmp_path / "second.json") == first + second


def test_loading_votes_rejects_missing_and_malformed_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        human_eval.load_votes(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON file"):
        human_eval.load_votes(tmp_path / "bad.json")
    (tmp_path / "wrong.json").write_text('[{"trial": 0, "choice": "up", "chose_a": true}]')
    with pytest.raises(ValueError, match="not a vote"):
        human_eval.load_votes(tmp_path / "wrong.json")
    with pytest.raises(ValueError, match="at least one file"):
        human_eval.load_votes()
    with pytest.raises(ValueError, match="non-empty list of Vote"):
        human_eval.save_votes([], tmp_path / "empty.json")
