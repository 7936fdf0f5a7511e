"""swiftw.dask: the once-per-dataset sums over visibilities chunked on Dask equal the single-node
calls and the NumPy reference (within 10 eps sum of the weights), whatever the chunking, on a
LocalCluster of two worker processes and on the local threaded scheduler; bad chunks fail with
their name."""

import sys
import time

import numpy as np
import pytest

from bench import reference as ref

from conftest import assert_close, draw_uv

dask = pytest.importorskip("dask", reason='swiftw.dask needs the optional extra: pip install "swiftw[dask]"')
da = pytest.importorskip("dask.array", reason='swiftw.dask needs the optional extra: pip install "swiftw[dask]"')
distributed = pytest.importorskip("dask.distributed",
                                  reason='the cluster tests need dask.distributed: pip install "swiftw[dask]"')

import swiftw  # noqa: E402
import swiftw.dask as sd  # noqa: E402
from swiftw import _partials  # noqa: E402

EPS = 1e-12
CHUNKINGS = ["one", "even", "uneven", "numpy"]


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, for the whole module."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(params=["cluster", "local"])
def compute(request):
    """Compute a lazy result on the LocalCluster or on the local threaded scheduler."""
    if request.param == "cluster":
        c = request.getfixturevalue("client")
        return lambda lazy: c.compute(lazy).result()
    return lambda lazy: lazy.compute(scheduler="threads")


def chunked(rng, arrays, how):
    """The arrays as dask arrays chunked along K: in one chunk, in equal chunks, in uneven chunks
    (different for every call), or left as NumPy (swiftw.dask chunks them)."""
    k = arrays[0].shape[0]
    if how == "numpy":
        return arrays
    if how == "one":
        rows = (k,)
    elif how == "even":
        rows = (k // 4,) * 3 + (k - 3 * (k // 4),)
    else:
        cuts = np.sort(rng.choice(np.arange(1, k), size=6, replace=False))
        rows = tuple(int(r) for r in np.diff(np.concatenate([[0], cuts, [k]])))
    return [da.from_array(a, chunks=(rows,) + a.shape[1:]) for a in arrays]


def lattice_grid(rng, ny, nx, pad=2, sy=None, sx=None):
    """A regular (ny + pad, nx + pad, 2) grid of (y, x) radians, a circular-ish mask inside its
    (ny, nx) extent, and the masked pixels' (M, 2) coordinates."""
    d = ref.arcsec_to_radians(rng.uniform(0.05, 0.2))
    sy = d if sy is None else sy * d
    sx = d if sx is None else sx * d
    y0, x0 = rng.uniform(-1, 1, 2) * 20 * d
    rows, cols = np.mgrid[0 : ny + pad, 0 : nx + pad]
    grid_2d = np.stack([y0 - sy * rows, x0 + sx * cols], axis=-1)
    inside = ((rows - (ny - 1) / 2) / ny) ** 2 + ((cols - (nx - 1) / 2) / nx) ** 2 <= 0.25
    inside &= (rows < ny) & (cols < nx)
    return grid_2d, grid_2d[inside], d


def draw_visibilities(rng, k, n, d, *, same_sigma=False):
    uv = draw_uv(rng, k, n, d * 648000 / np.pi, phase_span=rng.uniform(20, 200))
    data = rng.normal(size=k) + 1j * rng.normal(size=k)
    real = rng.uniform(0.5, 2.0, k)
    noise = real + 1j * (real if same_sigma else rng.uniform(0.5, 2.0, k))
    return data, noise, uv


# ---------------------------------------------------------------------------------------------
# the operators equal the single-node calls and the reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", CHUNKINGS)
def test_w_compact_equals_one_call(rng, compute, how):
    n, k, pixel_scale = int(rng.integers(8, 17)), int(rng.integers(6000, 12000)), rng.uniform(0.05, 0.2)
    noise = rng.uniform(0.5, 2.0, k)
    uv = draw_uv(rng, k, n, pixel_scale)
    lazy = sd.w_compact_curvature_interferometer_from(n, *chunked(rng, [noise, uv], how), pixel_scale,
                                                      split_every=int(rng.integers(2, 5)))
    assert isinstance(lazy, da.Array) and lazy.shape == (n, 2 * n - 1)
    got = compute(lazy)
    scale = np.sum(noise**-2.0)
    with swiftw.options(eps=EPS):
        one = swiftw.w_compact_curvature_interferometer_from(n, noise, uv, pixel_scale)
    assert_close(got, one, scale=scale, rel=10 * EPS, what=f"dask w_compact ({how}) vs one call")
    assert_close(got, ref.w_compact_curvature_interferometer_from(n, noise, uv, pixel_scale), scale=scale,
                 rel=10 * EPS, what=f"dask w_compact ({how}) vs reference")


@pytest.mark.parametrize("how", CHUNKINGS)
@pytest.mark.parametrize("rectangular", [False, True])
def test_precision_operator_equals_preload(rng, compute, how, rectangular):
    """The (2 ny, 2 nx) operator holds the preload's numbers, for square and rectangular extents and
    for unequal row and column spacings."""
    ny, nx = (int(rng.integers(6, 12)), int(rng.integers(6, 12))) if rectangular else (10, 10)
    grid_2d, _, d = lattice_grid(rng, ny, nx, sy=rng.uniform(0.7, 1.4) if rectangular else None)
    k = int(rng.integers(6000, 12000))
    noise = rng.uniform(0.5, 2.0, k)
    uv = draw_uv(rng, k, max(ny, nx), d * 648000 / np.pi)
    got = compute(sd.nufft_precision_operator_from(*chunked(rng, [noise, uv], how), (ny, nx), grid_2d))
    scale = np.sum(noise**-2.0)
    one = swiftw.autoarray.w_tilde_curvature_preload_interferometer_from(noise, uv, (ny, nx), grid_2d)
    assert_close(got, one, scale=scale, rel=10 * EPS, what=f"dask operator ({how}) vs the preload")
    if not rectangular:  # the single-node NUFFT call takes square pixels only
        single = swiftw.autoarray.nufft_precision_operator_from(noise, uv, (ny, nx), grid_2d, eps=EPS)
        assert_close(got, single, scale=scale, rel=10 * EPS, what=f"dask operator ({how}) vs one call")
    sy, sx = grid_2d[0, 0, 0] - grid_2d[1, 0, 0], grid_2d[0, 1, 1] - grid_2d[0, 0, 1]
    assert_close(got, ref.w_tilde_preload_of_box(noise, uv, ny, nx, sy, sx), scale=scale, rel=10 * EPS,
                 what=f"dask operator ({how}) vs reference")


@pytest.mark.parametrize("how", CHUNKINGS)
def test_dataset_terms_equal_reference(rng, compute, how):
    ny, nx = int(rng.integers(8, 13)), int(rng.integers(8, 13))
    grid_2d, slim, d = lattice_grid(rng, ny, nx)
    data, noise, uv = draw_visibilities(rng, int(rng.integers(6000, 12000)), max(ny, nx), d)
    arrays = chunked(rng, [data, noise, uv], how)
    terms = compute(sd.dataset_terms(*arrays, (ny, nx), grid_2d, slim, split_every=3))
    assert isinstance(terms, sd.DatasetTerms)
    c = noise.real**-2.0
    sy, sx = grid_2d[0, 0, 0] - grid_2d[1, 0, 0], grid_2d[0, 1, 1] - grid_2d[0, 0, 1]
    assert_close(terms.nufft_precision_operator, ref.w_tilde_preload_of_box(noise.real, uv, ny, nx, sy, sx),
                 scale=np.sum(c), rel=10 * EPS, what="operator")
    weights = np.sum(np.abs(data.real) / noise.real**2 + np.abs(data.imag) / noise.imag**2)
    assert_close(terms.dirty_image, ref.dirty_image_from(data, noise, uv, slim), scale=weights, rel=10 * EPS,
                 what="dirty image")
    chi = ref.chi_squared_complex(data, noise)
    assert abs(terms.data_term - chi) <= 1e-12 * chi, (terms.data_term, chi)
    norm = ref.noise_normalization_complex_from(noise)
    assert abs(terms.noise_normalization - norm) <= 1e-12 * np.sum(np.abs(np.log(2 * np.pi * np.abs(noise) ** 2))), (
        terms.noise_normalization, norm)


def test_dataset_terms_real_noise_means_both_parts(rng):
    """A real (K,) noise map is the sigma of both parts; (K, 2) real arrays are (real, imaginary)."""
    grid_2d, slim, d = lattice_grid(rng, 9, 9)
    data, noise, uv = draw_visibilities(rng, 3000, 9, d, same_sigma=True)
    pairs = np.stack([data.real, data.imag], axis=1)
    got = sd.dataset_terms(pairs, noise.real, uv, (9, 9), grid_2d, slim).compute(scheduler="sync")
    want = sd.dataset_terms(data, noise, uv, (9, 9), grid_2d, slim).compute(scheduler="sync")
    for a, b, name in zip(got, want, sd.DatasetTerms._fields):
        assert_close(a, b, scale=np.max(np.abs(b)), rel=1e-14, what=name)


# ---------------------------------------------------------------------------------------------
# bad chunks, bad arguments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, 0.0])
def test_bad_value_fails_naming_the_chunk(rng, client, bad):
    """A NaN or zero sigma, a NaN or infinite (u, v): the computation fails naming the chunk, its
    rows, the input and the row. (An infinite sigma is a zero weight, as in the single-node call.)"""
    k, n = 8000, 8
    noise = rng.uniform(0.5, 2.0, k)
    uv = draw_uv(rng, k, n, 0.1)
    noise[5123] = bad
    lazy = sd.w_compact_curvature_interferometer_from(n, da.from_array(noise, chunks=2000),
                                                      da.from_array(uv, chunks=(2000, 2)), 0.1)
    with pytest.raises(ValueError, match=r"chunk 2 \(visibilities 4000:6000\): noise_map_real has 1 non-finite or "
                                         r"zero value\(s\), the first at row 1123"):
        client.compute(lazy).result()
    uv[100, 1] = np.nan if bad == 0 else np.inf
    noise[5123] = 1.0
    lazy = sd.w_compact_curvature_interferometer_from(n, da.from_array(noise, chunks=2000),
                                                      da.from_array(uv, chunks=(2000, 2)), 0.1)
    with pytest.raises(ValueError, match=r"chunk 0 \(visibilities 0:2000\): uv_wavelengths has 1 non-finite"):
        lazy.compute(scheduler="threads")


def test_bad_visibility_fails_dataset_terms_naming_the_chunk(rng):
    grid_2d, slim, d = lattice_grid(rng, 8, 8)
    data, noise, uv = draw_visibilities(rng, 6000, 8, d)
    data[4100] = np.nan
    with pytest.raises(ValueError, match=r"chunk 2 \(visibilities 4000:6000\): visibilities has 1 non-finite value\(s\), "
                                         r"the first at row 100"):
        sd.dataset_terms(da.from_array(data, chunks=2000), noise, uv, (8, 8), grid_2d, slim).compute(scheduler="sync")
    data[4100] = 1.0
    noise[10] = 1.0 + 0.0j
    with pytest.raises(ValueError, match=r"chunk 0 \(visibilities 0:2000\): noise_map has 1 non-finite or zero"):
        sd.dataset_terms(da.from_array(data, chunks=2000), noise, uv, (8, 8), grid_2d, slim).compute(scheduler="sync")


def test_chunk_shape_mismatch_fails_naming_the_chunk(rng, client):
    """Chunks of unknown size (after a boolean selection) are paired block by block; a chunk whose
    rows do not match fails with its number."""
    k, n = 8000, 8
    noise = da.from_array(rng.uniform(0.5, 2.0, k), chunks=2000)
    uv = da.from_array(draw_uv(rng, k, n, 0.1), chunks=(2000, 2))
    keep = np.ones(k, bool)
    keep[4500] = False
    lazy = sd.w_compact_curvature_interferometer_from(n, noise[da.from_array(keep, chunks=2000)], uv, 0.1)
    with pytest.raises(ValueError, match=r"chunk 2: uv_wavelengths has shape \(2000, 2\), expected \(1999, 2\)"):
        client.compute(lazy).result()
    grid_2d, slim, d = lattice_grid(rng, 8, 8)
    data, noise_c, uv_c = draw_visibilities(rng, k, 8, d)
    lazy = sd.dataset_terms(da.from_array(data, chunks=2000)[da.from_array(keep, chunks=2000)],
                            da.from_array(noise_c, chunks=2000), uv_c, (8, 8), grid_2d, slim)
    with pytest.raises(ValueError, match=r"chunk 2: visibilities \(1999\), noise_map \(2000\)"):
        client.compute(lazy).result()


def test_known_shape_mismatch_fails_before_computing(rng):
    with pytest.raises(ValueError, match="same number of rows"):
        sd.w_compact_curvature_interferometer_from(8, da.ones(100, chunks=30), np.ones((99, 2)), 0.1)
    with pytest.raises(ValueError, match="grid_size"):
        sd.w_compact_curvature_interferometer_from(0, np.ones(10), np.ones((10, 2)), 0.1)
    for kwargs, match in [({"split_every": 1}, "split_every"), ({"num_threads": 0}, "num_threads"),
                          ({"eps": 1e-20}, "eps")]:
        with pytest.raises(ValueError, match=match):
            sd.w_compact_curvature_interferometer_from(8, np.ones(10), np.ones((10, 2)), 0.1, **kwargs)
    with pytest.raises(ValueError, match="grid_radians_2d is not a regular grid"):
        sd.nufft_precision_operator_from(np.ones(10), np.ones((10, 2)), (4, 4), rng.normal(size=(5, 5, 2)))


# ---------------------------------------------------------------------------------------------
# threads and packaging
# ---------------------------------------------------------------------------------------------


def test_chunks_run_single_threaded_and_restore_the_setting(rng, restore_threads):
    """While any chunk runs swiftw uses `num_threads` (1 by default); the caller's setting is back
    after, also when the local threaded scheduler runs several chunks at once in this process."""
    swiftw.set_num_threads(2)
    seen = []
    original = _partials.w_compact_curvature_interferometer_from

    def spy(*args, **kwargs):
        seen.append(swiftw.get_num_threads())
        return original(*args, **kwargs)

    _partials.w_compact_curvature_interferometer_from = spy
    try:
        noise = da.from_array(rng.uniform(0.5, 2.0, 4000), chunks=500)
        uv = da.from_array(draw_uv(rng, 4000, 8, 0.1), chunks=(500, 2))
        sd.w_compact_curvature_interferometer_from(8, noise, uv, 0.1).compute(scheduler="threads", num_workers=4)
        assert seen == [1] * 8
        seen.clear()
        sd.w_compact_curvature_interferometer_from(8, noise, uv, 0.1, num_threads=2).compute(scheduler="sync")
        assert seen == [2] * 8
    finally:
        _partials.w_compact_curvature_interferometer_from = original
    assert swiftw.get_num_threads() == 2


def _wait_until_no_chunk_runs(client):
    """A failed computation's other chunks may still run on a worker after the client has raised
    (Dask does not stop a running task); wait for them, so that they do not hold the setting."""
    deadline = time.monotonic() + 60
    while any(client.run(_partials.chunks_running).values()):
        assert time.monotonic() < deadline, "chunks of an earlier test still run after 60 s"
        time.sleep(0.05)


def test_workers_are_left_as_they_were(client):
    _wait_until_no_chunk_runs(client)
    before = client.run(swiftw.get_num_threads)
    noise = da.from_array(np.full(4000, 1.5), chunks=1000)
    uv = da.from_array(np.linspace(-1e5, 1e5, 8000).reshape(4000, 2), chunks=(1000, 2))
    client.compute(sd.w_compact_curvature_interferometer_from(8, noise, uv, 0.1)).result()
    _wait_until_no_chunk_runs(client)
    assert client.run(swiftw.get_num_threads) == before


def test_missing_dask_says_how_to_install(monkeypatch):
    for name in [m for m in sys.modules if m == "dask" or m.startswith("dask.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.delitem(sys.modules, "swiftw.dask")
    with pytest.raises(ImportError, match=r'pip install "swiftw\[dask\]"'):
        import swiftw.dask  # noqa: F401
    monkeypatch.undo()
    assert sys.modules["swiftw.dask"] is sd
