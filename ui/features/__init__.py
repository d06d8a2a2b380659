"""One folder per feature: its controller, widgets and item models.

A feature never imports another feature (lint-imports keeps it so): the shell wires
them together through their signals.
"""
