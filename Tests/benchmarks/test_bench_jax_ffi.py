"""bench.jax_ffi (issue 20) at the `ci` size: the table's row is computed and the three routes agree."""
import pytest

pytest.importorskip("jax", reason='JAX is not installed (pip install "swiftw[jax]")')
try:
    import swiftw.jax  # noqa: F401
except ImportError as error:
    pytest.skip(f"swiftw.jax unavailable: {error}", allow_module_level=True)


def test_jax_ffi_row_at_ci():
    from bench import jax_ffi

    r = jax_ffi.run("ci", seconds=0.05)
    assert r["pairs"] >= 5 and r["numpy"] > 0 and r["jit"] > 0 and r["pure"] > 0
    assert r["err_jit"] <= 1e-12 and r["err_pure"] <= 1e-10


@pytest.mark.parametrize("positive_only", [True, False])
def test_jax_ffi_evidence_row_at_ci(positive_only):
    from bench import jax_ffi

    r = jax_ffi.run_evidence("ci", calls=1, positive_only=positive_only)
    assert r["numpy"] > 0 and r["jit"] > 0 and r["grad"] > 0 and r["err"] <= 1e-10
    assert (r["zero_fraction"] > 0) == positive_only
