"""pytest-benchmark group `fma`: the in-place weighted sum `out += sum_a w_a * arrays[a]` (the talk's `_fma`).

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
GROUP = "fma"


def test_fma(run_case, size, library):
    run_case(GROUP, size, library)
