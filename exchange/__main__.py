"""``python -m exchange``: the same as the ``exchange`` command."""

from exchange.cli.app import main

main()
