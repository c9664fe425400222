import sys

from ygan.cli import main

sys.exit(main())
