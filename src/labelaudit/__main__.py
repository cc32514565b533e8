"""``python -m labelaudit``: the ``labelaudit`` command."""

from labelaudit.cli import main

raise SystemExit(main())
