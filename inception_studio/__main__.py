"""``python -m inception_studio``: the command line (no arguments opens the desktop app)."""
from __future__ import annotations

if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main())
