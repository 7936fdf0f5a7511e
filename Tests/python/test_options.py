"""swiftw's options (`set_options`, `options`, `get_options`): process-wide settings, overrides
local to a thread or asyncio task, validation, and that each option really routes its kernel."""

import asyncio
import threading

import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import make_problem


@pytest.fixture(autouse=True)
def restore_options():
    before = swiftw.get_options()
    yield
    swiftw.set_options(**before)


def test_defaults_and_names():
    got = swiftw.get_options()
    assert set(got) == {"w_tilde", "w_compact", "w_tilde_data", "curvature", "eps"}
    assert all(got[name] == "auto" for name in got if name != "eps")
    assert 1e-14 <= got["eps"] <= 1e-10


@pytest.mark.parametrize("changes, error, match", [
    ({"method": "fft"}, TypeError, "unknown option 'method'"),
    ({"curvature": "nufft"}, ValueError, "curvature must be one of 'auto', 'direct', 'fft'"),
    ({"w_compact": "fft"}, ValueError, "w_compact must be one of"),
    ({"w_tilde_data": None}, ValueError, "w_tilde_data must be one of"),
    ({"eps": 1e-20}, ValueError, "eps must be in"),
    ({"eps": float("nan")}, ValueError, "eps must be in"),
    ({"eps": "1e-6"}, TypeError, "eps must be a real number"),
    ({"eps": True}, TypeError, "eps must be a real number"),
])
def test_bad_options_refused_and_nothing_changed(changes, error, match):
    before = swiftw.get_options()
    with pytest.raises(error, match=match):
        swiftw.set_options(**changes)
    with pytest.raises(error, match=match):
        with swiftw.options(**changes):
            pass
    assert swiftw.get_options() == before
    with pytest.raises(error, match=match):  # one bad name refuses the whole call
        swiftw.set_options(w_tilde="direct", **changes)
    assert swiftw.get_options() == before


def test_context_nests_and_restores():
    swiftw.set_options(curvature="direct")
    with swiftw.options(curvature="fft", eps=1e-8) as inside:
        assert inside["curvature"] == "fft" and inside["eps"] == 1e-8
        with swiftw.options(eps=1e-6):
            assert swiftw.get_options()["curvature"] == "fft" and swiftw.get_options()["eps"] == 1e-6
        assert swiftw.get_options()["eps"] == 1e-8
    assert swiftw.get_options()["curvature"] == "direct"
    with pytest.raises(RuntimeError):
        with swiftw.options(curvature="fft"):
            raise RuntimeError("leaves the block")
    assert swiftw.get_options()["curvature"] == "direct"


def test_context_is_local_to_a_thread_and_set_options_is_global():
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def other():
        entered.wait(5)
        seen["during"] = swiftw.get_options()["w_compact"]
        release.set()

    worker = threading.Thread(target=other)
    worker.start()
    with swiftw.options(w_compact="nufft"):
        entered.set()
        release.wait(5)
    worker.join(5)
    assert seen["during"] == "auto", "a with-block in one thread changed another thread's options"

    swiftw.set_options(w_compact="direct")
    result = []
    thread = threading.Thread(target=lambda: result.append(swiftw.get_options()["w_compact"]))
    thread.start()
    thread.join(5)
    assert result == ["direct"], "set_options must reach every thread"


def test_context_is_local_to_an_asyncio_task():
    async def task(method, delay):
        with swiftw.options(curvature=method):
            await asyncio.sleep(delay)
            return swiftw.get_options()["curvature"]

    async def main():
        return await asyncio.gather(task("fft", 0.02), task("direct", 0.01))

    assert asyncio.run(main()) == ["fft", "direct"]
    assert swiftw.get_options()["curvature"] == "auto"


def test_w_compact_option_routes_to_the_nufft(rng):
    """A coarse eps makes the NUFFT visibly inexact: the option must reach the kernel."""
    p = make_problem(rng, n_grid=16, k=800)
    want = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    with swiftw.options(w_compact="nufft", eps=1e-3):
        coarse = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    with swiftw.options(w_compact="direct"):
        exact = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    err_coarse = np.max(np.abs(coarse - want)) / p.sum_c
    err_exact = np.max(np.abs(exact - want)) / p.sum_c
    assert err_exact <= 1e-12
    assert 1e-12 < err_coarse <= 1e-2, f"eps=1e-3 gave error {err_coarse:.2e}: the NUFFT was not used"


def test_w_tilde_data_option_needs_a_lattice(rng):
    p = make_problem(rng, n_grid=14, k=300)
    jittered = p.grid + rng.normal(size=p.grid.shape) * p.d * 1e-3
    with swiftw.options(w_tilde_data="lattice"):
        with pytest.raises(ValueError, match="w_tilde_data='lattice' needs grid_radians_slim on a lattice"):
            swiftw.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, jittered)
    with swiftw.options(w_tilde="compact"):
        with pytest.raises(ValueError, match="w_tilde='compact' needs grid_radians_slim on a lattice"):
            swiftw.w_tilde_curvature_interferometer_from(p.sigma, p.uv, jittered)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_curvature_option_and_operator_parameter(rng, method):
    """The option reaches the drop-in and the operator's default; the operator's explicit
    `method` wins over the option."""
    p = make_problem(rng, n_grid=16, k=300, s=60)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    want = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    op = swiftw.CurvatureOperator(wc, p.native)
    other = "fft" if method == "direct" else "direct"
    with swiftw.options(curvature=method):
        results = [swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S),
                   op.curvature_matrix(p.idx, p.wts, p.S), op.curvature_matrix(p.idx, p.wts, p.S, method=other)]
    for got in results:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.max(np.abs(want)))
    with pytest.raises(ValueError, match="method must be one of"):
        op.curvature_matrix(p.idx, p.wts, p.S, method="nufft")


def test_curvature_option_reaches_the_kernel(rng, monkeypatch):
    """The method number handed to the Swift kernel is the one the option names."""
    import swiftw.curvature as curvature

    calls = []
    real = curvature._swiftw

    class Recorder:
        def __getattr__(self, name):
            return getattr(real, name)

        def curvature_w_compact_sparse(self, *args):
            calls.append(args[-1])
            return real.curvature_w_compact_sparse(*args)

    monkeypatch.setattr(curvature, "_swiftw", Recorder())
    p = make_problem(rng, n_grid=12, k=200, s=40)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    for method in ("direct", "fft", "auto"):
        with swiftw.options(curvature=method):
            swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    with swiftw.options(curvature="fft"):
        swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(wc, p.native, p.idx, p.wts, p.S)
    assert calls == [curvature.METHODS[m] for m in ("direct", "fft", "auto", "direct")]
