"""Small hand-made catalogs for the search tests (see videoforge.search.testing.build_catalog)."""

from videoforge.search.testing import build_catalog as hand_catalog

__all__ = ["hand_catalog"]
