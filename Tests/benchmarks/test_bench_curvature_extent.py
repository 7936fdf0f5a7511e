"""pytest-benchmark group `curvature_extent`: F by the production library's 2026 extent-grid
drop-in `swiftw.autoarray.curvature_direct_conv`, beside a Numba direct extent-grid convolution.

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
import pytest

GROUP = "curvature_extent"


def test_curvature_extent(run_case, size, library):
    if library == "jax":
        pytest.skip("no JAX row in this group")
    run_case(GROUP, size, library)
