/// The w-tilde matrix unfolded from the compact form.
///
///     W[i, j] = wCompact[dr, dc + N-1]     if dr >= 0
///             = wCompact[-dr, -dc + N-1]   otherwise (cos is even)
///
/// with `dr = row_i - row_j`, `dc = col_i - col_j`. Cost: M^2 reads; threads take rows.
public func wTildeViaCompact(_ wCompact: UnsafeBufferPointer<Double>, gridSize n: Int,
                             native: NativeIndices, out: UnsafeMutableBufferPointer<Double>) {
    let m = native.rows.count, side = 2 * n - 1
    parallelFor(m) { i in
        let ri = native.rows[i], ci = native.cols[i]
        for j in 0..<m {
            let dr = ri - native.rows[j], dc = ci - native.cols[j]
            out[i * m + j] = dr >= 0 ? wCompact[dr * side + dc + n - 1] : wCompact[-dr * side - dc + n - 1]
        }
    }
}

/// The w-tilde matrix from the PyAutoArray preload layout (P0, P1):
/// `W[i, j] = preload[row_j - row_i, col_j - col_i]` with Python's negative-index wrap.
/// `native` must have been checked against a grid of P0 rows and P1 columns (offsets then lie
/// in (-P0, P0) and (-P1, P1)). Cost: M^2 reads; threads take rows.
public func wTildeViaPreload(_ preload: UnsafeBufferPointer<Double>, rows p0: Int, cols p1: Int,
                             native: NativeIndices, out: UnsafeMutableBufferPointer<Double>) {
    let m = native.rows.count
    parallelFor(m) { i in
        let ri = native.rows[i], ci = native.cols[i]
        for j in 0..<m {
            var dy = native.rows[j] - ri, dx = native.cols[j] - ci
            if dy < 0 { dy += p0 }
            if dx < 0 { dx += p1 }
            out[i * m + j] = preload[dy * p1 + dx]
        }
    }
}
