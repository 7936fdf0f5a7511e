"""pytest-benchmark suite: the groups of ``python -m bench``, one file per group.

Rows are the primary implementation of each library (numpy / numba / jax / swiftw); Numba and
JAX rows are skipped when the library is absent. Inputs, sizes, implementations, the NumPy
reference and the comparison all come from `bench.harness`, so this suite and the command line
measure the same thing. Every benchmarked call is checked against the NumPy peer.

    pytest Tests/benchmarks --benchmark-disable        # CI: each case once, the `ci` sizes only
    pytest Tests/benchmarks                            # timed, `ci` sizes
    pytest Tests/benchmarks --run-large                # also small, medium, sma, alma, alma_high

``--run-large`` is defined in Tests/conftest.py, so it works from the repository root too
(``SWIFTW_RUN_LARGE=1`` does the same).
"""
import os

import pytest

from bench import harness as bench

LIBRARIES = ("numpy", "numba", "jax", "swiftw")
DEFAULT_SIZE = "ci"


def pytest_configure(config):
    config.addinivalue_line("markers", "large: big benchmark sizes, run with --run-large")


def _run_large(config) -> bool:
    return bool(config.getoption("--run-large", default=False)) or os.environ.get("SWIFTW_RUN_LARGE") == "1"


def pytest_runtest_setup(item):
    if item.get_closest_marker("large") and not _run_large(item.config):
        pytest.skip("large benchmark size: run with --run-large (or SWIFTW_RUN_LARGE=1)")


def pytest_generate_tests(metafunc):
    """Parametrise `size` over the presets of the module's GROUP (all but `ci` marked large) and
    `library` over the four libraries."""
    group = getattr(metafunc.module, "GROUP", None)
    if group is None:
        return
    if "size" in metafunc.fixturenames:
        sizes = [pytest.param(s, marks=() if s == DEFAULT_SIZE else pytest.mark.large)
                 for s in bench.sizes_for(group)]
        metafunc.parametrize("size", sizes)
    if "library" in metafunc.fixturenames:
        metafunc.parametrize("library", LIBRARIES)


@pytest.fixture
def run_case(benchmark):
    """``run_case(group, size, library)``: warm up, benchmark and check one implementation."""

    def run(group_name: str, size: str, library: str) -> None:
        group = bench.GROUPS[group_name]
        impl = group.primary(library)
        if library in ("numba", "jax"):
            pytest.importorskip(library)
        problem = bench.problem_for(group_name, size)
        reason = bench.skip_reason(impl, problem, bench.all_cores())
        if reason:
            pytest.skip(reason)
        ref = bench.reference(group_name, size)
        run = impl.make(problem)
        if run.reset:
            run.reset()
        run.call()  # warm-up: JIT compilation stays out of the timing
        benchmark.group = f"{group_name}[{size}]"
        benchmark.extra_info.update(implementation=impl.label, description=group.describe(problem))
        if run.reset:  # fma works in place: start every round from the same `out`
            result = benchmark.pedantic(run.call, setup=run.reset, rounds=10, iterations=1)
        else:
            result = benchmark(run.call)
        if ref is None:
            pytest.skip("no NumPy reference at this size: result unchecked")
        comparison = bench.compare(group, problem, result, ref)
        assert comparison.ok, (
            f"{group_name}[{size}] {impl.label}: max|err|/{group.scale_name} = {comparison.error:.3e} "
            f"> {group.rtol:g} {comparison.detail}")

    return run
