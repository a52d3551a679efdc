"""`python -m symmetry.cli`: the same as the `symmetry` command."""

import sys

from symmetry.cli import main

sys.exit(main())
