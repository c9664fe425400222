import sys

from ygan_mobile.cli import main

sys.exit(main())
