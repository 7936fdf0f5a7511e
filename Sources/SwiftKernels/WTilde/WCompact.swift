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

/// PyAutoArray's preload layout of the same values, (2 Ny, 2 Nx):
///
///     preload[dy mod 2Ny, dx mod 2Nx] = sum_k c_k cos(2 pi (sx dx u_k - sy dy v_k)),  |dy| < Ny, |dx| < Nx
///
/// with row Ny and column Nx zero; `sy`, `sx` are the grid's spacings in radians (y decreasing
/// with the row, x increasing with the column). One `cosineGrid` of Ny x (2 Nx - 1) gives the
/// offsets with dy >= 0; evenness gives the rest. Cost: as `wCompact`.
public func wTildePreload(noise: UnsafeBufferPointer<Double>, uv: UnsafeBufferPointer<Double>,
                          rows ny: Int, cols nx: Int, spacingY sy: Double, spacingX sx: Double,
                          out: UnsafeMutableBufferPointer<Double>) {
    let cols = 2 * nx - 1
    let half = Scratch(ny * cols)
    cosineGrid(visibilities: noise.count, rows: ny, cols: cols, colShift: nx - 1,
               out: UnsafeMutableBufferPointer(start: half.pointer, count: half.count)) { k in
        let sigma = noise[k]
        return (1 / (sigma * sigma), 0, sx * uv[2 * k], sy * uv[2 * k + 1])
    }
    let width = 2 * nx, height = 2 * ny
    out.initialize(repeating: 0)
    for dy in 0..<ny {
        for dx in -(nx - 1)...(nx - 1) {
            let value = half.pointer[dy * cols + dx + nx - 1]
            out[dy * width + (dx + width) % width] = value
            out[((height - dy) % height) * width + (width - dx) % width] = value
        }
    }
    withExtendedLifetime(half) {}
}
