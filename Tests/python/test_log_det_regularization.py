"""log det H of the constant regularisation (`swiftw.likelihood._log_det_regularization`, one
Swift call: reverse Cuthill-McKee, then LAPACK's banded Cholesky, or the dense one for a wide band)
against NumPy's dense `slogdet` of the reference H, on fresh random Delaunay meshes."""

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import reverse_cuthill_mckee
from scipy.spatial import Delaunay

from bench import reference as ref
from swiftw.likelihood import _log_det_regularization

COEFFICIENTS = (1e-3, 1.0, 50.0)


def _padded(rows: list[np.ndarray], width: int | None = None, rng=None) -> np.ndarray:
    """Rows padded to one width with -1, or (`rng`) with random valid indices past each row's end."""
    width = max(max((r.size for r in rows), default=0), 1) if width is None else width
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
        if rng is not None:
            out[i, r.size:] = rng.integers(0, len(rows), width - r.size)
    return out


def _delaunay_rows(rng, pixels: int) -> list[np.ndarray]:
    """Each vertex's neighbours on a Delaunay mesh of random points (as bench/inversion.py builds them)."""
    indptr, indices = Delaunay(rng.uniform(-1, 1, (pixels, 2))).vertex_neighbor_vertices
    return [indices[indptr[i]: indptr[i + 1]].astype(np.int64) for i in range(pixels)]


def _relabelled(rng, rows: list[np.ndarray]) -> list[np.ndarray]:
    """The same graph with its vertices renumbered at random (no band left in the given order)."""
    new = rng.permutation(len(rows))
    out = [None] * len(rows)
    for i, r in enumerate(rows):
        out[new[i]] = new[r]
    return out


def _reference(coefficient, rows, *, rows_end_at_sizes=False, rng=None):
    """(neighbors, sizes, dense reference H) for neighbour lists `rows`."""
    sizes = np.array([r.size for r in rows], dtype=np.int64)
    if rows_end_at_sizes:
        neighbors = _padded(rows, width=int(sizes.max(initial=0)) + 2, rng=rng)  # junk past each row's end
    else:
        neighbors = _padded(rows)
    h = ref._regularization(coefficient, neighbors, sizes, rows_end_at_sizes=rows_end_at_sizes)
    return neighbors, sizes, h


def _banded(draw):
    """The first of up to 20 draws (neighbors, sizes, H) whose graph SciPy's reverse Cuthill-McKee
    narrows to S / 8 (the banded path): a random mesh's band is ~3.5 sqrt(S), and some draws come
    out a little wider."""
    for _ in range(20):
        neighbors, sizes, h = draw()
        if _rcm_width(neighbors, sizes) <= sizes.size // 8:
            return neighbors, sizes, h
    raise AssertionError("test bug: no banded mesh in 20 draws")


def _assert_log_det(got, h):
    """|got - log det H| within the first-order effect of a backward-stable factorisation,
    |d log det H| <= ||dH|| tr(H^-1) with ||dH|| ~ eps ||H|| (both sides round so; here H's
    smallest eigenvalues are ~1e-8, so tr(H^-1) is large when the coefficient is)."""
    sign, expected = np.linalg.slogdet(h)
    assert sign == 1
    tolerance = 1e-13 * abs(expected) + 8 * np.finfo(float).eps * np.abs(h).sum(axis=1).max() * np.trace(np.linalg.inv(h))
    assert abs(got - expected) <= tolerance, (got, expected, tolerance)


def _rcm_width(neighbors, sizes) -> int:
    """SciPy's reverse Cuthill-McKee band half-width of the graph (to show a case is banded or not)."""
    pixels = sizes.size
    rows = np.repeat(np.arange(pixels), sizes)
    cols = np.concatenate([neighbors[i, : sizes[i]] for i in range(pixels)] + [np.zeros(0, np.int64)])
    graph = csr_matrix((np.ones(rows.size), (rows, cols)), shape=(pixels, pixels))
    order = reverse_cuthill_mckee(graph + graph.T, symmetric_mode=True)
    position = np.empty(pixels, dtype=np.int64)
    position[order] = np.arange(pixels)
    return int(np.max(np.abs(position[rows] - position[cols]), initial=0))


@pytest.mark.parametrize("rows_end_at_sizes", [False, True])
@pytest.mark.parametrize("coefficient", COEFFICIENTS)
def test_delaunay_mesh(rng, coefficient, rows_end_at_sizes):
    # A random mesh's band is ~3.5 sqrt(S) wide: within S / 8 (the banded path) from S ~ 800.
    neighbors, sizes, h = _banded(lambda: _reference(coefficient, _delaunay_rows(rng, int(rng.integers(1000, 1500))),
                                                    rows_end_at_sizes=rows_end_at_sizes, rng=rng))
    _assert_log_det(_log_det_regularization(neighbors, sizes, rows_end_at_sizes, coefficient=coefficient), h)


@pytest.mark.parametrize("coefficient", COEFFICIENTS)
def test_disconnected_relabelled_with_isolated_pixels(rng, coefficient):
    """Two meshes and two pixels without neighbours, numbered at random: every component ordered."""
    def draw():
        first = _delaunay_rows(rng, int(rng.integers(500, 800)))
        second = _delaunay_rows(rng, int(rng.integers(500, 800)))
        rows = first + [r + len(first) for r in second] + [np.zeros(0, np.int64)] * 2
        return _reference(coefficient, _relabelled(rng, rows))

    neighbors, sizes, h = _banded(draw)
    given_width = np.abs(np.arange(sizes.size)[:, None] - neighbors)[neighbors >= 0].max()
    assert sizes.size // 8 < given_width  # banded only once ordered
    _assert_log_det(_log_det_regularization(neighbors, sizes, False, coefficient=coefficient), h)


@pytest.mark.parametrize("coefficient", COEFFICIENTS)
def test_wide_band_goes_dense(rng, coefficient):
    """A random graph (each pixel linked to 4 random others, both ways) keeps a band wider than S / 8
    under any ordering, so H is factored dense."""
    pixels = int(rng.integers(150, 300))
    links = [set() for _ in range(pixels)]
    for i in range(pixels):
        for k in rng.choice(np.delete(np.arange(pixels), i), 4, replace=False):
            links[i].add(int(k))
            links[int(k)].add(i)
    rows = [np.array(sorted(s), dtype=np.int64) for s in links]
    neighbors, sizes, h = _reference(coefficient, rows)
    assert _rcm_width(neighbors, sizes) > pixels // 8
    _assert_log_det(_log_det_regularization(neighbors, sizes, False, coefficient=coefficient), h)


def test_repeated_pair_counts_twice(rng):
    """A neighbour listed twice subtracts c^2 twice (as the reference H does)."""
    rows = _delaunay_rows(rng, 200)
    i = int(rng.integers(200))
    rows[i] = np.append(rows[i], rows[i][0])
    rows[int(rows[i][0])] = np.append(rows[int(rows[i][0])], i)
    neighbors, sizes, h = _reference(0.7, rows)
    _assert_log_det(_log_det_regularization(neighbors, sizes, False, coefficient=0.7), h)


def test_one_pixel():
    for rows_end_at_sizes, neighbors in ((False, [[-1]]), (True, [[5, 5]])):
        got = _log_det_regularization(np.array(neighbors), np.array([0]), rows_end_at_sizes, coefficient=3.0)
        assert got == pytest.approx(np.log(1e-8), rel=1e-15)
    # a pixel that is its own neighbour: 1e-8 + c^2 - c^2
    got = _log_det_regularization(np.array([[0]]), np.array([1]), False, coefficient=2.0)
    assert got == pytest.approx(np.log(1e-8), rel=1e-7)


def test_not_positive_definite(rng):
    """With sizes that do not count the listed neighbours H is 1e-8 I - c^2 (adjacency): not positive
    definite (with consistent sizes H = 1e-8 I + c^2 (graph Laplacian) always is)."""
    mesh = _padded(_delaunay_rows(rng, 300))
    links = [set() for _ in range(200)]
    for i in range(200):
        for k in rng.choice(np.delete(np.arange(200), i), 4, replace=False):
            links[i].add(int(k))
            links[int(k)].add(i)
    wide = _padded([np.array(sorted(s)) for s in links])
    for neighbors in (mesh, wide):  # banded and dense
        with pytest.raises(ValueError, match="^regularization matrix H is not positive definite$"):
            _log_det_regularization(neighbors, np.zeros(neighbors.shape[0], dtype=np.int64), False, coefficient=1.0)
    with pytest.raises(ValueError, match="^regularization matrix H is not positive definite$"):
        _log_det_regularization(np.array([[0]]), np.array([0]), False, coefficient=1.0)


def test_bad_input(rng):
    rows = _delaunay_rows(rng, 50)
    neighbors, sizes, _ = _reference(1.0, rows)
    bad = neighbors.copy()
    bad[7, 1] = 50
    with pytest.raises(IndexError, match=r"neighbors\[7, 1\] = 50 is outside \[0, 50\); -1 ends a row"):
        _log_det_regularization(bad, sizes, False)
    bad[7, 1] = -3
    with pytest.raises(IndexError, match=r"neighbors\[7, 1\] = -3 is outside \[0, 50\)"):
        _log_det_regularization(bad, sizes, True)
    too_long = sizes.copy()
    too_long[3] = neighbors.shape[1] + 1
    with pytest.raises(IndexError, match=rf"neighbors_sizes\[3\] = {neighbors.shape[1] + 1} is outside \[0, {neighbors.shape[1]}\]"):
        _log_det_regularization(neighbors, too_long, True)
    with pytest.raises(ValueError, match="neighbors_sizes has shape"):
        _log_det_regularization(neighbors, sizes[:-1], False)
    with pytest.raises(ValueError, match="coefficient must be finite, got nan"):
        _log_det_regularization(neighbors, sizes, False, coefficient=float("nan"))
    with pytest.raises(TypeError, match="neighbors must hold integers"):
        _log_det_regularization(neighbors.astype(float), sizes, False)


def _mesh(seed: int):
    return _reference(1.0, _delaunay_rows(np.random.default_rng(seed), 400))


def _mesh_log_det(seed: int) -> float:
    neighbors, sizes, _ = _mesh(seed)
    return _log_det_regularization(neighbors, sizes, False, coefficient=1.0)


def test_spawned_forked_and_threaded(rng):
    """SciPy's dpbtrf address is per process: right in a spawned child (which installs its own)
    and a forked one (which inherits the parent's), and from several threads at once. Each answer
    is held to the dense reference, not to the parent's digits: another process's LAPACK may block
    differently, and H's 1e-8 ridge makes log det H uncertain at ~1e-9 here in any order."""
    seed = int(rng.integers(2**32))
    h = _mesh(seed)[2]
    _assert_log_det(_mesh_log_det(seed), h)
    for method in ("spawn", "fork"):
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
            _assert_log_det(pool.submit(_mesh_log_det, seed).result(timeout=120), h)
    results = [None] * 4
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, _mesh_log_det(seed))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        _assert_log_det(r, h)
