"""Options shared by the whole test tree (read before any subfolder's conftest, so they work from
the repository root): ``--run-large`` runs the benchmark sizes marked ``large``.

The repository root goes on sys.path so tests import the benchmark lab (`bench.reference`, the
NumPy reference, and `bench.harness`); `swiftw` itself is always the installed package."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_addoption(parser):
    parser.addoption("--run-large", action="store_true", default=False,
                     help="also run the benchmark sizes marked `large` (small, medium and the presets)")
