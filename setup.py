"""Build swiftw's native parts; the metadata lives in pyproject.toml.

The Swift package (Package.swift) is compiled once per CPU variant into a CPython extension on
the stable ABI, `swiftw/_swiftw_<variant>.abi3.so`; at import the package loads the one this CPU
runs best (python/swiftw/_cpu.py). A small C extension, `swiftw._cpu_features`, reports the CPU's
features for that choice. The Swift runtime is linked in (`-static-stdlib`), so the installed
package needs no Swift toolchain.

Environment:
  SWIFTW_VARIANTS  comma-separated variants to build (default: all of VARIANTS below); building
                   one is quicker while developing.
  SWIFT            the swift executable (default: `swift` on PATH, else /opt/swift/usr/bin/swift).
"""
import os
import platform
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))

# Variant name -> the CPU the compiler targets. Each needs a named CPU: with none, swiftc targets
# baseline x86-64 and turns every SIMD multiply-add into a call of libm's fma().
VARIANTS = {"x86-64-v3": "haswell", "x86-64-v4": "skylake-avx512"}


def module_name(variant: str) -> str:
    return "swiftw._swiftw_" + variant.replace("-", "_")


def requested_variants() -> list[str]:
    names = [v.strip() for v in os.environ.get("SWIFTW_VARIANTS", ",".join(VARIANTS)).split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        raise SystemExit(f"SWIFTW_VARIANTS: expected a comma-separated subset of {list(VARIANTS)}, got {unknown or names}")
    return names


def swift_executable() -> str:
    for candidate in (os.environ.get("SWIFT"), shutil.which("swift"), "/opt/swift/usr/bin/swift"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise SystemExit("swift not found: building swiftw from source needs a Swift toolchain (6.x); "
                     "install one or set SWIFT=/path/to/swift")


def xla_ffi_include() -> list[str]:
    """jaxlib's C API header, when jax is importable here: the XLA FFI handlers build against it."""
    try:
        import jax.ffi  # noqa: PLC0415
    except Exception:  # jax is an optional extra; without it the handlers are left out
        return []
    return ["-Xcc", f"-I{jax.ffi.include_dir()}"]


class SwiftBuild(build_ext):
    """Builds the SwiftPM library `swiftw` for each variant and copies it to that extension's path;
    ordinary C extensions (the CPU probe) go through setuptools."""

    def build_extension(self, ext):
        variant = next((v for v in VARIANTS if module_name(v) == ext.name), None)
        if variant is None:
            return super().build_extension(ext)
        cpu = VARIANTS[variant]
        scratch = os.path.join(HERE, f".build-{variant}")
        command = [
            swift_executable(), "build", "-c", "release", "--package-path", HERE,
            "--scratch-path", scratch, "--product", "swiftw",
            "-Xswiftc", "-static-stdlib",
            "-Xswiftc", "-target-cpu", "-Xswiftc", cpu,
            "-Xcc", f"-march={cpu}",
            "-Xcc", f"-I{sysconfig.get_paths()['include']}",
            *xla_ffi_include(),
        ]
        print(" ".join(command), file=sys.stderr)
        subprocess.run(command, check=True)
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(scratch, "release", "libswiftw.so"), target)


if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
    raise SystemExit(f"swiftw builds on Linux x86-64 only today (this is {platform.system()} {platform.machine()}); "
                     "see README, 'Not supported'")

setup(
    ext_modules=[
        # It calls nothing in libc, but auditwheel recognises an extension's libc by its NEEDED entry.
        Extension("swiftw._cpu_features", sources=["Sources/CPUFeatures/cpu_features.c"],
                  extra_link_args=["-Wl,--no-as-needed", "-lc"], py_limited_api=True),
        *(Extension(module_name(v), sources=[], py_limited_api=True) for v in requested_variants()),
    ],
    cmdclass={"build_ext": SwiftBuild},
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
