"""The fuzz suite: property-based tests (hypothesis) over every entry point.

Quick by default, so every CI run has it; `RAPPORT_FUZZ=large` runs many more
examples (e.g. `RAPPORT_FUZZ=large .venv/bin/pytest tests/fuzz`).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples every run: a red CI is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "large",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("large" if os.environ.get("RAPPORT_FUZZ") == "large" else "ci")
