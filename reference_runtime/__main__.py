import sys

from reference_runtime.cli import main

sys.exit(main())
