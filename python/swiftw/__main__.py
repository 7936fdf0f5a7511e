"""Command line: ``python -m swiftw bench [options]`` (see `swiftw.bench`)."""
from __future__ import annotations

import sys

USAGE = "usage: python -m swiftw bench [--size SIZE] [--threads 1|all|both] [--json FILE] [--plot FILE] [--only GROUP]"


def main(argv: list[str] | None = None) -> int:
    """Dispatch the sub-command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "bench":
        from .bench import main as bench_main

        return bench_main(argv[1:])
    print(f"unknown command {argv[0]!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
