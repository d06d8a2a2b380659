"""Application core: configuration, services, the composition root and integrations.

Nothing here imports Qt (see the import-linter contracts in pyproject.toml).
"""

__version__ = "0.1.0"
