"""pytest-benchmark group `w_tilde_data`: the dirty-image weights (M,), exact.

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
GROUP = "w_tilde_data"


def test_w_tilde_data(run_case, size, library):
    run_case(GROUP, size, library)
