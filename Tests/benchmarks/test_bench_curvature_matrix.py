"""pytest-benchmark group `curvature_matrix`: the curvature matrix F = T^T W T from the compact w-tilde (and the sma / alma / alma_high presets).

Sizes, inputs and implementations come from `swiftw.bench` (see conftest.py).
"""
GROUP = "curvature_matrix"


def test_curvature_matrix(run_case, size, library):
    run_case(GROUP, size, library)
