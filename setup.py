"""Build swiftw: compile the Swift package in release mode and install its library as the
extension module swiftw._swiftw.

Environment:
  SWIFTW_TARGET_CPU   CPU the kernels are compiled for: "native" (default; fastest, runs on
                      this machine's kind of CPU) or e.g. "haswell" (AVX2 + FMA) for a portable
                      wheel. Never leave it unset in the compiler: baseline x86-64 turns SIMD
                      multiply-adds into libm calls.
  SWIFT               the swift executable (default: `swift` on PATH, else /opt/swift/usr/bin/swift).
"""
import os
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def swift_executable() -> str:
    for candidate in (os.environ.get("SWIFT"), shutil.which("swift"), "/opt/swift/usr/bin/swift"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError("swift not found: install a Swift toolchain (6.x) or set SWIFT=/path/to/swift")


class SwiftBuild(build_ext):
    """Builds the SwiftPM dynamic library `swiftw` and copies it to the extension's path."""

    def build_extension(self, ext):
        include = sysconfig.get_paths()["include"]
        cpu = os.environ.get("SWIFTW_TARGET_CPU", "native")
        scratch = os.path.join(HERE, ".build")
        command = [
            swift_executable(), "build", "-c", "release", "--package-path", HERE,
            "--scratch-path", scratch, "--product", "swiftw",
            "-Xswiftc", "-static-stdlib",
            "-Xswiftc", "-target-cpu", "-Xswiftc", cpu,
            "-Xcc", f"-march={cpu}",
            "-Xcc", f"-I{include}",
        ]
        print(" ".join(command), file=sys.stderr)
        subprocess.run(command, check=True)
        built = os.path.join(scratch, "release", "libswiftw.so")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built, target)


setup(
    name="swiftw",
    version="0.1.0",
    description="Swift kernels for the interferometric lensing likelihood (w-tilde, curvature matrix), "
    "a drop-in for the Numba kernels",
    packages=["swiftw"],
    package_dir={"": "python"},
    ext_modules=[Extension("swiftw._swiftw", sources=[])],
    cmdclass={"build_ext": SwiftBuild},
    python_requires=">=3.9",
    install_requires=["numpy>=1.22", "scipy>=1.8"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "pytest-benchmark>=4"],
        "bench": ["numba", "jax[cpu]", "finufft", "matplotlib"],
    },
    zip_safe=False,
)
