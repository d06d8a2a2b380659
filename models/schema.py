"""Imports every model module so `Base.metadata` holds the whole schema."""

from models import (
    authority,
    catalog,
    commerce,
    data_quality,
    marketing,
    people,
    service,
    sla,
    suggestions,
    teamwork,
)
from models.base import Base

__all__ = [
    "Base",
    "authority",
    "catalog",
    "commerce",
    "data_quality",
    "marketing",
    "people",
    "service",
    "sla",
    "suggestions",
    "teamwork",
]
metadata = Base.metadata
