"""The ``exchange`` command line: one module per command group, thin over the library."""

__all__: list[str] = []
