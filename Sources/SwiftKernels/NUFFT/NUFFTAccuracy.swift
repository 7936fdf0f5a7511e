import Glibc

/// What the type-1 NUFFT can deliver and what it needs, owned here and exported through the bridge
/// (`_swiftw.limits()`) for the Python plan maker (swiftw/_nufft.py) and the options' checks.
///
/// The kernel's width follows the accuracy: `w = ceil(log10(1/eps)) + 1` grid points, clamped to
/// [2, 16] (16 lanes of `SpreadKernel`). Below eps = 1e-14 rounding in the sums dominates; above
/// 1e-1 the kernel is too narrow to mean anything.
public enum NUFFTAccuracy {
    public static let epsRange: ClosedRange<Double> = 1e-14...1e-1
    public static let widthRange: ClosedRange<Int> = 2...16
    /// The most modes a side of a plan (the fine grid is about 4 times that a side).
    public static let maximumModes = 1 << 14
    /// Scratch of a NUFFT, in fine grids: one per thread beyond the first (each spreads its own
    /// points), plus the first thread's grid and the spectrum.
    public static let fineGridsPerThread = 1, fineGridsFixed = 2

    /// The spreading kernel's width for accuracy `eps` (in `epsRange`).
    public static func width(eps: Double) -> Int {
        min(widthRange.upperBound, max(widthRange.lowerBound, Int((log10(1 / eps)).rounded(.up)) + 1))
    }
}
