"""pytest-benchmark group `w_tilde`: the w-tilde matrix W (M, M), exact.

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
GROUP = "w_tilde"


def test_w_tilde(run_case, size, library):
    run_case(GROUP, size, library)
