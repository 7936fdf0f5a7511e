"""pytest-benchmark group `curvature_rectangular`: F = T^T W T on a rectangular source mesh (S = n^2, B = 4 bilinear weights), beside the Delaunay one of `curvature_matrix`.

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
GROUP = "curvature_rectangular"


def test_curvature_rectangular(run_case, size, library):
    run_case(GROUP, size, library)
