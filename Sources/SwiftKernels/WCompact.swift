/// The compact w-tilde: the w-tilde value of every native pixel offset.
///
///     wCompact[m, n] = sum_k c_k cos(D [(n - (N-1)) u_k - m v_k]),  0 <= m < N, 0 <= n < 2N-1
///
/// with `c_k = 1 / sigma_k^2` and `D = 2 pi d`, `d = pixel_scale * pi / 648000`: `cosineGrid`
/// with column rate `d u_k` and row rate `d v_k` (cycles per pixel). Exact to rounding; (3N - 1)
/// sincos and 8 N^2 flops per visibility; memory O(N^2). `uv` is (K, 2), `out` (N, 2N-1).
public func wCompact(noise: UnsafeBufferPointer<Double>, uv: UnsafeBufferPointer<Double>,
                     gridSize n: Int, pixelScale: Double,
                     out: UnsafeMutableBufferPointer<Double>) {
    let d = pixelScale * Double.pi / 648000
    cosineGrid(visibilities: noise.count, rows: n, cols: 2 * n - 1, colShift: n - 1, out: out) { k in
        let sigma = noise[k]
        return (1 / (sigma * sigma), 0, d * uv[2 * k], d * uv[2 * k + 1])
    }
}
