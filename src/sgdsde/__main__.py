import sys

from sgdsde.cli import main

sys.exit(main())
