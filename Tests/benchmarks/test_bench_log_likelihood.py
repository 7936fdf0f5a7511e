"""pytest-benchmark group `log_likelihood`: the log-likelihood via w_compact (F, regularisation, Cholesky).

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
GROUP = "log_likelihood"


def test_log_likelihood(run_case, size, library):
    run_case(GROUP, size, library)
