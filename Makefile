# swiftw's two commands: `make test` and `make bench` (README, "Develop").
PYTHON ?= python3
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PYINC := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')

.PHONY: test bench install swift-test pytest sanitize clean

# From nothing: sdist, manylinux wheel, the wheel tested on Python 3.11-3.13 without Swift, the
# sdist installed on its own, and the Swift unit tests (scripts/test.sh says each step).
test:
	bash scripts/test.sh

# Installs swiftw (both CPU builds) with the benchmark's peers (Numba, JAX, FINUFFT, ducc0), then runs the
# benchmark from the repository root, where its lab (bench/) lives.
bench:
	$(PYTHON) -m pip install --quiet '.[bench]'
	$(PYTHON) -m bench $(BENCH_ARGS)

# The quick loop while developing: one CPU build into this interpreter, then pytest.
install:
	SWIFTW_VARIANTS=x86-64-v3 $(PYTHON) -m pip install --quiet '.[test]'

pytest:
	$(PYTHON) -m pytest -q --benchmark-disable -p no:cacheprovider Tests

swift-test:
	$(SWIFT) test -Xcc -I$(PYINC)

# The Swift kernels under AddressSanitizer and ThreadSanitizer (the threaded tests run kernels on
# 4 threads). LeakSanitizer is off: XCTest's own harness keeps a few KB it never frees.
sanitize:
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test -Xcc -I$(PYINC) --sanitize=address --scratch-path .build-asan
	$(SWIFT) test -Xcc -I$(PYINC) --sanitize=thread --scratch-path .build-tsan

clean:
	rm -rf .build .build-* build dist *.egg-info
