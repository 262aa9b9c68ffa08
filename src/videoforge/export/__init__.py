"""Export shots as training data: one clip per shot plus an Open-Sora CSV, WebDataset shards or Parquet."""

from videoforge.export.pipeline import FORMATS, ExportSummary, export_catalog
from videoforge.export.select import SelectionError

__all__ = ["FORMATS", "ExportSummary", "SelectionError", "export_catalog"]
