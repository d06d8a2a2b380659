"""Writes as operations: a service call and the `Changes` record it made.

In the spirit of Anki's `CollectionOp`: the UI runs an operation on the bridge's
worker (`DatabaseBridge.perform`), which publishes the returned `Changes` so every
view showing those entities refreshes, and hands the value back to the caller. Who
acts is not an argument: the services were built with the agent (`services.agent`,
app/agent.py) and record it themselves.

Operations are plain functions of `Services` (no Qt): the tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from app.changes import Changes

T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """What an operation returns: its value and what it changed."""

    value: T
    changes: Changes
