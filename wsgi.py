"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

import gc

from eventreg import create_app

app = create_app()
# What the app built to start (mappers, templates, catalogues: about 186,000 objects) lives as
# long as the worker: kept out of the collector's full passes, each of which walked all of it
# (a pause of about 0.1 s every few thousand requests; bench/findings.md).
gc.collect()
gc.freeze()
