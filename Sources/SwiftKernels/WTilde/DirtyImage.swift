/// The noise-weighted dirty image on lattice pixels, by type-1 non-uniform FFTs.
///
///     out[i] = sum_k (Re d_k / Re sigma_k^2) cos(2 pi (x_i u_k + y_i v_k)) - (Im d_k / Im sigma_k^2) sin(2 pi (x_i u_k + y_i v_k))
///
/// i.e. `Re sum_k z_k exp(2 pi i (x_i u_k + y_i v_k))` with `z_k = Re d_k / (Re sigma_k)^2 +
/// i Im d_k / (Im sigma_k)^2`: the adjoint of the forward model `sum_i image_i exp(-2 pi i (x_i u + y_i v))`
/// applied to the data over the noise squared, so that `T^T out` is the data vector that pairs with
/// `F = T^T W T` (PyAutoArray's `transformer.image_from(data.real / noise.real^2 + 1j data.imag / noise.imag^2)`).
/// `data` and `noise` are (K, 2) of (real, imaginary). `latticeSumNUFFT` evaluates it: accuracy
/// about eps sum |z|, cost O(K (w + degree)) twice + two FFTs of the fine grid.
public func dirtyImageNUFFT(data: UnsafeBufferPointer<Double>, noise: UnsafeBufferPointer<Double>,
                            uv: UnsafeBufferPointer<Double>, lattice: LatticeSum, out: UnsafeMutableBufferPointer<Double>) {
    latticeSumNUFFT(points: uv.count / 2, uv: uv, lattice, out: out) { k in
        let sr = noise[2 * k], si = noise[2 * k + 1]
        return (data[2 * k] / (sr * sr), data[2 * k + 1] / (si * si))
    }
}
