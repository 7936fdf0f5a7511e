"""``python -m bench [options]``: the benchmark tables (see `bench.harness`)."""
import sys

from .harness import main

sys.exit(main())
