// swift-tools-version:5.9
// swiftw: Swift kernels for the interferometric lensing likelihood, exported to CPython.
//
// One dynamic library holds the C shim (CPython), the C-ABI bridge (PyBridge) and the kernels
// (SwiftKernels). setup.py builds it with the interpreter's headers (-Xcc -I<include>) and
// installs it as swiftw/_swiftw<EXT_SUFFIX>. No third-party packages.
import PackageDescription

let package = Package(
    name: "swiftw",
    products: [
        .library(name: "swiftw", type: .dynamic, targets: ["CPython", "PyBridge", "SwiftKernels"]),
    ],
    targets: [
        // Pure numerics on unsafe buffers; knows nothing of Python.
        // Each area folder has a README of its conventions and words (not sources).
        .target(name: "SwiftKernels", dependencies: ["SwiftwABI"],
                exclude: ["Curvature", "FFT", "Inversion", "NUFFT", "Numerics", "Runtime", "WTilde", "WeightedSum"]
                    .map { "\($0)/README.md" },
                swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        // The array/status structs shared by the C shim and the Swift bridge, and the interrupt flag.
        .target(name: "SwiftwABI"),
        // @_cdecl entry points: validate arguments, call kernels, report status codes.
        .target(name: "PyBridge", dependencies: ["SwiftKernels", "SwiftwABI"]),
        // CPython module: buffers in, GIL released, status codes mapped to exceptions.
        .target(name: "CPython", dependencies: ["SwiftwABI"]),
        .testTarget(name: "SwiftKernelsTests", dependencies: ["SwiftKernels"]),
    ]
)
