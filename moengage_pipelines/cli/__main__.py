import sys

from moengage_pipelines.cli import main

sys.exit(main())
