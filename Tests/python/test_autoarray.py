"""SPEC 3.7: `swiftw.autoarray`, the production library's signatures, against NumPy references
written from the SPEC's formulas (`autoarray_reference.py`, `reference.py`).

Covered: the (2Ny, 2Nx) preload layout (square and rectangular boxes, unequal spacings, a
`grid_radians_2d` larger than the box, an offset mask), W via the preload against the direct W,
the sub-pixel mapping matrix (several sub-pixels per image pixel with `sub_fraction`,
`pix_size < B`, padding that must never be read), F via the preload, the regularisation matrix
whose rows end at `neighbors_sizes`, both log-likelihoods against SPEC 3.6 computed densely, the
dirty-image weights with the extra argument, and the functions shared with the top level.
"""

import numpy as np
import pytest

from bench import reference as ref
import swiftw
import swiftw.autoarray as aa
from conftest import assert_close, draw_uv, make_problem, random_preload

PRELOAD_REL = 1e-10  # of sum(c): angle addition is exact to rounding (the top level's w_compact bound)


def _grid_2d(p, extra=(0, 0)):
    """The full native grid of problem p (plus `extra` rows / columns), consistent with p.grid."""
    y0 = p.grid[0, 0] + p.d * p.native[0, 0]
    x0 = p.grid[0, 1] - p.d * p.native[0, 1]
    return ref.grid_radians_2d_from((p.N + extra[0], p.N + extra[1]), y0, x0, p.d, p.d)


CURVATURE_METHODS = [None, "direct", "fft", "auto"]  # None: the option in force (the default)


# ---------------------------------------------------------------------------------------------
# the preload layout
# ---------------------------------------------------------------------------------------------


def test_reference_preload_literal_matches_formula(rng):
    """The two references agree (PyAutoArray's grid-difference loops vs the SPEC 3.3 formula),
    on a rectangular box with unequal spacings."""
    ny, nx = int(rng.integers(3, 9)), int(rng.integers(3, 9))
    sy, sx = (ref.arcsec_to_radians(float(rng.uniform(0.05, 0.2))) for _ in range(2))
    k = int(rng.integers(50, 200))
    sigma = rng.uniform(0.5, 2.0, k)
    uv = draw_uv(rng, k, max(ny, nx), 0.1)
    grid = ref.grid_radians_2d_from((ny, nx), sy * rng.uniform(-5, 5), sx * rng.uniform(-5, 5), sy, sx)
    lit = ref.autoarray.w_tilde_curvature_preload_interferometer_from(sigma, uv, (ny, nx), grid)
    spec = ref.w_tilde_preload_of_box(sigma, uv, ny, nx, sy, sx)
    assert_close(lit, spec, scale=np.sum(sigma**-2.0), rel=1e-12, what="literal vs formula")


@pytest.mark.parametrize("mode", ["positional", "keyword"])
def test_preload_square_matches_spec_formula(rng, mode):
    p = make_problem(rng)
    g2 = _grid_2d(p)
    args = dict(noise_map_real=p.sigma, uv_wavelengths=p.uv, shape_masked_pixels_2d=(p.N, p.N), grid_radians_2d=g2)
    if mode == "positional":
        got = aa.w_tilde_curvature_preload_interferometer_from(*args.values())
    else:
        got = aa.w_tilde_curvature_preload_interferometer_from(**dict(reversed(list(args.items()))))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (2 * p.N, 2 * p.N)
    want = ref.w_tilde_preload_from(p.N, p.sigma, p.uv, p.pixel_scale)
    assert_close(got, want, scale=p.sum_c, rel=PRELOAD_REL, what="preload vs SPEC 3.3")
    lit = ref.autoarray.w_tilde_curvature_preload_interferometer_from(p.sigma, p.uv, (p.N, p.N), g2)
    assert_close(got, lit, scale=p.sum_c, rel=PRELOAD_REL, what="preload vs PyAutoArray's loops")
    assert np.all(got[p.N, :] == 0.0) and np.all(got[:, p.N] == 0.0), "row N and column N must be zero"
    assert got[0, 0] == pytest.approx(p.sum_c, rel=1e-12), "preload[0, 0] = sum(c)"


def test_preload_rectangular_unequal_spacing_larger_grid(rng):
    """Ny != Nx, sy != sx, and a grid_radians_2d larger than the box (only its [:Ny, :Nx] counts)."""
    ny, nx = int(rng.integers(6, 20)), int(rng.integers(6, 20))
    while nx == ny:
        nx = int(rng.integers(6, 20))
    ps_y, ps_x = float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.05, 0.2))
    sy, sx = ref.arcsec_to_radians(ps_y), ref.arcsec_to_radians(ps_x)
    k = int(rng.integers(300, 1000))
    sigma = rng.uniform(0.5, 2.0, k) * 10 ** rng.uniform(-1, 1)
    uv = draw_uv(rng, k, max(ny, nx), min(ps_y, ps_x))
    grid = ref.grid_radians_2d_from((ny + int(rng.integers(0, 5)), nx + int(rng.integers(0, 5))),
                                     sy * rng.uniform(-10, 10), sx * rng.uniform(-10, 10), sy, sx)
    got = aa.w_tilde_curvature_preload_interferometer_from(sigma, uv, (ny, nx), grid)
    assert got.shape == (2 * ny, 2 * nx)
    sum_c = float(np.sum(sigma**-2.0))
    want = ref.w_tilde_preload_of_box(sigma, uv, ny, nx, sy, sx)
    assert_close(got, want, scale=sum_c, rel=PRELOAD_REL, what="rectangular preload vs formula")
    lit = ref.autoarray.w_tilde_curvature_preload_interferometer_from(sigma, uv, (ny, nx), grid)
    assert_close(got, lit, scale=sum_c, rel=PRELOAD_REL, what="rectangular preload vs PyAutoArray's loops")
    # the symmetry of a true preload: P[-a, -b] = P[a, b] (indices mod 2Ny, 2Nx)
    neg_r = (-np.arange(2 * ny)) % (2 * ny)
    neg_c = (-np.arange(2 * nx)) % (2 * nx)
    assert_close(got, got[np.ix_(neg_r, neg_c)], scale=sum_c, rel=PRELOAD_REL, what="preload evenness")


def test_preload_refuses_irregular_grid(rng):
    p = make_problem(rng, n_grid=12, k=100)
    g2 = _grid_2d(p)
    g2[3, 4, 1] += 0.3 * p.d
    with pytest.raises(ValueError, match="grid_radians_2d"):
        aa.w_tilde_curvature_preload_interferometer_from(p.sigma, p.uv, (p.N, p.N), g2)


def test_w_tilde_via_preload_of_offset_mask_equals_direct_w(rng):
    """Production layout: a mask in the middle of a larger native grid; the preload sized by the
    mask's bounding box; native indices absolute. W via the preload equals the direct W."""
    big = int(rng.integers(50, 80))
    ps = float(rng.uniform(0.05, 0.2))
    d = ref.arcsec_to_radians(ps)
    radius = ps * float(rng.uniform(5.0, 9.0))
    centre = tuple(rng.uniform(-8, 8, 2) * ps)
    mask = ref.mask_2d_circular_from((big, big), (ps, ps), radius, centre)
    native = np.ascontiguousarray(np.argwhere(~mask).astype(np.int64))
    box = ref.box_of(native)
    k = int(rng.integers(300, 900))
    sigma = rng.uniform(0.5, 2.0, k)
    uv = draw_uv(rng, k, max(box), ps)
    y0, x0 = d * rng.uniform(10, 40), -d * rng.uniform(10, 40)
    grid_2d = ref.grid_radians_2d_from((big, big), y0, x0, d, d)
    grid_slim = np.ascontiguousarray(grid_2d[native[:, 0], native[:, 1]])
    pre = aa.w_tilde_curvature_preload_interferometer_from(sigma, uv, box, grid_2d)
    assert pre.shape == (2 * box[0], 2 * box[1])
    got = aa.w_tilde_via_preload_from(pre, native)
    sum_c = float(np.sum(sigma**-2.0))
    np.testing.assert_array_equal(got, ref.w_tilde_via_preload_from(pre, native))
    want = ref.w_tilde_curvature_interferometer_from(sigma, uv, grid_slim)
    assert_close(got, want, scale=sum_c, rel=PRELOAD_REL, what="W via preload vs direct W")
    assert_close(aa.w_tilde_curvature_interferometer_from(sigma, uv, grid_slim), want, scale=sum_c, rel=1e-10,
                 what="autoarray w_tilde_curvature_interferometer_from")


# ---------------------------------------------------------------------------------------------
# the sub-pixel mapping matrix
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sub_sizes,shuffle,padding,fraction", [
    ((1,), False, "minus_one", "uniform"),
    ((2,), False, "minus_one", "uniform"),
    ((1, 2, 3), False, "minus_one", "uniform"),
    ((1, 2, 4), True, "minus_one", "random"),
    ((2, 3), True, "garbage", "random"),
])
def test_mapping_matrix_from_sub_pixels(rng, sub_sizes, shuffle, padding, fraction):
    m, s, b = int(rng.integers(100, 400)), int(rng.integers(30, 150)), int(rng.integers(3, 6))
    sub = ref.draw_sub_mapping(rng, m, s, b, sub_sizes=sub_sizes, shuffle=shuffle, padding=padding,
                                fraction=fraction)
    assert np.any(sub.pix_size < b) and sub.Q >= m, "test bug: want ragged rows and sub-pixels"
    got = aa.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, s, m, sub.slim, sub.sub_fraction)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (m, s)
    want = ref.autoarray.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, s, m, sub.slim, sub.sub_fraction)
    assert_close(got, want, scale=np.max(np.abs(want)), rel=1e-14, what="sub-pixel mapping matrix")
    if fraction == "uniform":
        # PyAutoArray's sub_fraction: each image pixel's row sums to the mean of its sub-pixels' sums
        np.testing.assert_array_less(0.0, got.sum(axis=1))


def test_mapping_matrix_keyword_call_and_unmapped_pixels(rng):
    """Image pixels with no sub-pixel give zero rows; source pixels beyond those used, zero columns."""
    m, s, b = int(rng.integers(50, 120)), int(rng.integers(20, 60)), 4
    sub = ref.draw_sub_mapping(rng, m, s, b, sub_sizes=(1, 2))
    keep = sub.slim % 3 != 0  # drop every sub-pixel of image pixels 0, 3, 6, ...
    idx, size, wts, slim = sub.pix_indexes[keep], sub.pix_size[keep], sub.pix_weights[keep], sub.slim[keep]
    extra = int(rng.integers(1, 20))
    got = aa.mapping_matrix_from(sub_fraction=sub.sub_fraction, slim_index_for_sub_slim_index=slim,
                                 total_mask_pixels=m, pixels=s + extra, pix_weights_for_sub_slim_index=wts,
                                 pix_size_for_sub_slim_index=size, pix_indexes_for_sub_slim_index=idx)
    want = ref.autoarray.mapping_matrix_from(idx, size, wts, s + extra, m, slim, sub.sub_fraction)
    assert_close(got, want, scale=np.max(np.abs(want)), rel=1e-14, what="mapping matrix")
    assert np.all(got[::3] == 0.0) and np.all(got[:, s:] == 0.0)


def test_mapping_matrix_pix_size_beyond_width_refused(rng):
    m, s, b = 30, 20, 3
    sub = ref.draw_sub_mapping(rng, m, s, b, sub_sizes=(1,))
    size = sub.pix_size.copy()
    size[int(rng.integers(0, sub.Q))] = b + 1
    with pytest.raises((IndexError, ValueError), match="pix_size_for_sub_slim_index"):
        aa.mapping_matrix_from(sub.pix_indexes, size, sub.pix_weights, s, m, sub.slim, sub.sub_fraction)


def test_mapping_matrix_slim_index_outside_refused(rng):
    m, s, b = 30, 20, 3
    sub = ref.draw_sub_mapping(rng, m, s, b, sub_sizes=(1, 2))
    slim = sub.slim.copy()
    slim[int(rng.integers(0, sub.Q))] = m
    with pytest.raises(IndexError, match="slim_index_for_sub_slim_index"):
        aa.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, s, m, slim, sub.sub_fraction)


# ---------------------------------------------------------------------------------------------
# curvature via the preload
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", CURVATURE_METHODS)
@pytest.mark.parametrize("padding", ["minus_one", "garbage"])
def test_curvature_via_preload_physical(rng, method, padding):
    p = make_problem(rng)
    box = ref.box_of(p.native)
    pre = aa.w_tilde_curvature_preload_interferometer_from(p.sigma, p.uv, box, _grid_2d(p))
    idx, size, wts = ref.draw_image_mapping(rng, p.M, p.S, p.B, padding=padding)
    with swiftw.options(**({} if method is None else {"curvature": method})):
        got = aa.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(pre, idx, size, wts, p.native, p.S)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (p.S, p.S)
    want = ref.autoarray.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(pre, idx, size, wts, p.native, p.S)
    assert_close(got, want, scale=np.max(np.abs(want)), rel=1e-10, what=f"F via preload ({method})")
    # and F is the curvature of the direct W
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    t = ref.mapping_matrix_per_image_pixel(idx, size, wts, p.S)
    assert_close(got, t.T @ w @ t, scale=np.max(np.abs(want)), rel=1e-9, what="F via preload vs T^T W T (direct W)")


@pytest.mark.parametrize("method", CURVATURE_METHODS)
def test_curvature_via_preload_random_preload(rng, method):
    """A random preload with a true one's symmetry: every entry of the layout is read correctly."""
    p = make_problem(rng)
    n = max(ref.box_of(p.native))
    pre = random_preload(rng, n)
    idx, size, wts = ref.draw_image_mapping(rng, p.M, p.S, p.B)
    with swiftw.options(**({} if method is None else {"curvature": method})):
        got = aa.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
            curvature_preload=pre, pix_indexes_for_sub_slim_index=idx, pix_size_for_sub_slim_index=size,
            pix_weights_for_sub_slim_index=wts, native_index_for_slim_index=p.native, pix_pixels=p.S)
    want = ref.autoarray.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(pre, idx, size, wts, p.native, p.S)
    assert_close(got, want, scale=np.max(np.abs(want)), rel=1e-10, what=f"F via random preload ({method})")


def test_curvature_via_preload_agrees_with_top_level_compact(rng):
    """With full rows (pix_size = first -1), the autoarray route and the top-level compact route
    give the same F."""
    p = make_problem(rng)
    sizes = np.argmax(np.concatenate([p.idx, -np.ones((p.M, 1), np.int64)], axis=1) == -1, axis=1).astype(np.int64)
    pre = ref.w_tilde_preload_from(p.N, p.sigma, p.uv, p.pixel_scale)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    got = aa.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(pre, p.idx, sizes, p.wts, p.native, p.S)
    top = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    assert_close(got, top, scale=np.max(np.abs(top)), rel=1e-10, what="autoarray vs top-level F")


# ---------------------------------------------------------------------------------------------
# regularisation: rows end at neighbors_sizes
# ---------------------------------------------------------------------------------------------


def test_regularization_rows_end_at_sizes(rng):
    p = make_problem(rng)
    nb = ref.pad_neighbors_beyond_sizes(rng, p.neighbors, p.neighbors_sizes)
    coefficient = float(10 ** rng.uniform(-1, 1))
    got = aa.constant_regularization_matrix_from(coefficient, nb, p.neighbors_sizes)
    want = ref.autoarray.constant_regularization_matrix_from(coefficient, nb, p.neighbors_sizes)
    scale = coefficient**2 * float(p.neighbors_sizes.max())
    assert_close(got, want, scale=scale, rel=1e-14, what="H (rows end at sizes)")
    # the input has teeth: reading past the size (to the first -1) would give another matrix
    past = ref.constant_regularization_matrix_from(coefficient, nb, np.full(p.S, nb.shape[1]))
    assert np.max(np.abs(past - want)) > 0.5 * coefficient**2
    # the same graph as the top level's when rows are -1 terminated
    assert_close(got, swiftw.constant_regularization_matrix_from(coefficient, p.neighbors, p.neighbors_sizes),
                 scale=scale, rel=1e-14, what="autoarray H vs top-level H on the same graph")


def test_regularization_truncated_rows(rng):
    """neighbors_sizes shorter than the valid entries: only the first sizes[i] count."""
    p = make_problem(rng)
    sizes = np.maximum(p.neighbors_sizes - rng.integers(0, 3, size=p.S), 0).astype(np.int64)
    got = aa.constant_regularization_matrix_from(1.0, p.neighbors, sizes)
    want = ref.autoarray.constant_regularization_matrix_from(1.0, p.neighbors, sizes)
    assert_close(got, want, scale=float(p.neighbors_sizes.max()), rel=1e-14, what="H (truncated rows)")


def test_regularization_size_beyond_row_refused(rng):
    p = make_problem(rng)
    sizes = p.neighbors_sizes.copy()
    sizes[int(rng.integers(0, p.S))] = p.neighbors.shape[1] + 1
    with pytest.raises((IndexError, ValueError), match="neighbors"):
        aa.constant_regularization_matrix_from(1.0, p.neighbors, sizes)


# ---------------------------------------------------------------------------------------------
# log-likelihoods
# ---------------------------------------------------------------------------------------------


def _likelihood_problem(rng):
    p = make_problem(rng)
    sub = ref.draw_sub_mapping(rng, p.M, p.S, p.B, sub_sizes=(1, 2, 3), shuffle=bool(rng.integers(0, 2)),
                                padding=str(rng.choice(["minus_one", "garbage"])),
                                fraction=str(rng.choice(["uniform", "random"])))
    nb = ref.pad_neighbors_beyond_sizes(rng, p.neighbors, p.neighbors_sizes)
    return p, sub, nb


def _tolerance(terms):
    magnitude = sum(abs(v) for key, v in terms.items() if key != "cond_a")
    return 1e-9 * magnitude + 1e-14 * terms["cond_a"] * abs(terms["s_dot_d"])


def test_log_likelihood_via_w_tilde(rng):
    p, sub, nb = _likelihood_problem(rng)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    got = aa.log_likelihood_function_via_w_tilde_from(p.dirty_image, p.data, p.noise_map, w, sub.pix_indexes,
                                                      sub.pix_size, sub.pix_weights, sub.slim, sub.sub_fraction, nb,
                                                      p.neighbors_sizes)
    assert isinstance(got, float)
    t = ref.autoarray.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, p.S, p.M, sub.slim,
                                 sub.sub_fraction)
    terms = ref.log_likelihood_terms(p.dirty_image, p.data, p.noise_map, t.T @ w @ t, t, nb, p.neighbors_sizes,
                                     rows_end_at_sizes=True)
    want = ref.log_likelihood_from_terms(terms)
    tol = _tolerance(terms)
    assert abs(got - want) <= tol, f"log L {got!r} vs {want!r}: |diff| {abs(got - want):.3e} > {tol:.3e}; {terms}"


def test_log_likelihood_via_w_compact_preload(rng):
    p, sub, nb = _likelihood_problem(rng)
    box = ref.box_of(p.native)
    pre = aa.w_tilde_curvature_preload_interferometer_from(p.sigma, p.uv, box, _grid_2d(p))
    got = aa.log_likelihood_function_via_w_compact_from(
        native_index_for_slim_index=p.native, neighbors_sizes=p.neighbors_sizes, neighbors=nb,
        sub_fraction=sub.sub_fraction, slim_index_for_sub_slim_index=sub.slim,
        pix_weights_for_sub_slim_index=sub.pix_weights, pix_size_for_sub_slim_index=sub.pix_size,
        pix_indexes_for_sub_slim_index=sub.pix_indexes, w_tilde_preload=pre, noise_map=p.noise_map, data=p.data,
        dirty_image=p.dirty_image)
    assert isinstance(got, float)
    w = ref.w_tilde_via_preload_from(pre, p.native)
    t = ref.autoarray.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, p.S, p.M, sub.slim,
                                 sub.sub_fraction)
    terms = ref.log_likelihood_terms(p.dirty_image, p.data, p.noise_map, t.T @ w @ t, t, nb, p.neighbors_sizes,
                                     rows_end_at_sizes=True)
    want = ref.log_likelihood_from_terms(terms)
    tol = _tolerance(terms)
    assert abs(got - want) <= tol, f"log L {got!r} vs {want!r}: |diff| {abs(got - want):.3e} > {tol:.3e}; {terms}"
    # the two autoarray routes agree (W from the preload is the direct W to rounding)
    w_direct = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    via_w = aa.log_likelihood_function_via_w_tilde_from(p.dirty_image, p.data, p.noise_map, w_direct, sub.pix_indexes,
                                                        sub.pix_size, sub.pix_weights, sub.slim, sub.sub_fraction, nb,
                                                        p.neighbors_sizes)
    assert abs(got - via_w) <= 10 * tol


def test_log_likelihood_matches_top_level_without_sub_pixels(rng):
    """One sub-pixel per image pixel with fraction 1 and -1 terminated rows: the autoarray
    likelihood equals the top-level one (SPEC 3.6 is the same formula)."""
    p = make_problem(rng)
    sizes = np.argmax(np.concatenate([p.idx, -np.ones((p.M, 1), np.int64)], axis=1) == -1, axis=1).astype(np.int64)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    top = swiftw.log_likelihood_function_via_w_tilde_from(p.dirty_image, p.data, p.noise_map, w, p.idx, p.wts,
                                                          p.neighbors, p.neighbors_sizes)
    got = aa.log_likelihood_function_via_w_tilde_from(p.dirty_image, p.data, p.noise_map, w, p.idx, sizes, p.wts,
                                                      np.arange(p.M), np.ones(p.M), p.neighbors, p.neighbors_sizes)
    assert got == pytest.approx(top, rel=1e-10, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# dirty-image weights and the shared functions
# ---------------------------------------------------------------------------------------------


def test_w_tilde_data_with_native_index(rng):
    p = make_problem(rng)
    got = aa.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid, p.native)
    want = ref.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid)
    scale = float(np.sum(ref.w_tilde_data_weights(p.visibilities_real, p.sigma)))
    assert_close(got, want, scale=scale, rel=1e-10, what="autoarray w_tilde_data")
    with pytest.raises(ValueError, match="native_index_for_slim_index"):
        aa.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid, p.native[:-1])


def test_shared_functions_against_references(rng):
    p = make_problem(rng)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    dv = ref.data_vector_from(t, p.dirty_image)
    assert_close(aa.data_vector_from(t, p.dirty_image), dv, scale=np.max(np.abs(p.dirty_image) @ t), rel=1e-12,
                 what="data_vector_from")
    f = ref.curvature_matrix_via_w_tilde_from(w, t)
    assert_close(aa.curvature_matrix_via_w_tilde_from(w, t), f, scale=np.max(np.abs(f)), rel=1e-10,
                 what="curvature_matrix_via_w_tilde_from")
    a = f + ref.constant_regularization_matrix_from(1.0, p.neighbors, p.neighbors_sizes)
    s = aa.reconstruction_positive_negative_from(dv, a)
    assert_close(a @ s, dv, scale=np.max(np.abs(dv)) + np.max(np.abs(a)) * np.max(np.abs(s)), rel=1e-8,
                 what="reconstruction residual")
    assert aa.noise_normalization_complex_from(p.noise_map) == pytest.approx(
        ref.noise_normalization_complex_from(p.noise_map), rel=1e-12)
    shape, scales, centre = (p.N, p.N + 3), (p.pixel_scale, 1.1 * p.pixel_scale), (0.1, -0.2)
    assert aa.mask_2d_centres_from(shape, scales, centre) == pytest.approx(ref.mask_2d_centres_from(shape, scales, centre))
    radius = 0.4 * p.N * p.pixel_scale
    np.testing.assert_array_equal(aa.mask_2d_circular_from(shape, scales, radius, centre),
                                  ref.mask_2d_circular_from(shape, scales, radius, centre))
