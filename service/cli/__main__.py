"""`python -m service.cli ...`, as `hub ...`."""

from service.cli import app

app()
