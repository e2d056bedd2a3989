"""The restorer contract (course_lib.restorer): a restorer refuses a degradation it cannot
handle and says so, matches exact degradation names, and refuses a function that returns the
wrong number of images."""

from __future__ import annotations

import pytest

from course_lib import data
from course_lib import degradations as deg
from course_lib import restoration
from course_lib.restorer import Restorer


@pytest.fixture(scope="module")
def digits():
    dataset = data.load_dataset("mnist", source="subset", verbose=False)
    return dataset.x_train[:12], dataset.y_train[:12]


def test_a_restorer_refuses_what_it_cannot_handle_and_says_so(digits):
    damaged = deg.get_degradation("hole_12").apply(digits[0])
    with pytest.raises(ValueError, match="total variation cannot restore 'hole_12'.*handles: noise"):
        restoration.total_variation()(damaged)
    with pytest.raises(ValueError, match="Damaged batch"):
        restoration.biharmonic()(digits[0])
    assert restoration.biharmonic().can_restore("missing_50") and not restoration.biharmonic().can_restore("blur")
    broken = Restorer("broken", lambda damaged: damaged.images[0], ("hole",))
    with pytest.raises(ValueError, match=r"broken must return a batch \(N, H, W, C\) with N = 12"):
        broken(damaged)


def test_a_restorer_can_name_exact_degradations():
    only_sigma_03 = Restorer("oracle", lambda damaged: damaged.images, ("noise_0.3",))
    assert only_sigma_03.can_restore("noise_0.3") and not only_sigma_03.can_restore("noise_0.1")
