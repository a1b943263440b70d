"""Entry point of the frozen app: the same `inkwell` command (GUI by default)."""

import sys

from desktop_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
