"""`python -m autograd_lite train moons`: the same as the `autograd-lite` command."""

import sys

from autograd_lite.cli import main

sys.exit(main())
