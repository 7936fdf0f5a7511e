"""Faults from input (issue 5): property-based fuzzing of every public function of `swiftw` and
`swiftw.autoarray`, in this process.

Each example starts from a small valid call (so that most arguments pass validation and the
fault reaches deep into the bridge and the kernels) and corrupts one to three of its arguments:
another dtype (float16/32/64, int8..int64, uint8..uint64, bool, complex, object, strings,
bytes, datetime), another shape (empty, 0-length dimensions, extra or missing dimensions, 0-d),
a non-contiguous or Fortran-ordered view, special values (NaN, +-inf, 2**62, -2**63, 2**63-1,
-1, 1e308, denormals), or something that is not an array at all (None, str, ragged lists, huge
Python ints, complex, objects). The keyword-only options are corrupted too.

The only outcomes allowed are a normal return or TypeError, ValueError, IndexError, MemoryError
or OverflowError. Anything else fails the example; a crash (segfault, Swift fatal error) kills
the test process, which fails the run. The address space of this process is capped for the
module (RLIMIT_AS), so a size that slips past the MemoryError guards fails as an allocation
failure instead of exhausting the machine.

NaN and inf in float inputs propagate as the formula would (SPEC 3.2, 3.3, 3.5): the NaN mask of
the result equals the NaN mask of the literal formula evaluated in NumPy (w_tilde, w_compact by
both methods, the preload layout, F from W / from w_compact as a sum over the mapping entries).

Hypothesis: deadline=None, a modest number of examples, print_blob=True (a failure prints the
`@reproduce_failure` blob). The valid base problem is drawn from a seeded generator whose seed is
printed (SWIFTW_TEST_SEED fixes it).
"""

import inspect
import os
import resource
import secrets
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import reference as ref
import swiftw
import swiftw.autoarray as aa
from conftest import draw_mappings, draw_neighbors, draw_uv

ALLOWED = (TypeError, ValueError, IndexError, MemoryError, OverflowError)

FUZZ = settings(max_examples=40, deadline=None, print_blob=True, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
PROPAGATION = settings(max_examples=30, deadline=None, print_blob=True, derandomize=False,
                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ADDRESS_SPACE_LIMIT = 12 << 30


# ---------------------------------------------------------------------------------------------
# fixtures: the valid base problem, and a capped address space
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def capped_address_space():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = ADDRESS_SPACE_LIMIT if hard == resource.RLIM_INFINITY else min(hard, ADDRESS_SPACE_LIMIT)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    before = swiftw.get_num_threads()
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    swiftw.set_num_threads(before)


@pytest.fixture(scope="module")
def bases():
    seed = int(os.environ.get("SWIFTW_TEST_SEED") or secrets.randbits(63))
    print(f"[swiftw-tests] test_fuzz base problem: rng seed {seed} (reproduce with SWIFTW_TEST_SEED={seed})")
    return {"small": _base_problem(np.random.default_rng(seed)), "empty": _degenerate_problem(0),
            "one": _degenerate_problem(1)}


@pytest.fixture(scope="module")
def base(bases):
    return bases["small"]


def _degenerate_problem(size):
    """A consistent problem with M = K = S = `size` (0: every array empty) and N = 1."""
    n, m, k, s, b = 1, size, size, size, 3
    idx = np.full((m, b), -1, dtype=np.int64)
    idx[:, 0] = 0
    wts = np.ones((m, b))
    nb = np.full((s, 2), -1, dtype=np.int64)
    pre = np.zeros((2, 2))
    pre[0, 0] = float(k)
    values = dict(
        noise_map_real=np.ones(k), uv_wavelengths=np.zeros((k, 2)), grid_radians_slim=np.zeros((m, 2)), grid_size=n,
        pixel_scale=0.1, w_compact=np.full((1, 1), float(k)), native_index_for_slim_index=np.zeros((m, 2), np.int64),
        w_tilde_preload=pre, curvature_preload=pre, visibilities_real=np.ones(k), pix_indexes_for_sub_slim_index=idx,
        pix_weights_for_sub_slim_index=wts, pix_size_for_sub_slim_index=np.ones(m, np.int64),
        slim_index_for_sub_slim_index=np.zeros(m, np.int64), sub_fraction=np.ones(m), total_mask_pixels=m, pixels=s,
        pix_pixels=s, mapping_matrix=np.ones((m, s)), dirty_image=np.ones(m), w_tilde=np.full((m, m), float(k)),
        matrix=np.full((m, m), float(k)), coefficient=1.0, neighbors=nb, neighbors_sizes=np.zeros(s, np.int64),
        data_vector=np.ones(s), curvature_reg_matrix=np.eye(s), noise_map=np.ones(k) * (1 + 1j),
        data=np.ones(k) * (1 + 1j), visibilities=np.ones(k) * (1 - 1j), shape_native=(n, n), pixel_scales=(0.1, 0.1), centre=(0.0, 0.0), radius=0.1,
        shape_masked_pixels_2d=(n, n), grid_radians_2d=np.zeros((n, n, 2)), n_k=np.ones(k),
        u_k_vec=np.zeros((k, 2)), g_m_vec=np.zeros((m, 2)),
    )
    values["fma"] = (np.zeros(size), [0.5], np.ones(size))
    values.update(_extent_values(values["native_index_for_slim_index"], idx, wts, values["pix_size_for_sub_slim_index"],
                                 s, pre))
    return values


def _extent_values(native, idx, wts, sizes, s, preload):
    """The extent-grid arguments (SPEC 3.9) of a mapping, in NumPy: extent cells of the masked
    pixels, T as CSR and CSC, and the precision operator `preload` of the extent."""
    m = native.shape[0]
    low = native.min(axis=0) if m else np.zeros(2, np.int64)
    iy, ix = np.ascontiguousarray((native - low).T)
    ny, nx = preload.shape[0] // 2, preload.shape[1] // 2
    rows, cols, vals = [], [], []
    for i in range(m):
        for b in range(int(sizes[i])):
            rows.append(i)
            cols.append(int(idx[i, b]))
            vals.append(float(wts[i, b]))
    rows, cols, vals = np.array(rows, np.int64), np.array(cols, np.int64), np.array(vals)
    by_column = np.lexsort((rows, cols))
    flat = np.ascontiguousarray(iy * nx + ix)
    return dict(preload=preload, nufft_precision_operator=preload, iy=iy, ix=ix, flat=flat,
                indptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), col=cols, val=vals,
                cscptr=np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=s))]).astype(np.int64),
                csc_row=rows[by_column], csc_val=vals[by_column], ny=ny, nx=nx, pix_sizes_for_sub_slim_index=sizes,
                extent_index_for_masked_pixel=flat, extent_shape=(ny, nx))


def _base_problem(rng):
    """A tiny valid problem, as a table of valid values by parameter name."""
    n = 7
    ps = 0.1
    d = ref.arcsec_to_radians(ps)
    mask = ref.mask_2d_circular_from((n, n), (ps, ps), ps * (n / 2 - 0.5), (0.0, 0.0))
    native = np.ascontiguousarray(np.argwhere(~mask).astype(np.int64))
    m = native.shape[0]
    k, s, b = 16, 9, 3
    grid = np.ascontiguousarray(np.stack([d * (n / 2 - native[:, 0]), d * (native[:, 1] - n / 2)], axis=1))
    grid_2d = ref.grid_radians_2d_from((n, n), d * n / 2, -d * n / 2, d, d)
    uv = draw_uv(rng, k, n, ps)
    sigma = rng.uniform(0.5, 2.0, k)
    idx, wts = draw_mappings(rng, m, s, b)
    sizes = np.argmax(np.concatenate([idx, -np.ones((m, 1), np.int64)], axis=1) == -1, axis=1).astype(np.int64)
    nb, nb_sizes = draw_neighbors(rng, s)
    wc = ref.w_compact_curvature_interferometer_from(n, sigma, uv, ps)
    w = ref.w_tilde_via_compact_from(wc, native)
    pre = ref.w_tilde_preload_from(n, sigma, uv, ps)
    t = ref.mapping_matrix_from(idx, wts, s)
    a = t.T @ w @ t + ref.constant_regularization_matrix_from(1.0, nb, nb_sizes)
    noise_map = rng.uniform(0.5, 2.0, k) + 1j * rng.uniform(0.5, 2.0, k)
    values = dict(
        noise_map_real=sigma, uv_wavelengths=uv, grid_radians_slim=grid, grid_size=n, pixel_scale=ps,
        w_compact=wc, native_index_for_slim_index=native, w_tilde_preload=pre, curvature_preload=pre,
        visibilities_real=rng.uniform(0.5, 2.0, k), pix_indexes_for_sub_slim_index=idx,
        pix_weights_for_sub_slim_index=wts, pix_size_for_sub_slim_index=sizes,
        slim_index_for_sub_slim_index=rng.integers(0, m, size=m).astype(np.int64),
        sub_fraction=rng.uniform(0.2, 1.0, size=m), total_mask_pixels=m, pixels=s, pix_pixels=s,
        mapping_matrix=t, dirty_image=rng.normal(size=m), w_tilde=w, matrix=w, coefficient=1.3, neighbors=nb,
        neighbors_sizes=nb_sizes, data_vector=rng.normal(size=s), curvature_reg_matrix=0.5 * (a + a.T),
        noise_map=noise_map, data=noise_map * rng.normal(size=k),
        visibilities=rng.normal(size=k) + 1j * rng.normal(size=k), shape_native=(n, n + 2),
        pixel_scales=(ps, 1.1 * ps), centre=(0.05, -0.1), radius=0.3 * n * ps, shape_masked_pixels_2d=(n, n),
        grid_radians_2d=grid_2d, n_k=sigma, u_k_vec=uv, g_m_vec=grid,
    )
    values["fma"] = (rng.normal(size=40), [0.5, -1.5], rng.normal(size=40), rng.normal(size=40))
    ny, nx = ref.box_of(native)
    extent_preload = ref.w_tilde_preload_of_box(sigma, uv, ny, nx, d, d)
    values.update(_extent_values(native, idx, wts, sizes, s, extent_preload))
    return values


# ---------------------------------------------------------------------------------------------
# the public functions
# ---------------------------------------------------------------------------------------------

FMA_NAMES = {"fma", "_fma", "inplace_weighted_sum"}
THREAD_NAMES = {"set_num_threads", "get_num_threads"}
CONFIG_NAMES = {"show_config"}  # takes no input
OPTION_NAMES = {"set_options", "get_options", "options"}
TOP = sorted(n for n in swiftw.__all__ if n not in THREAD_NAMES | CONFIG_NAMES | OPTION_NAMES)
AUTOARRAY = sorted(aa.__all__)
FUNCTIONS = [("swiftw", n) for n in TOP] + [("swiftw.autoarray", n) for n in AUTOARRAY]


def _function(module, name):
    return getattr(swiftw if module == "swiftw" else aa, name)


def _positional(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _keyword_only(fn):
    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind == p.KEYWORD_ONLY]


def test_every_public_function_is_fuzzed(base):
    """Every parameter of every public function has a valid base value (so new functions or
    parameters are fuzzed, not skipped)."""
    missing = []
    for module, name in FUNCTIONS:
        if name in FMA_NAMES:
            continue
        missing += [f"{module}.{name}({p})" for p in _positional(_function(module, name)) if p not in base]
    assert not missing, f"no base value for: {missing}"


# ---------------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------------

DTYPES = ["float16", "float32", "float64", "longdouble", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "bool", "complex64", "complex128", "object", "U6", "S4", "M8[s]", "m8[s]"]
FLOAT_SPECIALS = [np.nan, np.inf, -np.inf, 2.0**62, -(2.0**63), 1e308, -1e308, 5e-324, -0.0, -1.0, 0.0]
INT_SPECIALS = [2**62, -(2**63), 2**63 - 1, -1, 0, 1, 2**31, -(2**31), 10**12]
COUNTS = [0, 1, 2, 3, 7, -1, -(2**63), 2**31, 2**40, 2**62, 2**63 - 1, 2**64, 10**12, 10**30]


class _Opaque:
    pass


JUNK = [None, "abc", "", b"xy", [], [[1, 2], [3]], {}, (), _Opaque(), 3, -1, 2**70, -(2**70), 2**62,
        float("nan"), float("inf"), 1j, True, np.float64("nan"), np.int64(2**62), np.uint64(2**64 - 1),
        np.array(["ab", "c"]), np.array([None, 1], dtype=object), np.array(3.0), np.zeros((0,)),
        np.zeros((0, 0)), np.zeros((2, 0, 3)), bytearray(16), memoryview(b"abcdefgh"), [1.5, 2.5], [[1, 2], [3, 4]],
        range(5), np.ma.masked_array([1.0, 2.0], mask=[0, 1])]
SCALAR_JUNK = [0, 1, 2, 7, -1, 0.5, 1e-300, float("nan"), float("inf"), -float("inf"), 2**31, 2**62, -(2**63),
               2**64, 10**12, 10**30, 2.0**62, 1e300, np.int64(-(2**63)), np.float32(3), np.bool_(True), None, "3",
               1j, (), (1,), (1, 2, 3), (2**62, 2**62), (0, 0), (-1, 5), (float("nan"), 1.0), ("a", "b"),
               np.array([3]), np.array(2**62)]


def _cast(a, dtype):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            if dtype == "object":
                return a.astype(object)
            if dtype in ("complex64", "complex128"):
                return (a * (1 + 0.5j)).astype(dtype) if a.dtype.kind in "fc" else a.astype(dtype)
            return a.astype(dtype)
        except (TypeError, ValueError, OverflowError):
            return a.astype(object)


@st.composite
def corrupted_array(draw, a):
    a = np.asarray(a)
    how = draw(st.sampled_from(["dtype", "shape", "values", "values", "empty", "view", "junk", "scalar"]))
    if how == "dtype":
        return _cast(a, draw(st.sampled_from(DTYPES)))
    if how == "shape":
        shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=4)))
        flat = a.reshape(-1)
        if flat.size == 0:
            return np.zeros(shape, dtype=a.dtype)
        return np.resize(flat, shape)
    if how == "values":
        out = a.copy()
        if out.size == 0:
            return out
        count = draw(st.integers(1, min(out.size, 4)))
        flat = out.reshape(-1)
        for _ in range(count):
            i = draw(st.integers(0, flat.size - 1))
            if out.dtype.kind == "f":
                flat[i] = draw(st.sampled_from(FLOAT_SPECIALS))
            elif out.dtype.kind == "c":
                flat[i] = complex(draw(st.sampled_from(FLOAT_SPECIALS)), draw(st.sampled_from(FLOAT_SPECIALS)))
            elif out.dtype.kind in "iu":
                v = draw(st.sampled_from(INT_SPECIALS))
                info = np.iinfo(out.dtype)
                flat[i] = min(max(v, info.min), info.max)
        return out
    if how == "empty":
        axis = draw(st.integers(0, max(a.ndim - 1, 0)))
        if a.ndim == 0:
            return np.zeros((0,), dtype=a.dtype)
        return np.take(a, np.arange(0), axis=axis)
    if how == "view":
        kind = draw(st.sampled_from(["strided", "reversed", "fortran", "transposed", "readonly", "0d"]))
        if a.ndim == 0 or kind == "0d":
            return np.asarray(a.reshape(-1)[0] if a.size else 0.0)
        if kind == "strided":
            return np.repeat(a, 2, axis=-1)[..., ::2]
        if kind == "reversed":
            return a[::-1]
        if kind == "fortran":
            return np.asfortranarray(a)
        if kind == "transposed":
            return a.T
        ro = a.copy()
        ro.flags.writeable = False
        return ro
    if how == "junk":
        return draw(st.sampled_from(JUNK))
    return draw(st.sampled_from(SCALAR_JUNK))


@st.composite
def corrupted_value(draw, value):
    if isinstance(value, np.ndarray):
        return draw(corrupted_array(value))
    if isinstance(value, int) and not isinstance(value, bool) and draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(COUNTS))
    if isinstance(value, (list, tuple)) and draw(st.booleans()):
        items = list(value)
        i = draw(st.integers(0, max(len(items) - 1, 0)))
        if items:
            items[i] = draw(st.sampled_from(SCALAR_JUNK))
        return type(value)(items)
    return draw(st.sampled_from(SCALAR_JUNK + JUNK[:12]))


OPTION_JUNK = {
    "method": ["auto", "direct", "nufft", "fft", "lattice", "bogus", "", None, 3, b"direct"],
    "eps": [1e-12, 1e-6, 1e-1, 1e-14, 1e-15, 0.0, -1.0, 1.0, 10.0, float("nan"), float("inf"), 1e-300, "1e-6",
            None, 2**70],
}


def _call(fn, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args, **kwargs)
        except ALLOWED:
            pass


# ---------------------------------------------------------------------------------------------
# the fuzz tests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module,name", FUNCTIONS, ids=[f"{m}.{n}" for m, n in FUNCTIONS])
@FUZZ
@given(data=st.data())
def test_fuzz_public_function(bases, module, name, data):
    """One to three arguments of a valid call (small, all-empty, or all-length-one) corrupted."""
    fn = _function(module, name)
    base = bases[data.draw(st.sampled_from(["small", "small", "empty", "one"]), label="base")]
    if name in FMA_NAMES:
        out, weights, *arrays = base["fma"]
        args = [out.copy(), list(weights), *[x.copy() for x in arrays]]
        k = data.draw(st.integers(1, 3), label="corrupted")
        for _ in range(k):
            i = data.draw(st.integers(0, len(args) - 1), label="position")
            # As it is: arrays stay arrays, and an earlier corruption may be anything (a ragged
            # list would not convert).
            args[i] = data.draw(corrupted_value(args[i]), label=f"arg{i}")
        if data.draw(st.booleans(), label="drop arrays"):
            args = args[:2]
        _call(fn, args, {})
        return
    _fuzz_call(fn, base, data)


def _fuzz_call(fn, base, data):
    """Call fn with its base arguments, one to three of them corrupted, options maybe corrupted."""
    params = [p for p in _positional(fn) if p != "self"]
    args = {p: base[p] for p in params}
    chosen = data.draw(st.lists(st.sampled_from(params), min_size=1, max_size=min(3, len(params)), unique=True),
                       label="corrupted")
    for p in chosen:
        args[p] = data.draw(corrupted_value(args[p]), label=p)
    kwargs = {}
    for option in _keyword_only(fn):
        if option in OPTION_JUNK and data.draw(st.booleans(), label=f"set {option}"):
            kwargs[option] = data.draw(st.sampled_from(OPTION_JUNK[option]), label=option)
    if data.draw(st.booleans(), label="by keyword"):
        _call(fn, [], {**args, **kwargs})
    else:
        _call(fn, [args[p] for p in params], kwargs)


_OPERATORS = {}


@pytest.mark.skipif(not hasattr(swiftw, "CurvatureOperator"), reason="no CurvatureOperator")
@pytest.mark.parametrize("method_name", ["curvature_matrix", "costs", "log_likelihood", "inversion"])
@FUZZ
@given(data=st.data())
def test_fuzz_curvature_operator_methods(bases, method_name, data):
    """The methods of a CurvatureOperator built from a valid (small or length-one) problem."""
    which = data.draw(st.sampled_from(["small", "one"]), label="base")
    base = bases[which]
    if which not in _OPERATORS:
        _OPERATORS[which] = swiftw.CurvatureOperator(base["w_compact"], base["native_index_for_slim_index"])
    fn = getattr(_OPERATORS[which], method_name)
    _fuzz_call(fn, base, data)


# ---------------------------------------------------------------------------------------------
# NaN and inf propagate as the formula would
# ---------------------------------------------------------------------------------------------


def _w_tilde_literal(sigma, uv, grid):
    """The literal M x M x K sum (NaN wherever a term is NaN)."""
    c = 1.0 / sigma**2
    y, x = grid[:, 0], grid[:, 1]
    with np.errstate(all="ignore"):
        phase = 2 * np.pi * ((x[:, None, None] - x[None, :, None]) * uv[None, None, :, 0]
                             + (y[:, None, None] - y[None, :, None]) * uv[None, None, :, 1])
        return np.sum(c * np.cos(phase), axis=-1)


def _inject(draw, a, specials):
    a = a.copy()
    flat = a.reshape(-1)
    for _ in range(draw(st.integers(1, 3))):
        flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from(specials))
    return a


def _nan_mask_equal(got, want, what):
    got_nan, want_nan = np.isnan(got), np.isnan(want)
    assert got_nan.any() or not want_nan.any(), f"{what}: NaN lost (the formula gives {int(want_nan.sum())} NaN)"
    bad = np.argwhere(got_nan != want_nan)
    assert bad.size == 0, (
        f"{what}: NaN mask differs from the formula's at {len(bad)} entries, e.g. {tuple(bad[0])}: "
        f"got {got[tuple(bad[0])]!r}, formula {want[tuple(bad[0])]!r}")
    finite = ~want_nan
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9, atol=1e-9 * max(1.0, float(
        np.max(np.abs(np.where(np.isfinite(want), want, 0.0))))), err_msg=what)


@PROPAGATION
@given(data=st.data())
def test_nan_inf_propagate_w_tilde(base, data):
    sigma, uv, grid = base["noise_map_real"], base["uv_wavelengths"], base["grid_radians_slim"]
    where = data.draw(st.sampled_from(["noise_map_real", "uv_wavelengths", "grid_radians_slim"]), label="where")
    # inf only in positions (cos(inf) is NaN either way); a zero or infinite sigma gives +-inf
    # terms whose sum depends on the order of evaluation, so only NaN goes into sigma
    specials = [np.nan] if where == "noise_map_real" else [np.nan, np.inf, -np.inf]
    args = {"noise_map_real": sigma, "uv_wavelengths": uv, "grid_radians_slim": grid}
    args[where] = _inject(data.draw, args[where], specials)
    got = swiftw.w_tilde_curvature_interferometer_from(**args)
    want = _w_tilde_literal(args["noise_map_real"], args["uv_wavelengths"], args["grid_radians_slim"])
    _nan_mask_equal(got, want, f"w_tilde with specials in {where}")


@PROPAGATION
@given(data=st.data())
def test_nan_inf_propagate_w_compact(base, data):
    n, sigma, uv, ps = base["grid_size"], base["noise_map_real"], base["uv_wavelengths"], base["pixel_scale"]
    where = data.draw(st.sampled_from(["noise_map_real", "uv_wavelengths"]), label="where")
    method = data.draw(st.sampled_from(["direct", "nufft", "auto"]), label="method")
    specials = [np.nan] if where == "noise_map_real" else [np.nan, np.inf, -np.inf]
    args = {"noise_map_real": sigma, "uv_wavelengths": uv}
    args[where] = _inject(data.draw, args[where], specials)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = ref.w_compact_curvature_interferometer_from(n, args["noise_map_real"], args["uv_wavelengths"], ps)
    try:
        with swiftw.options(w_compact=method):
            got = swiftw.w_compact_curvature_interferometer_from(n, args["noise_map_real"], args["uv_wavelengths"], ps)
    except ValueError as error:
        # refusing non-finite input with a ValueError naming it is also acceptable
        assert where in str(error), f"ValueError does not name {where}: {error}"
        return
    _nan_mask_equal(got, want, f"w_compact ({method}) with specials in {where}")


@PROPAGATION
@given(data=st.data())
def test_nan_inf_propagate_preload(base, data):
    sigma, uv, g2 = base["noise_map_real"], base["uv_wavelengths"], base["grid_radians_2d"]
    n = base["grid_size"]
    where = data.draw(st.sampled_from(["noise_map_real", "uv_wavelengths"]), label="where")
    specials = [np.nan] if where == "noise_map_real" else [np.nan, np.inf, -np.inf]
    args = {"noise_map_real": sigma, "uv_wavelengths": uv}
    args[where] = _inject(data.draw, args[where], specials)
    got = aa.w_tilde_curvature_preload_interferometer_from(args["noise_map_real"], args["uv_wavelengths"], (n, n), g2)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = ref.autoarray.w_tilde_curvature_preload_interferometer_from(args["noise_map_real"],
                                                                          args["uv_wavelengths"], (n, n), g2)
    # row n and column n are zero by definition, not sums: the literal loops never write them
    _nan_mask_equal(got, want, f"preload with specials in {where}")


def _curvature_by_entries(w, idx, wts, s):
    """F[s, s'] = sum over mapping entries e (row m_e, source s_e), e' of w_e W[m_e, m_e'] w_e' --
    the sparse sum SPEC 3.5's kernels evaluate (an unmapped pair contributes nothing, not 0 * NaN)."""
    rows, cols = np.nonzero(np.cumprod(idx >= 0, axis=1))
    src, wt = idx[rows, cols], wts[rows, cols]
    f = np.zeros((s, s))
    with np.errstate(all="ignore"):
        terms = wt[:, None] * w[np.ix_(rows, rows)] * wt[None, :]
    np.add.at(f, (src[:, None].repeat(len(src), 1), src[None, :].repeat(len(src), 0)), terms)
    return f


@PROPAGATION
@given(data=st.data())
def test_nan_inf_propagate_curvature(base, data):
    wc, native = base["w_compact"], base["native_index_for_slim_index"]
    idx, wts, s = base["pix_indexes_for_sub_slim_index"], base["pix_weights_for_sub_slim_index"], base["pixels"]
    where = data.draw(st.sampled_from(["w_compact", "pix_weights_for_sub_slim_index", "w_tilde"]), label="where")
    if where == "w_compact":
        wc = _inject(data.draw, wc, [np.nan])
        wc[0] = np.where(np.isnan(wc[0]) | np.isnan(wc[0, ::-1]), np.nan, wc[0])  # keep row 0 even
    elif where == "pix_weights_for_sub_slim_index":
        rows, cols = np.nonzero(np.cumprod(idx >= 0, axis=1))
        wts = wts.copy()
        pick = data.draw(st.integers(0, len(rows) - 1))
        wts[rows[pick], cols[pick]] = np.nan
    w = ref.w_tilde_via_compact_from(wc, native)
    if where == "w_tilde":
        i, j = data.draw(st.integers(0, len(w) - 1)), data.draw(st.integers(0, len(w) - 1))
        w = w.copy()
        w[i, j] = w[j, i] = np.nan
    want = _curvature_by_entries(w, idx, wts, s)
    got = swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, idx, wts, s)
    _nan_mask_equal(got, want, f"F sparse with NaN in {where}")
    if where != "w_tilde":
        got = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(wc, native, idx, wts, s)
        _nan_mask_equal(got, want, f"F compact direct with NaN in {where}")
        got = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, native, idx, wts, s)
        # the default method may be an FFT convolution, which smears a NaN over a whole column:
        # the formula's NaN must all be there; extra NaN are reported only for the direct sum
        assert np.all(np.isnan(got)[np.isnan(want)]), f"F compact (default method): NaN lost ({where})"


@FUZZ
@given(name=st.sampled_from(["w_tilde", "w_compact", "w_tilde_data", "curvature", "eps", "method", "workers"]),
       value=st.sampled_from(["auto", "direct", "fft", "nufft", "lattice", "compact", "", None, 1e-12, 1e-20, 0.5,
                              float("nan"), True, 3, np.float32(1e-6), b"auto"]))
def test_fuzz_set_options(base, name, value):
    """Any name and value handed to set_options: refused with TypeError or ValueError and nothing
    changed, or accepted and then read back by get_options; a kernel still gives its answer."""
    before = swiftw.get_options()
    try:
        try:
            swiftw.set_options(**{name: value})
        except (TypeError, ValueError):
            assert swiftw.get_options() == before, "a refused option changed the options"
            return
        assert swiftw.get_options()[name] == value
        want = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            base["w_compact"], base["native_index_for_slim_index"], base["pix_indexes_for_sub_slim_index"],
            base["pix_weights_for_sub_slim_index"], base["pixels"])
        got = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            base["w_compact"], base["native_index_for_slim_index"], base["pix_indexes_for_sub_slim_index"],
            base["pix_weights_for_sub_slim_index"], base["pixels"])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * float(np.max(np.abs(want))))
    finally:
        swiftw.set_options(**before)


# ---------------------------------------------------------------------------------------------
# the thread setting (last: while a huge thread count crashes the process, the rest runs first)
# ---------------------------------------------------------------------------------------------


@FUZZ
@given(n=st.sampled_from(COUNTS + [0.5, 2.0, float("nan"), None, "2", True, np.int64(3), np.uint64(2**64 - 1)]),
       data=st.data())
def test_fuzz_set_num_threads(base, n, data):
    """Any value handed to set_num_threads: refused with an allowed exception, or accepted -- and
    then a kernel that keeps per-thread scratch still runs (without crashing, in reasonable
    time) and gives the same answer."""
    want = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        base["w_compact"], base["native_index_for_slim_index"], base["pix_indexes_for_sub_slim_index"],
        base["pix_weights_for_sub_slim_index"], base["pixels"])
    before = swiftw.get_num_threads()
    try:
        try:
            swiftw.set_num_threads(n)
        except ALLOWED:
            assert swiftw.get_num_threads() == before, "a refused value changed the thread count"
            return
        got = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            base["w_compact"], base["native_index_for_slim_index"], base["pix_indexes_for_sub_slim_index"],
            base["pix_weights_for_sub_slim_index"], base["pixels"])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * float(np.max(np.abs(want))))
    finally:
        swiftw.set_num_threads(before)
