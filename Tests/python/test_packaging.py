"""The installed package: its CPU variants, `show_config`, and what the wheel carries.

The variant tests run each build in a child process (a process loads one build of the kernels),
on inputs drawn here, and compare the numbers. When CI tests the repaired wheel it sets
SWIFTW_WHEEL to its path, and the wheel's own checks run too.
"""
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import swiftw
from swiftw import _cpu
from conftest import make_problem

VARIANTS = list(_cpu.VARIANTS)
FEATURES = _cpu.cpu_features()
RUNNABLE = [v for v in _cpu.built_variants() if not _cpu._missing(v, FEATURES)]


def test_show_config_reports_the_loaded_build():
    config = swiftw.show_config()
    assert config["version"] == swiftw.__version__ == importlib.metadata.version("swiftw")
    assert config["cpu_variant"] in config["cpu_variants_built"]
    assert config["cpu_variant"] == RUNNABLE[-1]  # the best this CPU runs, SWIFTW_CPU unset
    assert set(config["cpu_features"]) >= set(_cpu.VARIANTS[config["cpu_variant"]])
    assert config["num_threads"] == swiftw.get_num_threads()
    assert config["python"] == sys.version.split()[0]


V3_CPU = dict.fromkeys(_cpu.VARIANTS["x86-64-v3"], True)
V4_CPU = dict.fromkeys(_cpu.VARIANTS["x86-64-v4"], True)


@pytest.mark.parametrize(
    "requested, features, built, expected",
    [
        (None, V4_CPU, VARIANTS, "x86-64-v4"),
        (None, V3_CPU, VARIANTS, "x86-64-v3"),
        (None, V4_CPU, ["x86-64-v3"], "x86-64-v3"),
        ("x86-64-v3", V4_CPU, VARIANTS, "x86-64-v3"),
        ("x86-64-v4", V4_CPU, VARIANTS, "x86-64-v4"),
    ],
)
def test_choose_picks_the_best_runnable_or_the_requested_build(requested, features, built, expected):
    assert _cpu.choose(requested, features, built) == expected


@pytest.mark.parametrize(
    "requested, features, built, message",
    [
        ("x86-64-v4", V3_CPU, VARIANTS, r"SWIFTW_CPU=x86-64-v4: this CPU .* lacks avx512f, avx512bw"),
        ("x86-64-v2", V4_CPU, VARIANTS, r"SWIFTW_CPU must be one of x86-64-v3, x86-64-v4, got 'x86-64-v2'"),
        ("x86-64-v4", V4_CPU, ["x86-64-v3"], r"has no x86-64-v4 build \(it has: x86-64-v3\)"),
        (None, {"avx": True}, VARIANTS, r"needs an x86-64-v3 CPU at least .* lacks avx2, bmi1, bmi2, f16c, fma"),
        (None, V4_CPU, [], r"compiled kernels are missing"),
    ],
)
def test_choose_says_why_it_cannot(requested, features, built, message):
    with pytest.raises(ImportError, match=message):
        _cpu.choose(requested, features, built)


def _child(env_cpu, *code):
    env = {**os.environ, "SWIFTW_CPU": env_cpu, "SWIFTW_NUM_THREADS": "2"}
    return subprocess.run([sys.executable, "-c", "\n".join(code)], env=env, capture_output=True, text=True,
                          timeout=300)


def test_forcing_a_build_the_cpu_lacks_is_an_import_error():
    missing = [v for v in _cpu.built_variants() if _cpu._missing(v, FEATURES)]
    if not missing:
        pytest.skip("this CPU runs every variant built; the refusal is checked by test_choose_says_why_it_cannot")
    result = _child(missing[0], "import swiftw")
    assert result.returncode != 0
    assert f"ImportError: SWIFTW_CPU={missing[0]}: this CPU" in result.stderr


_KERNELS = (
    "import numpy as np, swiftw",
    "p = dict(np.load({path!r}))",
    "assert swiftw.show_config()['cpu_variant'] == {variant!r}",
    "wc = swiftw.w_compact_curvature_interferometer_from(int(p['n']), p['sigma'], p['uv'], float(p['ps']))",
    "f = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p['native'], p['idx'], p['w'], int(p['s']))",
    "wd = swiftw.w_tilde_data_interferometer_from(p['vis'], p['sigma'], p['uv'], p['grid'])",
    "wt = swiftw.w_tilde_curvature_interferometer_from(p['sigma'], p['uv'], p['grid'])",
    "out = p['grid'][:, 0].copy(); swiftw.fma(out, [0.5, -2.0], p['grid'][:, 1], wd)",
    "np.savez({result!r}, wc=wc, f=f, wd=wd, wt=wt, out=out)",
)


def test_every_runnable_build_gives_the_same_numbers(rng, tmp_path):
    if len(RUNNABLE) < 2:
        pytest.skip(f"this CPU runs only {RUNNABLE}: the builds can be compared on a CPU with AVX-512")
    p = make_problem(rng)
    path = tmp_path / "inputs.npz"
    np.savez(path, n=p.N, sigma=p.sigma, uv=p.uv, ps=p.pixel_scale, native=p.native, idx=p.idx, w=p.wts, s=p.S,
             vis=p.visibilities_real, grid=p.grid)
    results = {}
    for variant in RUNNABLE:
        result = tmp_path / f"{variant}.npz"
        code = [line.format(path=str(path), variant=variant, result=str(result)) for line in _KERNELS]
        done = _child(variant, *code)
        assert done.returncode == 0, done.stderr
        results[variant] = dict(np.load(result))
    first, *others = RUNNABLE
    for variant in others:
        for name, value in results[first].items():
            scale = np.abs(value).max()
            np.testing.assert_allclose(results[variant][name], value, rtol=0, atol=1e-12 * scale,
                                       err_msg=f"{name}: {variant} against {first}")


def _disassembly(path):
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("objdump (binutils) is not installed")
    return subprocess.run([objdump, "-d", "--no-show-raw-insn", path], capture_output=True, text=True,
                          check=True).stdout


def _variant_path(variant):
    path = _cpu._path(variant)
    if not path:
        pytest.skip(f"this installation has no {variant} build (SWIFTW_VARIANTS at build time)")
    return path


def test_each_build_uses_its_cpu_s_vector_width():
    v4 = _disassembly(_variant_path("x86-64-v4"))
    v3 = _disassembly(_variant_path("x86-64-v3"))
    fma_zmm = re.compile(r"vfmadd\w+\s.*%zmm")  # AT&T operand order: the memory operand may come first
    fma_ymm = re.compile(r"vfmadd\w+\s.*%ymm")
    assert len(fma_zmm.findall(v4)) > 20, "the x86-64-v4 build has no 512-bit FMAs"
    assert "%zmm" not in v3, "the x86-64-v3 build uses AVX-512 registers"
    assert len(fma_ymm.findall(v3)) > 20, "the x86-64-v3 build has no 256-bit FMAs"
    for build in (v3, v4):
        # The statically linked Swift runtime has generic code that calls fma(); the kernels must not.
        kernels = [f for f in re.split(r"\n(?=[0-9a-f]+ <)", build) if "12SwiftKernels" in f.split(">:", 1)[0]]
        assert kernels, "no SwiftKernels functions found in the disassembly"
        calls = [f.split(">:", 1)[0] for f in kernels if re.search(r"call\s+\S+\s+<fma(@plt)?>", f)]
        assert not calls, f"kernels call libm's fma(): {calls[:3]}"


def _needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


@pytest.mark.parametrize("variant", VARIANTS)
def test_builds_need_no_swift_runtime(variant):
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    needed = _needed(_variant_path(variant))
    allowed = re.compile(r"(lib(c|m|stdc\+\+|gcc_s|pthread|dl|rt)\.so\.\d+|ld-linux-x86-64\.so\.2)$")
    assert needed and all(allowed.match(lib) for lib in needed), needed


WHEEL = os.environ.get("SWIFTW_WHEEL")


@pytest.mark.skipif(not WHEEL, reason="set SWIFTW_WHEEL to the wheel under test (CI does)")
def test_the_wheel_is_manylinux_abi3_with_every_variant_and_runs_without_swift():
    name = os.path.basename(WHEEL)
    assert re.fullmatch(r"swiftw-[\w.]+-cp311-abi3-manylinux_\d+_\d+_x86_64(\.manylinux\w+)*\.whl", name), name
    files = zipfile.ZipFile(WHEEL).namelist()
    for variant in VARIANTS:
        stem = "swiftw/_swiftw_" + variant.replace("-", "_")
        assert f"{stem}.abi3.so" in files, (variant, files)
    assert not any(f.startswith(("bench/", "swiftw/peers", "swiftw/bench")) for f in files), files
    assert "swiftw/py.typed" in files
    assert shutil.which("swift") is None, "the wheel is tested with no Swift toolchain on PATH"
    assert swiftw.show_config()["cpu_variants_built"] == VARIANTS
    # CI builds the wheel with jax present, so it carries the XLA FFI handlers of swiftw.jax.
    assert sorted(swiftw._swiftw.xla_ffi_handlers()) == ["swiftw_curvature_matrix", "swiftw_curvature_matrix_vjp",
                                                          "swiftw_log_det_regularization", "swiftw_positive_only"]


def test_the_stub_lists_every_function_of_the_extension():
    stub = open(os.path.join(os.path.dirname(swiftw.__file__), "_swiftw.pyi")).read()
    stubbed = set(re.findall(r"^def (\w+)", stub, re.M)) | set(re.findall(r"^(\w+): ", stub, re.M))
    names = {n for n in dir(swiftw._swiftw) if not n.startswith("__")}
    assert names == stubbed, (sorted(names - stubbed), sorted(stubbed - names))
