"""``python -m bench``: what ``bench/run`` calls once the virtualenv and PostgreSQL are ready."""

from .harness import main

raise SystemExit(main())
