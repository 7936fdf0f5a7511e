"""The positive-only inversion at the production presets, on one thread (issue 18).

``python -m bench.inversion [--presets sma alma alma_high] [--rounds R] [--snr X] [--synthetic] [--no-peers]
[--json FILE]``

A simulated observation per preset: the preset's mask, baselines, noise and compact w-tilde
(`harness.problem_for("curvature_matrix", preset)`); an isothermal lens (Einstein radius 1.2");
a Delaunay source mesh of S = 1500 vertices, traced from random image-plane points plus a ring
that encloses the traced mask; a positive source (two Gaussian blobs) on it; visibilities by a
direct Fourier sum of the lensed image plus Gaussian noise; and the dirty image consistent with W:
``D_i = sum_k c_k (Re V_k cos a_ik - Im V_k sin a_ik)``, ``a_ik = 2 pi (x_i u_k + y_i v_k)``.

Rows, timed in alternating rounds in one process (medians), everything on one thread:
F alone; one dense Cholesky of A = F + H (SciPy dpotrf, the unit: dpotrf on a copy of A made
outside the timer), and SciPy's `cholesky` as a caller that keeps A runs it (the copy included,
as the solve's own gathers are); swiftw's positive-only solve
with log det A as the inversion runs it (A = F + H built by swiftw, not scanned again), and log det H;
the same solve through the public API, which first scans A for symmetry and finite entries; the
same warm-started from the solution of a nearby sample
(Einstein radius 1% larger) and of a far one (20%); swiftw's whole inversion; the NumPy fnnls
peer (seeded by the unconstrained signs, as production) and SciPy's NNLS on the Cholesky form.
DGEMM (n = S) is timed in the same rounds, against which the Cholesky's GFLOP/s is read.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import swiftw
from swiftw.inversion import _solve
from swiftw.likelihood import _log_det_regularization

from . import reference as ref
from .harness import Problem, problem_for, threads
from .peers.fnnls import fnnls

EINSTEIN_RADIUS = 1.2  # arcsec, inside the 3.5" mask
COEFFICIENT = 1.0
# The production library's profile (SPEC 3.9), ms per likelihood, one CPU thread / A100.
PRODUCTION = {
    "sma": dict(cpu_f=84.8, cpu_solve=140, cpu_total=278, gpu_f=4.3, gpu_solve=20.6, gpu_total=32.6),
    "alma": dict(cpu_f=932, cpu_solve=177, cpu_total=1262, gpu_f=17.8, gpu_solve=23.5, gpu_total=49.5),
    "alma_high": dict(cpu_f=13106, cpu_solve=212, cpu_total=13827, gpu_f=67.0, gpu_solve=21.9, gpu_total=101),
}


@dataclass
class Observation:
    """A simulated lensed observation on the preset `base` (see the module docstring)."""

    base: Problem
    pixels: int = 1500
    snr: float = 1.0
    einstein_radius: float = EINSTEIN_RADIUS
    seed: int = 18

    @cached_property
    def _image_arcsec(self) -> np.ndarray:
        """(M, 2) (y, x) of the masked pixels in arcseconds."""
        return self.base.grid_radians_slim * (648000.0 / np.pi)

    def _trace(self, theta: np.ndarray) -> np.ndarray:
        """Singular isothermal sphere: beta = theta - theta_E theta / |theta|."""
        r = np.maximum(np.hypot(theta[:, 0], theta[:, 1]), 1e-9)[:, None]
        return theta - self.einstein_radius * theta / r

    @cached_property
    def _mesh(self):
        from scipy.spatial import Delaunay

        rng = np.random.default_rng(self.seed)  # the same vertices for every Einstein radius
        image = self._image_arcsec
        ring = int(4 * np.sqrt(self.pixels))
        chosen = rng.choice(image.shape[0], self.pixels - ring, replace=False)
        jitter = rng.uniform(-0.3, 0.3, (chosen.size, 2)) * self.base.pixel_scale
        inner = self._trace(image[chosen] + jitter)
        traced = self._trace(image)
        radius = 1.05 * float(np.max(np.hypot(traced[:, 0], traced[:, 1]))) / np.cos(np.pi / ring)
        angle = 2 * np.pi * (np.arange(ring) + 0.5) / ring
        outer = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        return Delaunay(np.concatenate([outer, inner])), traced

    @cached_property
    def mapping(self) -> tuple[np.ndarray, np.ndarray]:
        """(pix_indexes, pix_weights) (M, 3): barycentric weights of each traced pixel."""
        tri, traced = self._mesh
        simplex = tri.find_simplex(traced)
        assert np.all(simplex >= 0), "bench bug: a traced pixel lies outside the source mesh"
        transform = tri.transform[simplex]
        bary = np.einsum("mij,mj->mi", transform[:, :2], traced - transform[:, 2])
        weights = np.concatenate([bary, 1.0 - bary.sum(axis=1, keepdims=True)], axis=1)
        return (np.ascontiguousarray(tri.simplices[simplex].astype(np.int64)),
                np.ascontiguousarray(np.clip(weights, 0.0, 1.0)))

    @cached_property
    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        indptr, indices = self._mesh[0].vertex_neighbor_vertices
        sizes = np.diff(indptr).astype(np.int64)
        neighbors = np.full((sizes.size, int(sizes.max())), -1, dtype=np.int64)
        for i in range(sizes.size):
            neighbors[i, : sizes[i]] = indices[indptr[i]: indptr[i + 1]]
        return neighbors, sizes

    @cached_property
    def source(self) -> np.ndarray:
        """(S,) positive: two Gaussian blobs at the mesh vertices."""
        points = self._mesh[0].points
        blobs = ((0.05, 0.10, 0.15, 1.0), (-0.25, 0.15, 0.30, 0.4))
        return sum(a * np.exp(-((points[:, 0] - y) ** 2 + (points[:, 1] - x) ** 2) / (2 * w * w))
                   for y, x, w, a in blobs)

    @cached_property
    def _visibilities(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(data, noise_map, dirty_image): V = sum_i I_i exp(-i a_ik) plus noise, and D."""
        idx, wts = self.mapping
        image = np.sum(wts * self.source[idx], axis=1)
        grid, uv, sigma = self.base.grid_radians_slim, self.base.uv_wavelengths, self.base.noise_map_real
        k = uv.shape[0]
        model = np.empty(k, dtype=complex)
        chunk = max(1, int(4e6 // grid.shape[0]))
        for lo in range(0, k, chunk):
            phase = 2 * np.pi * (grid[:, 1:2] * uv[None, lo:lo + chunk, 0] + grid[:, 0:1] * uv[None, lo:lo + chunk, 1])
            model[lo:lo + chunk] = image @ np.exp(-1j * phase)
        rng = np.random.default_rng(self.seed + 1)
        model *= self.snr / np.median(np.abs(model) / sigma)  # median |V_k| / sigma_k = snr
        data = model + sigma * (rng.standard_normal(k) + 1j * rng.standard_normal(k))
        c = sigma**-2.0
        dirty = np.zeros(grid.shape[0])
        for lo in range(0, k, chunk):
            phase = 2 * np.pi * (grid[:, 1:2] * uv[None, lo:lo + chunk, 0] + grid[:, 0:1] * uv[None, lo:lo + chunk, 1])
            dirty += np.cos(phase) @ (c[lo:lo + chunk] * data.real[lo:lo + chunk])
            dirty -= np.sin(phase) @ (c[lo:lo + chunk] * data.imag[lo:lo + chunk])
        return data, sigma + 1j * sigma, dirty

    def arguments(self) -> tuple:
        """The positional arguments of `CurvatureOperator.inversion`."""
        data, noise, dirty = self._visibilities
        return (dirty, data, noise, *self.mapping, *self.neighbours)

    def nearby(self, factor: float) -> "Observation":
        """The same data seen through a lens whose Einstein radius is `factor` times this one's."""
        other = Observation(self.base, self.pixels, self.snr, self.einstein_radius * factor, self.seed)
        other.__dict__["_visibilities"] = self._visibilities
        return other


def _copied(buffer: np.ndarray, a: np.ndarray) -> np.ndarray:
    np.copyto(buffer, a)
    return buffer


def _scipy_nnls(d, a):
    """SciPy's NNLS on the Cholesky form of the problem (A = L L^T: 1/2 s^T A s - d^T s =
    1/2 ||L^T s - L^-1 d||^2 + const), timed as a peer only: it is not the oracle."""
    from scipy.optimize import nnls

    lower = np.linalg.cholesky(a)
    return nnls(lower.T, np.linalg.solve(lower, d), maxiter=50 * max(d.shape[0], 1))[0]


def _median_times(calls: dict[str, callable], rounds: int) -> dict[str, float]:
    """Median seconds of each call over `rounds` rounds that alternate between the calls. A call
    given as (setup, call) has its setup run first, outside the timer."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            if isinstance(call, tuple):
                setup, call = call
                setup()
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(v) for name, v in samples.items()}


DGEMM = "DGEMM of two S x S matrices (NumPy)"
# The solve as `CurvatureOperator.inversion` runs it: A = F + H built by swiftw, so not scanned again.
SOLVE = "swiftw solve + log det A (A built by swiftw, as in the inversion)"
# The public `reconstruction_positive_only_from` on a matrix from elsewhere: an n^2 scan for
# symmetry and finite entries first.
SCANNED = "swiftw solve + log det A, A scanned first (public API)"
# SciPy's Cholesky as a caller runs it on a matrix it keeps: A copied to Fortran order, then dpotrf.
CALLED = "scipy.linalg.cholesky(A, lower=True, check_finite=False)"
# The unit: SciPy's dpotrf on a copy of A made just before, outside the timer.
UNIT = "Cholesky of A (SciPy dpotrf)"


def _dgemm_call(n: int):
    """A call of DGEMM at n (2 n^3 flops), timed beside the Cholesky for its GFLOP/s."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    out = np.empty((n, n))
    return lambda: np.matmul(a, b, out=out)


def run(preset: str, rounds: int, snr: float, peers: bool = True) -> dict:
    from scipy.linalg import cholesky
    from scipy.linalg.lapack import dpotrf as potrf

    obs = Observation(problem_for("curvature_matrix", preset), snr=snr)
    args = obs.arguments()
    op = swiftw.CurvatureOperator(obs.base.w_compact, obs.base.native_index_for_slim_index)
    dirty, _, _, idx, wts, neighbors, sizes = args
    s = obs.pixels
    with threads(1):
        f = op.curvature_matrix(idx, wts, s)
        d = swiftw.sparse_mapping_matrix_transpose_matmul(dirty, idx, wts, s)
        a = f + swiftw.constant_regularization_matrix_from(COEFFICIENT, neighbors, sizes)
        result = op.inversion(*args, coefficient=COEFFICIENT)
        near = op.inversion(*obs.nearby(1.01).arguments(), coefficient=COEFFICIENT).reconstruction
        far = op.inversion(*obs.nearby(1.2).arguments(), coefficient=COEFFICIENT).reconstruction
        solution, log_det, iterations, zeros = _solve(d, a, built=True)
        # the answer, checked against the oracle and the peer before anything is timed
        oracle = ref.reconstruction_positive_only_from(d, a)
        error = float(np.max(np.abs(solution - oracle)) / np.max(np.abs(oracle)))
        warm = {name: _solve(d, a, warm_start=start, built=True)[2] for name, start in (("near", near), ("far", far))}
        calls = {
            "F alone": lambda: op.curvature_matrix(idx, wts, s),
            "copy of A": lambda: np.copyto(buffer, a),
            "copy of A + Cholesky (SciPy dpotrf)": lambda: potrf(_copied(buffer, a), lower=1, overwrite_a=1),
            UNIT: (lambda: np.copyto(buffer, a), lambda: potrf(buffer, lower=1, overwrite_a=1)),
            CALLED: lambda: cholesky(a, lower=True, check_finite=False),
            SOLVE: lambda: _solve(d, a, built=True),
            "swiftw log det H": lambda: _log_det_regularization(neighbors, sizes, False, coefficient=COEFFICIENT),
            SCANNED: lambda: _solve(d, a),
            "swiftw solve, passive-set steps": lambda: _solve(d, a, strategy="passive_set", built=True),
            "swiftw solve, zero-set steps": lambda: _solve(d, a, strategy="zero_set", built=True),
            "swiftw solve, warm from a 1% lens change": lambda: _solve(d, a, warm_start=near, built=True),
            "swiftw solve, warm from a 20% lens change": lambda: _solve(d, a, warm_start=far, built=True),
            "swiftw inversion (F + solve + evidence)": lambda: op.inversion(*args, coefficient=COEFFICIENT),
            DGEMM: _dgemm_call(s),
        }
        buffer = np.empty_like(a, order="F")
        times = _median_times(calls, rounds)
        if peers:
            slow = {"NumPy fnnls (seeded)": lambda: fnnls(a, d),
                    "SciPy nnls (Cholesky form)": lambda: _scipy_nnls(d, a)}
            peer_error = float(np.max(np.abs(fnnls(a, d) - solution)) / np.max(np.abs(solution)))
            times.update(_median_times(slow, 1))  # 30-300x slower: one call each
    unit = times[UNIT]
    solve = times[SOLVE] + times["swiftw log det H"]
    return dict(
        preset=preset, M=obs.base.M, K=obs.base.size.K, K_nominal=obs.base.size.K_nominal, S=s, snr=snr,
        zero_fraction=zeros / s, iterations=iterations, warm_iterations=warm,
        error_vs_oracle=error, peer_error=peer_error if peers else None,
        times=times, cholesky_gflops=s**3 / 3 / unit / 1e9, dgemm_gflops=2 * s**3 / times[DGEMM] / 1e9,
        solve_over_cholesky=solve / unit, solve_over_called_cholesky=solve / times[CALLED],
        scanned_solve_over_cholesky=(times[SCANNED] + times["swiftw log det H"]) / unit, log_evidence=result.log_evidence,
        production=PRODUCTION.get(preset),
    )


def run_synthetic(pixels: int, rounds: int, zero_fraction: float = 0.45) -> dict:
    """The solve alone on a random symmetric positive definite A (S = `pixels`) whose solution has
    ~`zero_fraction` of its entries at zero: the regime SPEC 3.8 reports for sma (40-50%)."""
    from scipy.linalg.lapack import dpotrf as potrf

    rng = np.random.default_rng(18)
    x = rng.standard_normal((2 * pixels, pixels))
    a = x.T @ x / (2 * pixels) + 1e-2 * np.eye(pixels)
    truth = np.abs(rng.standard_normal(pixels)) * (rng.uniform(size=pixels) > zero_fraction)
    d = a @ truth + 0.3 * rng.standard_normal(pixels)
    with threads(1):
        solution, _, iterations, zeros = _solve(d, a)
        oracle = ref.reconstruction_positive_only_from(d, a)
        buffer = np.empty_like(a, order="F")
        times = _median_times({
            "copy of A": lambda: np.copyto(buffer, a),
            "copy of A + Cholesky (SciPy dpotrf)": lambda: potrf(_copied(buffer, a), lower=1, overwrite_a=1),
            UNIT: (lambda: np.copyto(buffer, a), lambda: potrf(buffer, lower=1, overwrite_a=1)),
            SOLVE: lambda: _solve(d, a, built=True),
            "swiftw solve, passive-set steps": lambda: _solve(d, a, strategy="passive_set"),
            "swiftw solve, zero-set steps": lambda: _solve(d, a, strategy="zero_set"),
            DGEMM: _dgemm_call(pixels),
        }, rounds)
    unit = times[UNIT]
    return dict(preset="synthetic", S=pixels, zero_fraction=zeros / pixels, iterations=iterations,
                error_vs_oracle=float(np.max(np.abs(solution - oracle)) / np.max(np.abs(oracle))),
                times=times, cholesky_gflops=pixels**3 / 3 / unit / 1e9,
                dgemm_gflops=2 * pixels**3 / times[DGEMM] / 1e9,
                solve_over_cholesky=times[SOLVE] / unit)


def table(r: dict) -> str:
    unit = r["times"][UNIT]
    if r["preset"] == "synthetic":
        head = [f"### synthetic: random SPD A, S = {r['S']}, one thread", "",
                f"{100 * r['zero_fraction']:.0f}% of the solution at zero; {r['iterations']} solves "
                f"(the unconstrained one included); max error against the reference (bench.reference) {r['error_vs_oracle']:.1e} of max |s|."]
    else:
        k = f"{r['K']}" + (f" (stand-in for {r['K_nominal']:.0e})" if r["K_nominal"] else "")
        head = [f"### {r['preset']}: M = {r['M']}, K = {k}, S = {r['S']}, one thread", "",
                f"{100 * r['zero_fraction']:.0f}% of the solution at zero (median |V|/sigma = {r['snr']}); "
                f"{r['iterations']} solves cold (the unconstrained one included), {r['warm_iterations']['near']} / "
                f"{r['warm_iterations']['far']} warm from a 1% / 20% lens change; max error against the reference (bench.reference) "
                f"{r['error_vs_oracle']:.1e} of max |s|."]
    lines = head + ["", "| row | ms | x Cholesky |", "|---|---:|---:|"]
    for name, t in r["times"].items():
        lines.append(f"| {name} | {1e3 * t:.1f} | {t / unit:.2f} |")
    lines.append(f"| **positive-only solve + both log-dets** | **{1e3 * r['solve_over_cholesky'] * unit:.1f}** | "
                 f"**{r['solve_over_cholesky']:.2f}** |")
    if "scanned_solve_over_cholesky" in r:
        lines.append(f"| the same, A scanned first (public API) | {1e3 * r['scanned_solve_over_cholesky'] * unit:.1f} | "
                     f"{r['scanned_solve_over_cholesky']:.2f} |")
    if "solve_over_called_cholesky" in r:
        lines.append(f"| positive-only solve + both log-dets / `{CALLED}` | | "
                     f"{r['solve_over_called_cholesky']:.2f} |")
    p = r.get("production")
    if p:
        lines += ["", f"Production (SPEC 3.9, PyAutoLens autolens_profiling, ms): CPU one thread F {p['cpu_f']}, "
                  f"fnnls {p['cpu_solve']}, whole {p['cpu_total']}; A100 F {p['gpu_f']}, PDIP {p['gpu_solve']}, "
                  f"whole {p['gpu_total']}."]
    lines += ["", f"Cholesky {r['cholesky_gflops']:.1f} GFLOP/s (S^3/3 flops) against DGEMM "
              f"{r['dgemm_gflops']:.1f} GFLOP/s on one thread."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["sma", "alma"], choices=sorted(PRODUCTION))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--snr", type=float, default=1.0)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--synthetic", action="store_true", help="also a random SPD problem with ~45%% zeros")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    results = []
    for preset in args.presets:
        results.append(run(preset, args.rounds, args.snr, peers=not args.no_peers))
        print(table(results[-1]), "\n", flush=True)
    if args.synthetic:
        results.append(run_synthetic(1500, args.rounds))
        print(table(results[-1]), "\n", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
