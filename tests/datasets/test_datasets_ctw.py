"""make_warped_spirals and warp_views: the generated data match their definitions."""

import numpy as np
import pytest

from alignkit.datasets import make_warped_spirals, warp_views
from alignkit.exceptions import InvalidInputError


def _paper_spiral(latent_frame, n_latent):
    """Zhou's toyLatSeq spiral, written with MATLAB's 1-based frame t = latent_frame + 1."""
    t = latent_frame + 1
    a = (t - 1) / (n_latent - 1)
    b = np.sqrt(a) * (n_latent - 1) + 1
    tau = 4 * np.pi * b / n_latent
    return np.column_stack([tau * np.cos(tau), tau * np.sin(tau)])


def _check_path(path, n, m):
    assert path.dtype == np.int64
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1]
    assert {tuple(s) for s in np.diff(path, axis=0).tolist()} <= {(0, 1), (1, 0), (1, 1)}


def test_spirals_follow_the_protocol():
    sequences, paths, positions = make_warped_spirals(
        n_sequences=4, return_positions=True, random_state=0
    )
    assert len(sequences) == len(paths) == len(positions) == 4
    for sequence, position in zip(sequences, positions):
        assert sequence.shape == (len(position), 3)
        assert position[0] == 0.0 and position[-1] == 299.0
        # Spatial channels: an exact affine image of the spiral at the latent positions.
        design = np.hstack([_paper_spiral(position, 300), np.ones((len(position), 1))])
        coefficients, *_ = np.linalg.lstsq(design, sequence[:, :2], rcond=None)
        np.testing.assert_allclose(design @ coefficients, sequence[:, :2], atol=1e-9)
        # Five segments, each at a constant speed in [0.3, 0.9] frames per latent frame.
        steps = np.diff(position)
        assert len(np.unique(np.round(steps, 9))) <= 5
        assert np.all((steps >= 1 / 0.9 - 0.05) & (steps <= 1 / 0.3 + 0.2))
        # The noise channel is uncorrelated with the spiral.
        assert abs(np.corrcoef(sequence[:, 2], sequence[:, 0])[0, 1]) < 0.3


def test_spiral_ground_truth_matches_latent_positions():
    sequences, paths, positions = make_warped_spirals(
        n_sequences=3, return_positions=True, random_state=1
    )
    np.testing.assert_array_equal(paths[0], np.column_stack([np.arange(len(sequences[0]))] * 2))
    for k in (1, 2):
        _check_path(paths[k], len(sequences[0]), len(sequences[k]))
        gap = np.abs(positions[0][paths[k][:, 0]] - positions[k][paths[k][:, 1]])
        # Matched frames show nearly the same latent frame (within one frame step of either).
        assert gap.max() <= 1 / 0.3 + 1


def test_spiral_lengths_and_noise():
    lengths, noise = [], []
    for seed in range(30):
        sequences, _ = make_warped_spirals(noise=0.5, random_state=seed)
        lengths += [len(s) for s in sequences]
        noise += [s[:, 2].std() for s in sequences]
    assert 0.5 * 300 < np.mean(lengths) < 0.7 * 300  # mean speed 0.6
    assert np.mean(noise) == pytest.approx(0.5, rel=0.05)


def test_spirals_reproducible():
    first, _ = make_warped_spirals(random_state=3)
    second, _ = make_warped_spirals(random_state=3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params",
    [{"n_sequences": 1}, {"n_timepoints": 1}, {"speed": (0.0, 0.5)}, {"speed": (0.9, 0.3)}],
)
def test_spirals_reject_bad_parameters(params):
    with pytest.raises(InvalidInputError):
        make_warped_spirals(**params)


def test_warp_views_known_warps():
    # Each channel is a ramp, so a warped view reads off its own warp.
    recording = np.column_stack([np.arange(100.0) * (c + 1) for c in range(5)])
    views, paths = warp_views(recording, [[0, 1], [2, 3, 4]], random_state=0)
    assert views[0].shape[1] == 2 and views[1].shape[1] == 3
    position_a, position_b = views[0][:, 0], views[1][:, 0] / 3
    np.testing.assert_allclose(views[0][:, 1], 2 * position_a)
    assert position_a[0] == 0 and position_a[-1] == 99 and position_b[-1] == pytest.approx(99)
    _check_path(paths[1], len(views[0]), len(views[1]))
    gap = np.abs(position_a[paths[1][:, 0]] - position_b[paths[1][:, 1]])
    assert gap.max() <= 1 / 0.3 + 1


def test_warp_views_rejects_bad_input():
    recording = np.zeros((50, 4))
    with pytest.raises(InvalidInputError, match="at least 2"):
        warp_views(recording, [[0, 1]])
    with pytest.raises(InvalidInputError, match=r"views\[1\]"):
        warp_views(recording, [[0, 1], [4]])
    bad = recording.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidInputError, match="recording"):
        warp_views(bad, [[0], [1]])
