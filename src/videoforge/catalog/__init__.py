"""The embedded catalog: one DuckDB file (plus keyframe JPEGs) in a folder the user can copy."""

from videoforge.catalog.store import Catalog, CatalogError

__all__ = ["Catalog", "CatalogError"]
