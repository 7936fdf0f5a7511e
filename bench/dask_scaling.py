"""Scale-out benchmark of swiftw.dask: the once-per-dataset sums on 1 and on 2 Dask workers.

``python -m bench.dask_scaling [--k 4e6] [--chunk 1e6] [--side 128] [--repeats 3] [--what operator|terms|both]
[--single-node] [--json FILE]``

The visibilities (sigma, u, v, and for `terms` the complex data) are generated lazily on the
workers, one task a chunk from a seed per chunk, and never reach the client. One LocalCluster of
two single-threaded worker processes serves both timings: "1 worker" pins every task to the first
worker, "2 workers" lets the scheduler use both; both workers are warmed first (NUFFT plans made,
one small call of each kernel), then the two alternate, and the medians and the median
of the per-pair ratios are reported (the machine is shared: absolute times drift, ratios less).
Beside each pair a control -- a fixed SHA-256 job on one worker, then on both at once -- says what
the host gave two processes in that minute (2.0: two free cores; 1.0: one), so that a low speed-up
can be told from a busy host.
Timed is the whole pass -- generating each chunk and reducing it -- and, separately, generating
alone; the workers' compute time inside the chunk partials comes from the task stream, per
visibility. The client's memory: its RSS before building the graph and its peak while computing
(sampled every 20 ms).

`--single-node` then gathers the same data onto the client (K x 24 bytes, or 56 with the data)
and times the single-node call with all cores, after the cluster is closed; its answer is compared
with the cluster's (within 10 eps sum(c)). The default K = 4e6 takes well under a minute; the
issue's K = 4e7 is ``--k 4e7`` (about two minutes here).
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import numpy as np

EPS = 1e-12
PIXEL_SCALE = 0.05  # arcsec


def _chunk(block, *, seed: int, size: int, umax: float, with_data: bool):
    """Chunk number block[0]: (size, 3) of (sigma, u, v) or (size, 5) with (Re d, Im d), from its own seed."""
    rng = np.random.default_rng([seed, int(block[0])])
    out = np.empty((size, 5 if with_data else 3))
    out[:, 0] = rng.uniform(0.5, 2.0, size)
    out[:, 1:3] = rng.uniform(-umax, umax, (size, 2))  # a square of baselines: cheap to make
    if with_data:
        out[:, 3:] = rng.normal(size=(size, 2))
    return out


def lazy_visibilities(k: int, chunk: int, side: int, *, with_data: bool, seed: int = 7):
    """(noise (K,), uv (K, 2), data (K,) complex or None) as dask arrays made on the workers."""
    import dask.array as da

    chunks = k // chunk
    d = PIXEL_SCALE * np.pi / 648000
    umax = 100.0 / (2 * np.pi * side * d)  # phases span ~100 rad over the grid
    seeds = da.arange(chunks, chunks=1)
    table = seeds.map_blocks(_chunk, seed=seed, size=chunk, umax=umax, with_data=with_data, new_axis=1,
                             chunks=((chunk,) * chunks, (5 if with_data else 3,)), dtype=np.float64)
    data = table[:, 3] + 1j * table[:, 4] if with_data else None
    return table[:, 0], table[:, 1:3], data


def grids(side: int):
    """The (side, side, 2) native grid of (y, x) radians and the (M, 2) pixels of a circular mask in it."""
    d = PIXEL_SCALE * np.pi / 648000
    rows, cols = np.mgrid[0:side, 0:side]
    grid_2d = np.stack([(side / 2 - rows) * d, (cols - side / 2) * d], axis=-1)
    inside = (rows - (side - 1) / 2) ** 2 + (cols - (side - 1) / 2) ** 2 <= (side / 2) ** 2
    return grid_2d, grid_2d[inside]


class PeakRSS:
    """The process's peak resident memory while the block runs, sampled every 20 ms."""

    def __enter__(self):
        import psutil

        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def _compute_seconds(stream: list, name: str) -> float:
    """Seconds the workers spent computing tasks whose key holds `name` (from a task stream)."""
    total = 0.0
    for task in stream:
        if name in str(task.get("key", "")):
            total += sum(part["stop"] - part["start"] for part in task.get("startstops", ())
                         if part.get("action") == "compute")
    return total


def _control() -> None:
    """A fixed compute-bound job that shares nothing (SHA-256 of 16 MB, 8 times: ~0.3 s on a free core)."""
    import hashlib

    block = bytes(1 << 24)
    for _ in range(8):
        hashlib.sha256(block).digest()


def _host_capacity(client, first) -> float:
    """What the host gives two worker processes now: 2 x (time of the control on one worker) /
    (time of it on both at once); 2.0 with two free cores, 1.0 with one."""
    start = time.perf_counter()
    client.run(_control, workers=[first])
    one = time.perf_counter() - start
    start = time.perf_counter()
    client.run(_control)
    return 2 * one / (time.perf_counter() - start)


def _warm(what: str, side: int) -> None:
    """One small call of each kernel a chunk uses, in this process: its NUFFT plans and first
    allocations, so that no timed pass pays them on a worker that had not run a chunk yet."""
    import swiftw.dask as sd

    noise, uv, data = lazy_visibilities(4096, 4096, side, with_data=(what == "terms"))
    grid_2d, slim = grids(side)
    if what == "operator":
        sd.nufft_precision_operator_from(noise, uv, (side, side), grid_2d, eps=EPS).compute(scheduler="sync")
    else:
        sd.dataset_terms(data, noise, uv, (side, side), grid_2d, slim, eps=EPS).compute(scheduler="sync")


def build(what: str, k: int, chunk: int, side: int):
    """The lazy result and a lazy 'generate only' pass over the same chunks."""
    import dask.array as da
    import swiftw.dask as sd

    noise, uv, data = lazy_visibilities(k, chunk, side, with_data=(what == "terms"))
    grid_2d, slim = grids(side)
    if what == "operator":
        result = sd.nufft_precision_operator_from(noise, uv, (side, side), grid_2d, eps=EPS)
    else:
        result = sd.dataset_terms(data, noise, uv, (side, side), grid_2d, slim, eps=EPS)
    generate = da.stack([noise.sum(), uv.sum()] + ([abs(data).sum()] if data is not None else []))
    return result, generate


def run(args) -> dict:
    import psutil
    from dask.distributed import Client, LocalCluster, get_task_stream

    import swiftw.dask  # noqa: F401  (imported before the baseline, as a user would have)

    k, chunk = int(float(args.k)), int(float(args.chunk))
    k -= k % chunk
    report = {"k": k, "chunk": chunk, "side": args.side, "eps": EPS, "results": {}}
    rss_start = psutil.Process().memory_info().rss
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        first = sorted(client.scheduler_info()["workers"])[0]
        whats = ["operator", "terms"] if args.what == "both" else [args.what]
        for what in whats:
            client.run(_warm, what, args.side)
            times = {"1 worker": [], "2 workers": [], "generate, 1 worker": [], "generate, 2 workers": []}
            partial_seconds = {"1 worker": [], "2 workers": []}
            capacity = []
            peak = 0
            answer = None
            for _ in range(args.repeats):
                for label, workers in (("1 worker", [first]), ("2 workers", None)):
                    result, generate = build(what, k, chunk, args.side)
                    with PeakRSS() as rss, get_task_stream(client) as stream:
                        start = time.perf_counter()
                        answer = client.compute(result, workers=workers, allow_other_workers=False).result()
                        times[label].append(time.perf_counter() - start)
                    partial_seconds[label].append(_compute_seconds(stream.data, "_partial"))
                    peak = max(peak, rss.peak)
                    start = time.perf_counter()
                    client.compute(generate, workers=workers, allow_other_workers=False).result()
                    times[f"generate, {label}"].append(time.perf_counter() - start)
                capacity.append(_host_capacity(client, first))
            ratios = [a / b for a, b in zip(times["1 worker"], times["2 workers"])]
            med = {label: statistics.median(v) for label, v in times.items()}
            per_visibility = {label: 1e9 * statistics.median(v) / k for label, v in partial_seconds.items()}
            entry = {
                "seconds": times,
                "median": med,
                "speed_up_2_over_1": statistics.median(ratios),
                "speed_up_pairs": ratios,
                "host_capacity_pairs": capacity,
                "partial_task_ns_per_visibility": per_visibility,
                "client_rss_growth_mb": (peak - rss_start) / 2**20,
                "partial_mb": (4 * args.side**2 * 8 + (len(grids(args.side)[1]) * 8 if what == "terms" else 0)) / 2**20,
            }
            report["results"][what] = entry
            report["results"][what]["_answer"] = answer
            print(f"{what}: K = {k:.3g} in chunks of {chunk:.3g}, side {args.side}: "
                  f"1 worker {med['1 worker']:.2f} s (generate {med['generate, 1 worker']:.2f} s), "
                  f"2 workers {med['2 workers']:.2f} s (generate {med['generate, 2 workers']:.2f} s), "
                  f"speed-up {entry['speed_up_2_over_1']:.2f}x (pairs {', '.join(f'{r:.2f}' for r in ratios)}; "
                  f"the host's two-worker capacity beside each pair {', '.join(f'{c:.2f}' for c in capacity)}); "
                  f"chunk partials {per_visibility['1 worker']:.0f} / {per_visibility['2 workers']:.0f} ns a visibility "
                  f"of worker time (1 / 2 workers); "
                  f"client RSS +{entry['client_rss_growth_mb']:.0f} MB", flush=True)
        if args.single_node:
            gathered = {}
            for what in report["results"]:
                noise, uv, data = lazy_visibilities(k, chunk, args.side, with_data=(what == "terms"))
                gathered[what] = client.compute([noise, uv] + ([data] if data is not None else []), sync=True)
    if args.single_node:
        single_node(report, gathered, args.side)
    for entry in report["results"].values():
        entry.pop("_answer")
    return report


def single_node(report: dict, gathered: dict, side: int) -> None:
    """The single-node calls on the gathered data, all cores, timed once after one warm call on a slice."""
    import swiftw

    grid_2d, slim = grids(side)
    for what, arrays in gathered.items():
        noise, uv = arrays[0], np.ascontiguousarray(arrays[1])
        answer = report["results"][what]["_answer"]
        swiftw.autoarray.w_tilde_curvature_preload_interferometer_from(noise[:1000], uv[:1000], (side, side), grid_2d)
        seconds = {}
        for threads in (1, swiftw.default_num_threads()):
            swiftw.set_num_threads(threads)
            start = time.perf_counter()
            if what == "operator":
                one = swiftw.autoarray.nufft_precision_operator_from(noise, uv, (side, side), grid_2d, eps=EPS)
                got = answer
            else:
                data = arrays[2]
                one = swiftw.dirty_image_interferometer_from(data, noise + 1j * noise, uv, slim, eps=EPS)
                got = answer.dirty_image
                scale_dirty = float(np.sum((np.abs(data.real) + np.abs(data.imag)) / noise**2))
            seconds[threads] = time.perf_counter() - start
        swiftw.set_num_threads(swiftw.default_num_threads())
        scale = float(np.sum(noise**-2.0)) if what == "operator" else scale_dirty
        error = float(np.max(np.abs(got - one))) / scale
        report["results"][what]["single_node"] = {"seconds_by_threads": seconds, "max_error_over_scale": error}
        label = "precision operator" if what == "operator" else "dirty image alone"
        print(f"{what}: single-node {label}: " + ", ".join(f"{t} thread(s) {v:.2f} s ({1e9 * v / noise.size:.0f} ns a "
                                                             f"visibility)" for t, v in seconds.items()) + "; "
              f"|cluster - single node| / scale = {error:.2e} (contract 1e-11)", flush=True)
        assert error <= 10 * EPS, f"{what}: the cluster's answer differs from the single-node call by {error:.2e}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", default="4e6", help="visibilities (default 4e6; the issue's run: 4e7)")
    parser.add_argument("--chunk", default="1e6", help="visibilities per chunk (default 1e6)")
    parser.add_argument("--side", type=int, default=128, help="mask extent ny = nx (default 128)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating 1-/2-worker pairs (default 3)")
    parser.add_argument("--what", choices=["operator", "terms", "both"], default="operator")
    parser.add_argument("--single-node", action="store_true", help="also time the single-node call on the same data")
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args(argv)
    report = run(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
