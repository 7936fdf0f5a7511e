import Glibc

/// The cost model behind w_compact's "auto": whether the type-1 NUFFT (`wCompactNUFFT`) beats the
/// direct angle-addition sum (`wCompact`) for an N x (2N - 1) result from K visibilities at
/// accuracy `eps`. Both costs are in the same units (fitted to the two kernels on AVX2):
///
///     direct ~ K (4 N^2 + 90 N)                              (3N sincos, 8 N^2 flops per visibility)
///     NUFFT  ~ 4 K (2 w + 3) w + 40 G log2 G,  G = (4N)^2     (spreading w^2 values of degree w + 3; one FFT)
///
/// The same model picks the dirty-image weights' evaluation on a lattice, with the lattice's half
/// side as N and the 2K points of its two transforms. An eps outside `NUFFTAccuracy.epsRange`
/// always answers false (the direct sum is exact).
public func wCompactPrefersNUFFT(gridSize n: Int, visibilities k: Int, eps: Double) -> Bool {
    guard NUFFTAccuracy.epsRange.contains(eps) else { return false }
    let n = Double(n), k = Double(k)
    let width = Double(NUFFTAccuracy.width(eps: eps))
    let direct = k * (4 * n * n + 90 * n)
    let fine = (4 * n) * (4 * n)
    let nufft = k * 4 * (2 * width + 3) * width + 40 * fine * log2(max(fine, 2))
    return nufft < direct
}
