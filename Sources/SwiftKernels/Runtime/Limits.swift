/// Every limit and scratch size the Python layer needs to refuse a call up front, by name, read
/// from the constants of the code that owns it (exported as `_swiftw.limits()`), so that no number
/// is copied into Python.
public enum Limits {
    /// (name, value) pairs; the names are those of the Python dict.
    public static var all: [(String, Double)] {
        [
            ("max_threads", Double(Threads.maximum)),
            ("nufft_eps_min", NUFFTAccuracy.epsRange.lowerBound),
            ("nufft_eps_max", NUFFTAccuracy.epsRange.upperBound),
            ("nufft_max_modes", Double(NUFFTAccuracy.maximumModes)),
            ("nufft_width_min", Double(NUFFTAccuracy.widthRange.lowerBound)),
            ("nufft_width_max", Double(NUFFTAccuracy.widthRange.upperBound)),
            ("nufft_fine_grids_per_thread", Double(NUFFTAccuracy.fineGridsPerThread)),
            ("nufft_fine_grids_fixed", Double(NUFFTAccuracy.fineGridsFixed)),
            ("cosine_grid_accumulators_per_thread", Double(CosineGrid.accumulatorsPerThread)),
            ("curvature_scratch_per_output", CurvatureBlocks.scratchPerOutput),
        ]
    }
}
