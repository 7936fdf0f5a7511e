"""pytest-benchmark group `w_compact`: the compact w-tilde (N, 2N-1), exact.

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
GROUP = "w_compact"


def test_w_compact(run_case, size, library):
    run_case(GROUP, size, library)
