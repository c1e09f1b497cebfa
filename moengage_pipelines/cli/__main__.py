"""``python -m moengage_pipelines.cli``: the same command as ``moengage-pipelines``."""

import sys

from moengage_pipelines.cli import main

sys.exit(main())
