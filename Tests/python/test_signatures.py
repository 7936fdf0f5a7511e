"""The signature harness (SPEC 3.7): every drop-in called the way the study's own pytest harness
calls a kernel module.

For each drop-in of `swiftw` and `swiftw.autoarray`: `inspect.signature` gives exactly the
parameters of the function it replaces (names, order, kinds; no extra options), the same as the
Numba peer module (`bench.peers.numba_kernels`, which mirrors the study's module) where that has
the function; then inputs are built by parameter name, the function is called with them by name,
and the numbers are checked against the NumPy reference (`bench.reference`, and
`bench.reference.autoarray` for the production signatures).
"""

import inspect

import numpy as np
import pytest

from bench import reference as ref
from bench.peers import numba_kernels
import swiftw
import swiftw.autoarray as aa
from conftest import AA_PARAMS, SPEC_PARAMS, make_problem, valid_kwargs

NAT = "native_index_for_slim_index"
SETTINGS = {"set_num_threads", "get_num_threads", "set_options", "get_options", "options", "show_config"}
OWN_OBJECTS = {"CurvatureOperator"}
# swiftw's own functions (no reference to replace), so explicit keyword options are allowed.
OWN_FUNCTIONS = {"dirty_image_interferometer_from"}
# The 2026 extent-grid API keeps PyAutoArray's keyword-only options; test_extent.py checks its signatures.
EXTENT_API = {"nufft_precision_operator_from", "kernel_inputs_from", "curvature_direct_conv",
              "InterferometerSparseOperator"}
SPECIAL = {"fma": ["out", "weights", "*arrays"], "_fma": ["out", "weights", "*arrays"],
           "inplace_weighted_sum": ["out", "weights", "*arrays"], "w_mm": ["n_k", "u_k_vec", "g_m_vec"]}


def _parameters(fn) -> list[str]:
    """Parameter names in order, a `*args` written as "*args"; fails on keyword-only or **kwargs."""
    names = []
    for q in inspect.signature(fn).parameters.values():
        assert q.kind in (q.POSITIONAL_OR_KEYWORD, q.VAR_POSITIONAL), (
            f"{fn.__module__}.{fn.__name__}: parameter {q.name} is {q.kind.description}; a drop-in takes "
            "exactly the reference's positional-or-keyword parameters")
        names.append("*" + q.name if q.kind == q.VAR_POSITIONAL else q.name)
    return names


def test_every_public_name_is_covered():
    """A new public function must be listed here (as a drop-in with its reference parameters, a
    setting, or one of swiftw's own objects): nothing escapes the harness."""
    covered = set(SPEC_PARAMS) | set(SPECIAL) | SETTINGS | OWN_OBJECTS | OWN_FUNCTIONS
    assert set(swiftw.__all__) <= covered, sorted(set(swiftw.__all__) - covered)
    assert set(aa.__all__) == set(AA_PARAMS) | EXTENT_API, sorted(set(aa.__all__) ^ (set(AA_PARAMS) | EXTENT_API))


@pytest.mark.parametrize("name", sorted(set(SPEC_PARAMS) | set(SPECIAL)))
def test_top_level_signature_is_the_reference(name):
    got = _parameters(getattr(swiftw, name))
    assert got == SPECIAL.get(name, SPEC_PARAMS.get(name)), f"swiftw.{name}{inspect.signature(getattr(swiftw, name))}"
    if hasattr(numba_kernels, name):
        assert got == _parameters(getattr(numba_kernels, name)), f"swiftw.{name} differs from the Numba module"


@pytest.mark.parametrize("name", sorted(AA_PARAMS))
def test_autoarray_signature_is_the_reference(name):
    got = _parameters(getattr(aa, name))
    assert got == AA_PARAMS[name], f"swiftw.autoarray.{name}{inspect.signature(getattr(aa, name))}"
    peer = getattr(numba_kernels, "autoarray_" + name, None)
    if peer is not None:
        assert got == _parameters(peer), f"swiftw.autoarray.{name} differs from the Numba module's production loop"


def _scale(name, want, inputs) -> float:
    """What an error is measured against: the largest output entry, or for a log-likelihood the sum
    of the magnitudes of its terms (the answer is their difference)."""
    if name.startswith("log_likelihood"):
        return abs(ref.chi_squared_complex(inputs["data"], inputs["noise_map"])) + abs(
            ref.noise_normalization_complex_from(inputs["noise_map"])) + abs(want)
    return float(np.max(np.abs(np.asarray(want, dtype=np.float64))))


@pytest.mark.parametrize("name", sorted(SPEC_PARAMS))
def test_top_level_called_by_parameter_name(rng, name):
    """The study's harness: read the signature, pass the inputs by name, compare the numbers."""
    p = make_problem(rng, n_grid=int(rng.integers(14, 20)), k=int(rng.integers(200, 500)))
    inputs = valid_kwargs(name, p)
    fn = getattr(swiftw, name)
    got = fn(**{q: inputs[q] for q in inspect.signature(fn).parameters})
    want = getattr(ref, name)(**inputs)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol=0,
                               atol=1e-9 * _scale(name, want, inputs), err_msg=name)


def _autoarray_inputs(rng, p) -> dict:
    """Valid arguments of every `swiftw.autoarray` function, by parameter name, from problem p: one
    sub-pixel per image pixel with random fractions, so that one mapping serves every function."""
    sub = ref.draw_sub_mapping(rng, p.M, p.S, p.B, sub_sizes=(1,), fraction="random")
    y0 = p.grid[0, 0] + p.d * p.native[0, 0]
    x0 = p.grid[0, 1] - p.d * p.native[0, 1]
    preload = ref.w_tilde_preload_from(p.N, p.sigma, p.uv, p.pixel_scale)
    t = ref.autoarray.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, p.S, p.M, sub.slim,
                                          sub.sub_fraction)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    sizes = p.neighbors_sizes
    h = ref.autoarray.constant_regularization_matrix_from(1.0, p.neighbors, sizes)
    inputs = dict(valid_kwargs("log_likelihood_function_via_w_compact_from", p))
    inputs.update(
        visibilities_real=p.visibilities_real, noise_map_real=p.sigma, uv_wavelengths=p.uv, grid_radians_slim=p.grid,
        shape_masked_pixels_2d=(p.N, p.N), grid_radians_2d=ref.grid_radians_2d_from((p.N, p.N), y0, x0, p.d, p.d),
        w_tilde_preload=preload, curvature_preload=preload,
        pix_indexes_for_sub_slim_index=sub.pix_indexes, pix_size_for_sub_slim_index=sub.pix_size,
        pix_weights_for_sub_slim_index=sub.pix_weights, slim_index_for_sub_slim_index=sub.slim,
        sub_fraction=sub.sub_fraction, pixels=p.S, pix_pixels=p.S, total_mask_pixels=p.M,
        mapping_matrix=t, w_tilde=w, coefficient=1.3, data_vector=p.dirty_image @ t,
        curvature_reg_matrix=t.T @ w @ t + h,
        shape_native=(p.N, p.N + 3), pixel_scales=(p.pixel_scale, 1.1 * p.pixel_scale), centre=(0.1, -0.2),
        radius=0.4 * p.N * p.pixel_scale,
    )
    return inputs


@pytest.mark.parametrize("name", sorted(AA_PARAMS))
def test_autoarray_called_by_parameter_name(rng, name):
    p = make_problem(rng, n_grid=int(rng.integers(10, 14)), k=int(rng.integers(200, 400)))
    inputs = _autoarray_inputs(rng, p)
    fn = getattr(aa, name)
    args = {q: inputs[q] for q in inspect.signature(fn).parameters}
    got = fn(**args)
    want = getattr(ref.autoarray, name)(**args)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol=0,
                               atol=1e-9 * _scale(name, want, inputs), err_msg=name)

