"""Options shared by the whole test tree (read before any subfolder's conftest, so they work from
the repository root): ``--run-large`` runs the benchmark sizes marked ``large``."""


def pytest_addoption(parser):
    parser.addoption("--run-large", action="store_true", default=False,
                     help="also run the benchmark sizes marked `large` (small, medium and the presets)")
