"""swiftw's F inside `jax.jit` (XLA FFI) against the NumPy-side call and a pure-JAX F, one thread.

    python -m bench.jax_ffi [--presets sma alma alma_high] [--seconds 8]
    python -m bench.jax_ffi --evidence 5 [--presets ...]   # the whole evidence, positive-only and unconstrained

Per preset (bench.harness's curvature_matrix inputs: Delaunay S = 1500, B = 3):
- "numpy": `CurvatureOperator.curvature_matrix` (the prepared operator, method auto);
- "jit": `jax.jit(lambda w: swiftw.jax.curvature_matrix(op, idx, w, S))` on device arrays;
- "pure JAX": F = T^T (W T) with W T a zero-padded real-FFT convolution (rfft2 of each source
  column's image times the kernel's spectrum, irfft2, read at the masked pixels), batched over
  columns in chunks, jitted — written here from SPEC 3.3/3.5, as production's JAX route does it.
The first two alternate call by call, with the NumPy-side weights' VJP (`jax.grad`'s extra call) after each pair (medians, so a slow minute hits both); the pure-JAX route is
timed after (median of a few calls). XLA runs on one thread (XLA_FLAGS set before JAX starts),
BLAS too (OPENBLAS_NUM_THREADS etc. unless set), swiftw with set_num_threads(1).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

# One thread for every library, set before any of them starts its pool (OpenBLAS's idle threads
# spin against the measured one on a shared host).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from bench.peers import jax_kernels  # noqa: E402

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + jax_kernels.single_thread_flags).strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

import swiftw  # noqa: E402
import swiftw.jax as sjax  # noqa: E402
from swiftw import _swiftw  # noqa: E402
from bench import harness  # noqa: E402


def _smooth(n: int) -> int:
    """The least 2^a 3^b 5^c >= n (a size pocketfft and XLA's FFT do well)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def pure_jax_curvature(w_compact: np.ndarray, native: np.ndarray, pixels: int, chunk: int):
    """A jitted ``w -> F`` (pure JAX) for this mask: W(dr, dc) = w_compact[dr, dc + N-1] (dr >= 0,
    even in (dr, dc)) tabulated on a (P, P) >= (2N-1, 2N-1) wrap-around grid; per source column,
    its image on the grid, rfft2, times the kernel's spectrum, irfft2, read at the masked pixels."""
    n = w_compact.shape[0]
    p = _smooth(2 * n - 1)
    offsets = np.arange(-(n - 1), n) % p
    kernel = np.zeros((p, p))
    kernel[np.ix_(np.arange(n), offsets)] = w_compact
    kernel[np.ix_((-np.arange(1, n)) % p, offsets)] = w_compact[1:, ::-1]
    spectrum = jnp.asarray(np.fft.rfft2(kernel).real)  # the kernel is even: a real spectrum
    rows, cols = jnp.asarray(native[:, 0]), jnp.asarray(native[:, 1])
    m = native.shape[0]
    chunks = -(-pixels // chunk)

    def f(idx, w):
        b = idx.shape[1]
        valid = jnp.cumprod(idx != -1, axis=1).astype(bool)
        source = jnp.where(valid, idx, 0).reshape(-1)  # the (M B) entries of the sparse T
        weight = jnp.where(valid, w, 0.0).reshape(-1)
        pixel = jnp.repeat(jnp.arange(m), b)

        def block(first):  # F[:, first:first + chunk] = T^T (W T[:, first:first + chunk])
            # Entries of other columns go to index `chunk`, which the scatter drops (a negative one would wrap).
            column = jnp.where((source >= first) & (source < first + chunk), source - first, chunk)
            images = jnp.zeros((chunk, p, p)).at[column, rows[pixel], cols[pixel]].add(weight, mode="drop")
            convolved = jnp.fft.irfft2(jnp.fft.rfft2(images) * spectrum, s=(p, p))
            omega = convolved[:, rows, cols]  # (chunk, M)
            return jnp.zeros((pixels, chunk)).at[source].add(weight[:, None] * omega.T[pixel])

        blocks = jax.lax.map(block, jnp.arange(chunks) * chunk)  # (chunks, S, chunk)
        return blocks.transpose(1, 0, 2).reshape(pixels, chunks * chunk)[:, :pixels]

    return jax.jit(f)


def _time(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run(preset: str, seconds: float) -> dict:
    problem = harness.problem_for("curvature_matrix", preset)
    idx, w, s = problem.pix_indexes_for_sub_slim_index, problem.pix_weights_for_sub_slim_index, problem.pixels
    op = swiftw.CurvatureOperator(problem.w_compact, problem.native_index_for_slim_index)
    numpy_side = lambda: op.curvature_matrix(idx, w, s)
    jitted = jax.jit(lambda i, x: sjax.curvature_matrix(op, i, x, s))
    idx_d, w_d = jnp.asarray(idx), jnp.asarray(w)
    in_jit = lambda: jitted(idx_d, w_d).block_until_ready()
    expected = numpy_side()
    scale = float(np.max(np.abs(expected)))
    err_jit = float(np.max(np.abs(np.asarray(in_jit()) - expected))) / scale
    # The weights' VJP (what jax.grad adds), NumPy-side, for its cost against one F.
    cotangent = np.random.default_rng(0).normal(size=(s, s))
    dw = np.empty(w.shape)
    vjp = lambda: _swiftw.operator_curvature_vjp(dw, idx, w, cotangent, op._handle, s)
    # Alternate, each pair in both orders, until the budget is spent (at least 5 pairs).
    times = {"numpy": [], "jit": [], "vjp": []}
    start = time.perf_counter()
    pair = 0
    while pair < 5 or time.perf_counter() - start < seconds:
        order = (("numpy", numpy_side), ("jit", in_jit)) if pair % 2 == 0 else (("jit", in_jit), ("numpy", numpy_side))
        for name, call in order + (("vjp", vjp),):
            times[name].append(_time(call))
        pair += 1
    m = problem.M
    chunk = min(s, 32)  # columns per FFT batch: small batches stay in cache (measured faster at sma than 64-500)
    pure = pure_jax_curvature(problem.w_compact, problem.native_index_for_slim_index, s, chunk)
    pure_call = lambda: pure(idx_d, w_d).block_until_ready()
    compile_and_first = _time(pure_call)
    err_pure = float(np.max(np.abs(np.asarray(pure(idx_d, w_d)) - expected))) / scale
    pure_times = [_time(pure_call) for _ in range({"alma": 2, "alma_high": 1}.get(preset, 3))]
    numpy_median, jit_median = statistics.median(times["numpy"]), statistics.median(times["jit"])
    pure_median = statistics.median(pure_times)
    return dict(preset=preset, M=m, S=s, pairs=pair, numpy=numpy_median, jit=jit_median,
                ratio=jit_median / numpy_median, vjp=statistics.median(times["vjp"]) / numpy_median, pure=pure_median, speedup=pure_median / jit_median,
                err_jit=err_jit, err_pure=err_pure, pure_first=compile_and_first, chunk=chunk)


def run_evidence(preset: str, calls: int, positive_only: bool) -> dict:
    """The whole evidence: NumPy-side `CurvatureOperator.inversion(...).log_evidence` against
    `swiftw.jax.log_evidence` in jit, and its jitted gradient with respect to the weights and the
    coefficient (medians of alternating calls)."""
    problem = harness.problem_for("curvature_matrix", preset)
    idx, w = problem.pix_indexes_for_sub_slim_index, problem.pix_weights_for_sub_slim_index
    op = swiftw.CurvatureOperator(problem.w_compact, problem.native_index_for_slim_index)
    fixed = (problem.dirty_image, problem.data, problem.noise_map, idx)
    graph = (problem.neighbors, problem.neighbors_sizes)
    numpy_side = lambda: op.inversion(*fixed, w, *graph, coefficient=1.0, positive_only=positive_only).log_evidence
    evidence = lambda x, c: sjax.log_evidence(op, *fixed, x, *graph, c, positive_only=positive_only)
    value, grad = jax.jit(evidence), jax.jit(jax.grad(evidence, argnums=(0, 1)))
    w_d, one = jnp.asarray(w), jnp.float64(1.0)
    in_jit = lambda: value(w_d, one).block_until_ready()
    with_grad = lambda: jax.block_until_ready(grad(w_d, one))
    err = abs(float(in_jit()) - numpy_side()) / abs(numpy_side())
    zeros = op.inversion(*fixed, w, *graph, coefficient=1.0, positive_only=positive_only).zeros
    with_grad()
    times = {"numpy": [], "jit": [], "grad": []}
    for _ in range(calls):
        for name, call in (("numpy", numpy_side), ("jit", in_jit), ("grad", with_grad)):
            times[name].append(_time(call))
    medians = {k: statistics.median(v) for k, v in times.items()}
    return dict(preset=preset, positive_only=positive_only, zero_fraction=zeros / problem.pixels, err=err, **medians)


def _header(*columns: str) -> None:
    """A Markdown table's header."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["sma", "alma", "alma_high"])
    parser.add_argument("--seconds", type=float, default=8.0, help="budget of the alternating numpy/jit pairs")
    parser.add_argument("--evidence", type=int, default=0, metavar="CALLS",
                        help="instead: time the whole evidence, positive-only and unconstrained (value and gradient), CALLS rounds")
    parser.add_argument("--json", help="write every row to this file")
    args = parser.parse_args(argv)
    rows = []
    swiftw.set_num_threads(1)
    print(f"jax {jax.__version__}, jaxlib {jax.lib.__version__}, one thread (XLA_FLAGS={os.environ['XLA_FLAGS']!r})")
    if args.evidence:
        _header("preset", "solve", "zeros", "NumPy-side inversion", "log_evidence in jit", "jit / NumPy",
                "its grad (w, coefficient) in jit", "grad / value", "rel. diff")
        for preset in args.presets:
            for positive_only in (True, False):
                r = run_evidence(preset, args.evidence, positive_only)
                rows.append(r)
                print(f"| {preset} | {'positive-only' if positive_only else 'unconstrained'} | "
                      f"{100 * r['zero_fraction']:.0f}% | {1e3 * r['numpy']:.1f} ms | {1e3 * r['jit']:.1f} ms | "
                      f"{r['jit'] / r['numpy']:.2f} | {1e3 * r['grad']:.1f} ms | {r['grad'] / r['jit']:.2f} | "
                      f"{r['err']:.1e} |", flush=True)
        _write(args.json, rows)
        return
    _header("preset", "M", "S", "NumPy-side F", "F in jax.jit", "jit / NumPy", "pure-JAX rfft2 F", "pure JAX / jit",
            "weights' VJP / F", "pairs")
    for preset in args.presets:
        r = run(preset, args.seconds)
        rows.append(r)
        print(f"| {r['preset']} | {r['M']} | {r['S']} | {1e3 * r['numpy']:.1f} ms | {1e3 * r['jit']:.1f} ms | "
              f"{r['ratio']:.3f} | {1e3 * r['pure']:.0f} ms | {r['speedup']:.0f}x | {r['vjp']:.2f} | {r['pairs']} |", flush=True)
        print(f"    max |F - NumPy-side| / max|F|: jit {r['err_jit']:.1e}, pure JAX {r['err_pure']:.1e} "
              f"(pure JAX: chunks of {r['chunk']} columns, first call with compilation {r['pure_first']:.1f} s)",
              file=sys.stderr, flush=True)
    _write(args.json, rows)


def _write(path, rows) -> None:
    if path:
        with open(path, "w") as f:
            json.dump({"jax": jax.__version__, "config": swiftw.show_config(), "rows": rows}, f, indent=1, default=float)


if __name__ == "__main__":
    main()
