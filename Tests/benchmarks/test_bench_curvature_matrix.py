"""pytest-benchmark group `curvature_matrix`: the curvature matrix F = T^T W T from the compact w-tilde (and the sma / alma / alma_high presets).

Sizes, inputs and implementations come from `bench.harness` (see conftest.py).
"""
GROUP = "curvature_matrix"


def test_curvature_matrix(run_case, size, library):
    run_case(GROUP, size, library)


def test_scaling_reports_the_host_control():
    """The alternating one/all-core measurement of the presets, run at the `ci` size: each
    swiftw row gets its speed-up and, timed in turns with it, the host control's."""
    from bench import harness as bench

    problem = bench.problem_for(GROUP, "ci")
    results = bench.run_scaling(bench.GROUPS[GROUP], problem, 2, budget=0.05)
    assert sorted(r["label"] for r in results) == ["swiftw", "swiftw (prepared operator)"]
    text = bench.scaling_text(results)
    for r in results:
        assert r["threads"] == 2 and r["pairs"] >= 3
        for key in ("one", "many", "control_one", "control_many", "speedup", "control_speedup"):
            assert 0 < r[key] < 10, (key, r[key])
        assert f"{r['speedup']:.2f}x ({r['pairs']} pairs; the host control beside it {r['control_speedup']:.2f}x)" in text
    assert "host control: swiftw's w_compact by the direct sum" in text


def test_alternating_pairs_carry_the_order_across_turns():
    """Pairs alternate 1t-first / all-cores-first, and a later turn goes on where the last one
    stopped (so short turns stay balanced); `warm` adds one untimed call."""
    import swiftw
    from bench import harness as bench

    seen = []
    times = {1: [], 2: []}
    before = swiftw.get_num_threads()
    try:
        bench._alternating_pairs(lambda: seen.append(swiftw.get_num_threads()), 2, 3, times)
        bench._alternating_pairs(lambda: seen.append(swiftw.get_num_threads()), 2, 2, times, warm=True)
    finally:
        swiftw.set_num_threads(before)
    assert seen == [1, 2, 2, 1, 1, 2] + [2] + [2, 1, 1, 2]
    assert len(times[1]) == len(times[2]) == 5
