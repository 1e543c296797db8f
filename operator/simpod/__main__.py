import sys

from simpod.cli import main

sys.exit(main())
