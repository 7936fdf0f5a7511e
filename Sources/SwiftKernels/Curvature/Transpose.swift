/// The 4 x 4 transpose of the rows `v0 ... v3`: element t of the result is
/// `(v0[t], v1[t], v2[t], v3[t])`. Written as pairs of 2-lane halves so that it compiles to
/// eight register shuffles (unpack, then swap 128-bit halves); building each column from four
/// scalar lanes instead compiles to scalar inserts and reloads.
@inline(__always)
func transposed(_ v0: SIMD4<Double>, _ v1: SIMD4<Double>, _ v2: SIMD4<Double>, _ v3: SIMD4<Double>)
    -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
    // t0 = (v0[0], v1[0], v0[2], v1[2]) ... : the 2 x 2 transposes within each half.
    let t0 = SIMD4(v0[0], v1[0], v0[2], v1[2]), t1 = SIMD4(v0[1], v1[1], v0[3], v1[3])
    let t2 = SIMD4(v2[0], v3[0], v2[2], v3[2]), t3 = SIMD4(v2[1], v3[1], v2[3], v3[3])
    return (SIMD4(lowHalf: t0.lowHalf, highHalf: t2.lowHalf), SIMD4(lowHalf: t1.lowHalf, highHalf: t3.lowHalf),
            SIMD4(lowHalf: t0.highHalf, highHalf: t2.highHalf), SIMD4(lowHalf: t1.highHalf, highHalf: t3.highHalf))
}
