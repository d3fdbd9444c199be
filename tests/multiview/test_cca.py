"""The CCA module (alignkit.multiview._cca and its torch twin) against independent solves."""

import numpy as np
import pytest
from scipy.linalg import sqrtm
from sklearn.cross_decomposition import CCA

from alignkit.exceptions import InvalidInputError
from alignkit.multiview._cca import ctw_objective, linear_cca, multiset_cca, resolve_n_components


def _views(seed=0, n_frames=300, dims=(4, 3), noise=0.5):
    """Views sharing a 2-D latent signal through random linear maps, plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_frames, 2))
    return [
        latent @ rng.normal(size=(2, d)) + noise * rng.normal(size=(n_frames, d)) + 3.0
        for d in dims
    ]


def _whitened_svd_correlations(x, y):
    """Canonical correlations as singular values of Cxx^-1/2 Cxy Cyy^-1/2 (textbook CCA)."""
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    cxx, cyy, cxy = x.T @ x, y.T @ y, x.T @ y
    inv_x = np.linalg.inv(np.real(sqrtm(cxx)))
    inv_y = np.linalg.inv(np.real(sqrtm(cyy)))
    return np.linalg.svd(inv_x @ cxy @ inv_y, compute_uv=False)


def test_two_view_correlations_match_whitening_svd():
    x, y = _views()
    _, correlations, _ = multiset_cca([x, y], n_components=3)
    np.testing.assert_allclose(correlations, _whitened_svd_correlations(x, y), atol=1e-10)


def test_two_view_correlations_match_sklearn_cca():
    x, y = _views(seed=1)
    projections, correlations, _ = multiset_cca([x, y], n_components=2)
    cca = CCA(n_components=2, max_iter=5000, tol=1e-12).fit(x, y)
    x_scores, y_scores = cca.transform(x, y)
    sklearn_correlations = [np.corrcoef(x_scores[:, k], y_scores[:, k])[0, 1] for k in range(2)]
    np.testing.assert_allclose(correlations[:2], sklearn_correlations, atol=1e-6)
    # Our variates are the actual correlations of the projected views.
    ours = [
        np.corrcoef((x @ projections[0])[:, k], (y @ projections[1])[:, k])[0, 1] for k in range(2)
    ]
    np.testing.assert_allclose(ours, correlations[:2], atol=1e-10)


@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("dims", [(4, 3), (2, 5, 3)])
def test_matches_direct_generalised_eigen_solve(reg, dims):
    views = _views(seed=2, dims=dims)
    centred = [v - v.mean(axis=0) for v in views]
    n_frames = len(views[0])
    stacked = np.hstack(centred)
    covariance = stacked.T @ stacked / n_frames
    edges = np.cumsum([0, *dims])
    a_matrix = covariance.copy()
    b_matrix = np.zeros_like(covariance)
    for start, stop in zip(edges[:-1], edges[1:]):
        a_matrix[start:stop, start:stop] = 0.0
        b_matrix[start:stop, start:stop] = (1 - reg) * covariance[
            start:stop, start:stop
        ] + reg * np.eye(stop - start)
    # Independent solver: the non-symmetric eigenproblem of B^-1 A.
    truth = np.sort(np.real(np.linalg.eigvals(np.linalg.solve(b_matrix, a_matrix))))[::-1]
    b = min(dims)
    projections, correlations, n_kept = multiset_cca(views, reg=reg, n_components=b)
    assert n_kept == b
    np.testing.assert_allclose(correlations, truth[:b], atol=1e-9)
    # Normalisation: sum_k V_k^T B_kk V_k = I, and each column solves A v = rho B v.
    vectors = np.vstack(projections)
    np.testing.assert_allclose(vectors.T @ b_matrix @ vectors, np.eye(b), atol=1e-9)
    np.testing.assert_allclose(a_matrix @ vectors, b_matrix @ vectors * correlations[:b], atol=1e-9)


@pytest.mark.parametrize("reg", [0.0, 0.2])
def test_objective_equals_closed_form_at_optimum(reg):
    x, y = _views(seed=3)
    projections, correlations, b = multiset_cca([x, y], reg=reg, n_components=2)
    expected = b / (1 - reg) - correlations[:b].sum()
    assert ctw_objective([x, y], projections, reg=reg) == pytest.approx(expected, rel=1e-9)


def test_objective_by_hand():
    x = np.array([[0.0], [2.0]])
    y = np.array([[1.0], [1.0]])
    # Centred: x -> [-1, 1], y -> [0, 0]; residual (1 + 1) / 2 frames = 1, penalty 0.5/0.5 * 2.
    assert ctw_objective([x, y], [np.eye(1), np.eye(1)], reg=0.5) == pytest.approx(3.0)


def test_energy_rule():
    assert resolve_n_components(0.5, [0.6, 0.3, 0.1]) == 1
    assert resolve_n_components(0.6, [0.6, 0.3, 0.1]) == 1
    assert resolve_n_components(0.61, [0.6, 0.3, 0.1]) == 2
    assert resolve_n_components(0.95, [0.6, 0.3, 0.1]) == 3
    # Negative eigenvalues carry no energy.
    assert resolve_n_components(0.99, [0.6, 0.3, -0.5]) == 2
    x, y = _views(seed=4, noise=0.05)  # two strong latent directions, one weak
    _, correlations, b = multiset_cca([x, y], n_components=0.6)
    assert b == 2 and correlations[1] > 0.99


@pytest.mark.parametrize("bad", [0, 4, 1.0, 1.5, -0.1, True, "all"])
def test_bad_n_components(bad):
    x, y = _views()
    with pytest.raises(InvalidInputError, match="n_components"):
        multiset_cca([x, y], n_components=bad)


def test_rank_deficient_view_needs_reg():
    x, y = _views(seed=5)
    x = np.hstack([x, x[:, :1] * 2.0])  # a collinear channel
    with pytest.raises(InvalidInputError, match=r"view 0 is singular.*reg"):
        multiset_cca([x, y], reg=0.0)
    constant = np.hstack([y, np.ones((len(y), 1))])
    with pytest.raises(InvalidInputError, match=r"view 1 is singular.*reg"):
        multiset_cca([x[:, :4], constant], reg=0.0)
    projections, correlations, _ = multiset_cca([x, y], reg=1e-3, n_components=2)
    assert np.isfinite(correlations).all() and correlations[0] <= 1.0 + 1e-12
    assert projections[0].shape == (5, 2)


@pytest.mark.parametrize("reg", [-0.1, 1.0, "x", None])
def test_bad_reg(reg):
    x, y = _views()
    with pytest.raises(InvalidInputError, match="reg"):
        multiset_cca([x, y], reg=reg)


def test_bad_views():
    x, y = _views()
    with pytest.raises(InvalidInputError, match="same number of frames"):
        multiset_cca([x, y[:-1]])
    with pytest.raises(InvalidInputError, match="at least 2 arrays"):
        multiset_cca([x])
    with pytest.raises(InvalidInputError, match="at least 2 frames"):
        multiset_cca([x[:1], y[:1]])
    x = x.copy()
    x[3, 1] = np.nan
    with pytest.raises(InvalidInputError, match=r"views\[0\].*NaN"):
        multiset_cca([x, y])


# -- two-view CCA with a ridge per view (deep CTW's final layer) -------------------------


@pytest.mark.parametrize("dims", [(4, 3), (2, 5)])
def test_linear_cca_correlations_match_textbook_cca(dims):
    x, y = _views(seed=2, dims=dims)
    _, means, correlations = linear_cca(x, y, 0.0, 0.0, 1)
    np.testing.assert_allclose(correlations, _whitened_svd_correlations(x, y), atol=1e-10)
    # Without a ridge the normalisation (1/n or 1/(n-1)) does not change the correlations.
    _, multiset, _ = multiset_cca([x, y], n_components=1)
    np.testing.assert_allclose(correlations, multiset, atol=1e-10)
    np.testing.assert_allclose(means[0], x.mean(axis=0))


@pytest.mark.parametrize("regs", [(0.0, 0.0), (1e-3, 1e-2), (0.5, 0.0)])
def test_linear_cca_projections_whiten_and_diagonalise(regs):
    x, y = _views(seed=3)
    n_frames = len(x)
    (w_x, w_y), (mean_x, mean_y), correlations = linear_cca(x, y, *regs, 3)
    u, v = (x - mean_x) @ w_x, (y - mean_y) @ w_y
    # Unit variance under the ridge covariance, cross-covariance diag(correlations).
    s_xx = (x - mean_x).T @ (x - mean_x) / (n_frames - 1) + regs[0] * np.eye(x.shape[1])
    np.testing.assert_allclose(w_x.T @ s_xx @ w_x, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(u.T @ v / (n_frames - 1), np.diag(correlations[:3]), atol=1e-10)
    # The direct definition of the ridge CCA: svd(S_xx^-1/2 S_xy S_yy^-1/2).
    s_yy = (y - mean_y).T @ (y - mean_y) / (n_frames - 1) + regs[1] * np.eye(y.shape[1])
    s_xy = (x - mean_x).T @ (y - mean_y) / (n_frames - 1)
    inv_x, inv_y = (np.linalg.inv(np.real(sqrtm(s))) for s in (s_xx, s_yy))
    np.testing.assert_allclose(
        correlations, np.linalg.svd(inv_x @ s_xy @ inv_y, compute_uv=False), atol=1e-10
    )


@pytest.mark.parametrize("regs", [(0.0, 0.0), (1e-3, 1e-2), (0.5, 0.0)])
@pytest.mark.parametrize("dims", [(4, 3), (2, 5)])
def test_torch_and_numpy_correlations_agree(regs, dims):
    torch = pytest.importorskip("torch")
    from alignkit.kernels._torch._cca import canonical_correlations

    x, y = _views(seed=4, dims=dims)
    _, _, expected = linear_cca(x, y, *regs, 1)
    got = canonical_correlations(torch.as_tensor(x), torch.as_tensor(y), *regs)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
    # float32 (what the encoders produce before the cast) agrees to single precision.
    single = canonical_correlations(
        torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32), *regs
    )
    np.testing.assert_allclose(single.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_cca_module_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; import alignkit.multiview._cca; sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_overflowing_covariance_names_the_view():
    # Issue 13 item 2: values near 1e154 overflow the covariance; eigh then raised LinAlgError.
    x, y = _views(seed=5)
    with pytest.raises(InvalidInputError, match=r"covariance of view 1 overflows float64"):
        multiset_cca([x, y * 1e154], n_components=1)
