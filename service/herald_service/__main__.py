"""``python -m herald_service`` is the ``herald`` command."""

from herald_service.cli import run

run()
