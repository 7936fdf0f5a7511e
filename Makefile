# swiftw: the two commands a newcomer needs are `make test` and `make bench`.
PYTHON ?= python3
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PYINC := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')

.PHONY: test install swift-test pytest bench sanitize clean

# Install (builds the release Swift library), then run the Swift and the Python tests.
test: install swift-test pytest

install:
	$(PYTHON) -m pip install --quiet '.[test]'

swift-test:
	$(SWIFT) test -Xcc -I$(PYINC)

# Run from Tests/ so that `import swiftw` is the installed package, not the source tree.
pytest:
	$(PYTHON) -m pytest -q --benchmark-disable -p no:cacheprovider Tests

bench:
	$(PYTHON) -m pip install --quiet .
	$(PYTHON) -m bench

# The Swift kernels under AddressSanitizer and ThreadSanitizer (the threaded tests run kernels on
# 4 threads). LeakSanitizer is off: XCTest's own harness keeps a few KB it never frees.
sanitize:
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test -Xcc -I$(PYINC) --sanitize=address --scratch-path /tmp/swiftw-build-asan
	$(SWIFT) test -Xcc -I$(PYINC) --sanitize=thread --scratch-path /tmp/swiftw-build-tsan

clean:
	rm -rf .build .build-asan .build-tsan build *.egg-info
