"""SPEC 3.8: the positive-only reconstruction and the evidence of `CurvatureOperator.inversion`.

The solve is checked three ways on fresh random symmetric positive definite problems with 30-50%
of the solution at zero: the KKT conditions (to rounding, relative to the terms that make up each
gradient entry), an independent oracle (`ref`: Lawson and Hanson's active set in plain NumPy,
certified by the KKT conditions; SciPy's NNLS is no oracle, it returns non-optimal points on some
of these problems), and the NumPy fnnls peer; on small problems, also against every zero set tried
in turn. Each evidence term is compared with `ref.inversion_terms`, written from the formulas with
dense F, H and T; the tolerance is relative to the size of the terms, widened by cond(A) * eps for
the forward error of the solve (and ~1e-7 absolute for log det H, whose 1e-8 ridge makes it that
uncertain in any implementation).
"""

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import swiftw
from bench import reference as ref
from bench.peers.fnnls import fnnls
from conftest import make_problem

TERMS = ("chi_squared", "regularization_term", "log_det_curvature_reg_matrix_term",
         "log_det_regularization_matrix_term", "noise_normalization", "log_evidence")


def spd_problem(rng, s, zero_fraction=0.4):
    """(d, A): A = X^T X / m + a small ridge, d = A s_true + noise with s_true zero on
    `zero_fraction` of its entries, so that about that fraction of the solution is at zero."""
    m = s + int(rng.integers(s // 2 + 1, 2 * s + 2))
    x = rng.standard_normal((m, s)) * rng.uniform(0.5, 2.0, s)
    a = x.T @ x / m + rng.uniform(1e-3, 1e-1) * np.eye(s)
    a = 0.5 * (a + a.T)
    truth = np.abs(rng.standard_normal(s)) * (rng.uniform(size=s) > zero_fraction)
    d = a @ truth + 0.3 * rng.standard_normal(s) * np.sqrt(np.diag(a))
    return d * 10 ** rng.uniform(-3, 3), a


def assert_kkt(s, d, a, rel=1e-11):
    g, scale = ref.kkt_residuals(s, d, a)
    assert np.all(s >= 0), f"negative entries: {s[s < 0]}"
    positive = s > 0
    # A zero scale means every term of g_i is zero (a pixel no data and no neighbour reaches): g_i = 0.
    relative = np.divide(g, scale, out=np.where(scale > 0, np.nan, 0.0 * g), where=scale > 0)
    worst_passive = np.max(np.abs(relative[positive]), initial=0.0)
    worst_zero = np.max(-relative[~positive], initial=0.0)
    assert worst_passive <= rel, f"gradient on the passive set: {worst_passive:.2e} of its scale"
    assert worst_zero <= rel, f"negative gradient on the zero set: {worst_zero:.2e} of its scale"


STRATEGIES = ("auto", "passive_set", "zero_set")


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("size", [1, 2, 9, 60, 200, 500])
def test_positive_only_kkt_and_oracle(rng, size, strategy):
    from swiftw.inversion import _solve

    d, a = spd_problem(rng, size, zero_fraction=rng.uniform(0.25, 0.55))
    s = _solve(d, a, strategy=strategy)[0]
    if strategy == "auto":
        assert np.array_equal(s, swiftw.reconstruction_positive_only_from(d, a))
    assert_kkt(s, d, a)
    oracle = ref.reconstruction_positive_only_from(d, a)
    scale = max(np.max(np.abs(oracle)), 1e-300)
    assert np.max(np.abs(s - oracle)) <= 1e-9 * scale
    if size >= 60:  # a realistic share of the solution at zero, not a vacuous constraint
        assert 0.1 <= np.mean(s == 0) <= 0.8, f"zero fraction {np.mean(s == 0)}"


@pytest.mark.parametrize("size", [2, 5, 8])
def test_positive_only_is_the_one_zero_set_meeting_kkt(rng, size):
    """Every zero set in turn: exactly one gives a passive solution that is positive with a
    non-negative gradient on the zeros; the reference and swiftw both return it."""
    d, a = spd_problem(rng, size, zero_fraction=0.5)
    found = []
    for mask in range(1 << size):
        passive = np.array([(mask >> i) & 1 == 1 for i in range(size)])
        s = np.zeros(size)
        if passive.any():
            s[passive] = np.linalg.solve(a[np.ix_(passive, passive)], d[passive])
        g, scale = ref.kkt_residuals(s, d, a)
        if np.all(s[passive] > 0) and np.all(g[~passive] >= -1e-12 * scale[~passive]):
            found.append(s)
    assert len(found) == 1
    for got in (ref.reconstruction_positive_only_from(d, a), swiftw.reconstruction_positive_only_from(d, a)):
        assert np.max(np.abs(got - found[0])) <= 1e-10 * np.max(np.abs(found[0]), initial=1e-300)
        assert np.array_equal(got == 0, found[0] == 0)


def test_positive_only_matches_fnnls_peer(rng):
    d, a = spd_problem(rng, int(rng.integers(80, 160)))
    s = swiftw.reconstruction_positive_only_from(d, a)
    for seed in (True, False):
        peer = fnnls(a, d, seed=seed)
        assert np.max(np.abs(s - peer)) <= 1e-9 * np.max(np.abs(peer))
    assert np.array_equal(s == 0, peer == 0)


def test_positive_only_edges(rng):
    """All positive: the unconstrained solve; all negative data: zero; one variable."""
    d, a = spd_problem(rng, 40, zero_fraction=0.0)
    positive = np.linalg.solve(a, np.abs(d) * 0 + a @ (1 + rng.uniform(size=40)))
    s = swiftw.reconstruction_positive_only_from(a @ positive, a)
    assert np.max(np.abs(s - positive)) <= 1e-10 * np.max(positive)
    diagonal = np.diag(rng.uniform(1, 2, 40))
    assert np.all(swiftw.reconstruction_positive_only_from(-np.abs(d), diagonal) == 0)
    value = float(rng.uniform(0.5, 2))
    assert swiftw.reconstruction_positive_only_from(np.array([3.0]), np.array([[value]]))[0] == pytest.approx(3.0 / value)
    assert swiftw.reconstruction_positive_only_from(np.array([-3.0]), np.array([[value]]))[0] == 0.0
    assert swiftw.reconstruction_positive_only_from(np.zeros(0), np.zeros((0, 0))).shape == (0,)


# A problem on which block principal pivoting with Murty's backup rule took 146 solves.
STALLING_SEED = 3696814737369807145


@pytest.mark.parametrize("seed", [STALLING_SEED, None])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strongly_regularised_mostly_zero(rng, seed, strategy):
    """A = F + H of a small lens problem at coefficients 0.5-1.7 (45-98% of the solution at zero,
    cond(A) ~ 1e5-1e6), where whole exchanges stall and the Lawson-Hanson finish takes over: the
    KKT conditions (to cond(A) eps) and the oracle, within the default bound on solves."""
    from swiftw.inversion import _solve

    p = make_problem(np.random.default_rng(seed) if seed is not None else rng)
    f = ref.curvature_matrix_via_w_tilde_from(ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid),
                                              ref.mapping_matrix_from(p.idx, p.wts, p.S))
    d = ref.data_vector_from(ref.mapping_matrix_from(p.idx, p.wts, p.S), p.dirty_image)
    for coefficient in (0.5, 1.0, 1.7):
        a = f + ref.constant_regularization_matrix_from(coefficient, p.neighbors, p.neighbors_sizes)
        s = _solve(d, a, strategy=strategy)[0]
        # the zero-set solver's residual (the capacitance identity) grows with cond(A)
        assert_kkt(s, d, a, rel=max(1e-11, 1e-16 * np.linalg.cond(a)))
        oracle = ref.reconstruction_positive_only_from(d, a)
        assert np.max(np.abs(s - oracle)) <= 1e-8 * np.max(np.abs(oracle))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_nearly_singular(rng, strategy):
    """Few visibilities for many source pixels and a small coefficient make A nearly singular
    (80-97% of the solution at zero), where the capacitance steps lose accuracy (their residual
    grows with cond(A)) and whole exchanges stall into the Lawson-Hanson finish, one solve per
    variable that changes sides. At coefficient 1e-2 (cond ~1e5-1e8) the answer meets the KKT
    conditions and has the oracle's objective (to cond(A) eps), within the default bound on solves. At 1e-4
    (cond ~1e9-1e11) s is not numerically determined (entries ~1e7 times the data's, from
    near-null directions): only the certificate is checked, s >= 0 with the gradient on the passive
    set within 1e-9 of its terms (the capacitance steps alone broke it by 100%)."""
    from swiftw.inversion import _solve

    p = make_problem(rng, k=30, s=300)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    f = ref.curvature_matrix_via_w_tilde_from(ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid), t)
    d = ref.data_vector_from(t, p.dirty_image)
    a = f + ref.constant_regularization_matrix_from(1e-2, p.neighbors, p.neighbors_sizes)
    condition = np.linalg.cond(a)
    assert condition >= 1e5, "test bug: A is not nearly singular"
    s = _solve(d, a, strategy=strategy)[0]
    assert_kkt(s, d, a, rel=1e-9)
    oracle = ref.reconstruction_positive_only_from(d, a)
    objective = lambda x: 0.5 * x @ a @ x - d @ x  # noqa: E731
    assert abs(objective(s) - objective(oracle)) <= max(1e-12, 1e-16 * condition) * abs(objective(oracle))

    a = f + ref.constant_regularization_matrix_from(1e-4, p.neighbors, p.neighbors_sizes)
    s = _solve(d, a, strategy=strategy)[0]
    g, scale = ref.kkt_residuals(s, d, a)
    assert np.all(s >= 0)
    assert np.all(np.abs(g[s > 0]) <= 1e-9 * scale[s > 0])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_warm_start_same_answer(rng, strategy):
    from swiftw.inversion import _solve

    d, a = spd_problem(rng, 150)
    cold, log_det, cold_iterations, zeros = _solve(d, a, strategy=strategy)
    assert cold_iterations >= 2 and zeros == np.sum(cold == 0)
    assert log_det == pytest.approx(np.linalg.slogdet(a)[1], rel=1e-12, abs=1e-9)
    # started at the answer: one step after the unconstrained solve; at another problem's: the same answer
    again, log_det_warm, iterations, _ = _solve(d, a, warm_start=cold, strategy=strategy)
    assert iterations == 2 and np.max(np.abs(again - cold)) <= 1e-12 * np.max(cold)
    assert log_det_warm == pytest.approx(log_det, rel=1e-12, abs=1e-9)
    other = swiftw.reconstruction_positive_only_from(*spd_problem(rng, 150))
    moved, log_det_moved, _, _ = _solve(d, a, warm_start=other, strategy=strategy)
    assert np.max(np.abs(moved - cold)) <= 1e-10 * np.max(cold)
    assert log_det_moved == pytest.approx(log_det, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_warm_start_far_from_the_answer_costs_no_more_than_cold(rng, strategy):
    """A random start, whose signs agree with the unconstrained solution's on about half the
    variables (as far off as another coefficient's solution), is not used as the seed: with the
    steps' strategy fixed, the solve takes the cold one's solves (seeded from it, the pivoting took
    one to three more). It still orders the factorisation, from which "auto" may choose the other
    strategy: there only the answer is the cold one's."""
    from swiftw.inversion import _solve

    for _ in range(4):
        d, a = spd_problem(rng, 200)
        cold, _, cold_iterations, _ = _solve(d, a, strategy=strategy)
        start = rng.standard_normal(200) * np.max(cold)
        warm, _, iterations, _ = _solve(d, a, warm_start=start, strategy=strategy)
        if strategy != "auto":
            assert iterations == cold_iterations
        assert np.max(np.abs(warm - cold)) <= 1e-10 * np.max(cold)


# ---------------------------------------------------------------------------------------------
# bad input: a clear exception naming what was wrong, never a hang
# ---------------------------------------------------------------------------------------------


def test_not_positive_definite(rng):
    d, a = spd_problem(rng, 30)
    shifted = a - 2 * np.max(np.linalg.eigvalsh(a)) * np.outer(np.eye(30)[7], np.eye(30)[7])
    with pytest.raises(ValueError, match="curvature_reg_matrix is not positive definite"):
        swiftw.reconstruction_positive_only_from(d, shifted)
    from swiftw.inversion import _solve

    with pytest.raises(ValueError, match="curvature_reg_matrix is not positive definite"):
        _solve(d, shifted, warm_start=np.ones(30))  # found by the Schur complement over the zero set


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_not_finite(rng, bad):
    d, a = spd_problem(rng, 20)
    broken = a.copy()
    broken[3, 5] = broken[5, 3] = bad
    with pytest.raises(ValueError, match=r"curvature_reg_matrix\[\d, \d\] is .*not finite"):
        swiftw.reconstruction_positive_only_from(d, broken)
    # A that swiftw built itself (the inversion's F + H) is not scanned, but a non-finite entry of
    # the factored triangle, off or on the diagonal, still fails the factorisation: never a number.
    from swiftw.inversion import _solve

    diagonal = a.copy()
    diagonal[7, 7] = bad
    for matrix in (broken, diagonal):
        with pytest.raises(ValueError, match="not finite|not positive definite"):
            _solve(d, matrix, built=True)
    vector = d.copy()
    vector[11] = bad
    with pytest.raises(ValueError, match=r"data_vector\[11\] is .*not finite"):
        swiftw.reconstruction_positive_only_from(vector, a)


def test_bad_shapes_and_symmetry(rng):
    d, a = spd_problem(rng, 20)
    with pytest.raises(ValueError, match="curvature_reg_matrix has shape"):
        swiftw.reconstruction_positive_only_from(np.append(d, 1.0), a)
    with pytest.raises(ValueError, match="curvature_reg_matrix has shape"):
        swiftw.reconstruction_positive_only_from(d, a[:, :19])
    unsymmetric = a.copy()
    unsymmetric[2, 9] += 1e-3 * np.max(np.diag(a))
    with pytest.raises(ValueError, match=r"curvature_reg_matrix is not symmetric: \[9, 2\]"):
        swiftw.reconstruction_positive_only_from(d, unsymmetric)
    with pytest.raises(TypeError, match="curvature_reg_matrix"):
        swiftw.reconstruction_positive_only_from(d, a + 0j)
    from swiftw.inversion import _solve

    with pytest.raises(ValueError, match="warm_start has shape"):
        _solve(d, a, warm_start=np.ones(19))
    with pytest.raises(ValueError, match=r"warm_start\[4\] is nan"):
        _solve(d, a, warm_start=np.where(np.arange(20) == 4, np.nan, 1.0))
    with pytest.raises(ValueError, match="max_iterations must be at least 1"):
        _solve(d, a, max_iterations=0)
    with pytest.raises(ValueError, match="strategy"):
        _solve(d, a, strategy="fast")


def test_iteration_bound(rng):
    """A solve that needs more passive-set solves than allowed stops and says so."""
    from swiftw.inversion import _solve

    d, a = spd_problem(rng, 80)
    needed = _solve(d, a)[2]
    assert needed >= 3, "test bug: the first zero set was already right"
    with pytest.raises(ValueError, match=rf"did not converge in max_iterations = {needed - 1} solves"):
        _solve(d, a, max_iterations=needed - 1)


def test_spawned_forked_and_threaded(rng):
    """SciPy's LAPACK addresses are per process: right in a spawned child (which installs its own)
    and a forked one (which inherits the parent's), and from several threads at once."""
    d, a = spd_problem(rng, 120)
    expected = swiftw.reconstruction_positive_only_from(d, a)
    # Not bitwise: another process's BLAS may run on another number of threads, which moves the rounding.
    tolerance = 1e-11 * np.max(np.abs(expected))
    for method in ("spawn", "fork"):
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
            got = pool.submit(swiftw.reconstruction_positive_only_from, d, a).result(timeout=120)
        np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance, err_msg=method)
        assert np.array_equal(got == 0, expected == 0), f"{method}: another zero set"
    results = [None] * 4
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, swiftw.reconstruction_positive_only_from(d, a)))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_allclose(r, expected, rtol=0, atol=tolerance, err_msg="threads")


# ---------------------------------------------------------------------------------------------
# the evidence
# ---------------------------------------------------------------------------------------------


def _lensing(rng):
    """A simulated problem with its operator, the reference F and T, and cond(F + H)."""
    p = make_problem(rng)
    wc = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    f = ref.curvature_matrix_via_w_tilde_from(ref.w_tilde_via_compact_from(wc, p.native), t)
    return p, swiftw.CurvatureOperator(wc, p.native), f, t


def _args(p):
    return (p.dirty_image, p.data, p.noise_map, p.idx, p.wts, p.neighbors, p.neighbors_sizes)


def _assert_terms(result, expected, cond):
    magnitude = sum(abs(expected[k]) for k in TERMS[:-1])
    s_dot_d = abs(expected["chi_squared"]) + abs(expected["regularization_term"])
    tolerance = 1e-9 * magnitude + 1e-14 * cond * s_dot_d + 1e-6
    for name in TERMS:
        got, want = getattr(result, name), expected[name]
        assert abs(got - want) <= tolerance, f"{name}: {got!r} vs {want!r} (tolerance {tolerance:.2e})"
    s, r = result.reconstruction, expected["reconstruction"]
    assert np.max(np.abs(s - r)) <= (1e-9 + 1e-14 * cond) * np.max(np.abs(r))


@pytest.mark.parametrize("positive_only", [True, False])
def test_inversion_terms_against_reference(rng, positive_only):
    p, op, f, t = _lensing(rng)
    coefficient = float(10 ** rng.uniform(-1, 1))
    result = op.inversion(*_args(p), coefficient=coefficient, positive_only=positive_only)
    expected = ref.inversion_terms(p.dirty_image, p.data, p.noise_map, f, t, p.neighbors, p.neighbors_sizes,
                                   coefficient=coefficient, positive_only=positive_only)
    h = ref.constant_regularization_matrix_from(coefficient, p.neighbors, p.neighbors_sizes)
    _assert_terms(result, expected, np.linalg.cond(f + h))
    assert result.zeros == np.sum(result.reconstruction == 0)
    if positive_only:
        assert result.zeros > 0 and result.iterations >= 2
        assert_kkt(result.reconstruction, ref.data_vector_from(t, p.dirty_image), f + h, rel=1e-9)
    else:
        assert result.iterations == 1 and np.any(result.reconstruction < 0)


def test_unconstrained_evidence_is_the_log_likelihood(rng):
    p, op, f, t = _lensing(rng)
    result = op.inversion(*_args(p), positive_only=False)
    expected = op.log_likelihood(*_args(p))
    h = ref.constant_regularization_matrix_from(1.0, p.neighbors, p.neighbors_sizes)
    terms = ref.log_likelihood_terms(p.dirty_image, p.data, p.noise_map, f, t, p.neighbors, p.neighbors_sizes)
    tolerance = 1e-9 * sum(abs(v) for v in terms.values()) + 1e-14 * np.linalg.cond(f + h) * abs(terms["s_dot_d"])
    assert abs(result.log_evidence - expected) <= tolerance


def test_inversion_warm_start(rng):
    p, op, _, _ = _lensing(rng)
    cold = op.inversion(*_args(p), coefficient=0.7)
    warm = op.inversion(*_args(p), coefficient=0.7, warm_start=cold.reconstruction)
    assert warm.iterations == 2  # the unconstrained solve, then the right zero set at once
    for name in TERMS:
        assert getattr(warm, name) == pytest.approx(getattr(cold, name), rel=1e-10, abs=1e-8), name
    with pytest.raises(TypeError, match="coefficient"):
        op.inversion(*_args(p), coefficient="x")


def test_benchmark_observation_is_consistent():
    """The benchmark's simulated observation (bench/inversion.py), at a small size: its dirty image
    is consistent with W, so the evidence's chi-squared equals the direct sum over visibilities
    of |data - model|^2 / sigma^2 for the reconstruction's model visibilities."""
    from bench.harness import problem_for
    from bench.inversion import Observation

    obs = Observation(problem_for("curvature_matrix", "ci"), pixels=60)
    op = swiftw.CurvatureOperator(obs.base.w_compact, obs.base.native_index_for_slim_index)
    result = op.inversion(*obs.arguments(), coefficient=0.5)
    dirty, data, noise, idx, wts, *_ = obs.arguments()
    image = np.sum(wts * result.reconstruction[idx], axis=1)
    grid, uv = obs.base.grid_radians_slim, obs.base.uv_wavelengths
    model = image @ np.exp(-2j * np.pi * (grid[:, 1:2] * uv[None, :, 0] + grid[:, 0:1] * uv[None, :, 1]))
    direct = float(np.sum(((data - model).real / noise.real) ** 2 + ((data - model).imag / noise.imag) ** 2))
    assert result.chi_squared == pytest.approx(direct, rel=1e-9)
    assert 0 < result.zeros < 60 and np.all(result.reconstruction >= 0)
