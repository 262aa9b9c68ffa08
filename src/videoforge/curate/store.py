"""Bulk writes of curation columns: one transaction, one set-based UPDATE (fast at millions of rows)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from videoforge.catalog import Catalog
from videoforge.catalog.commit import revalidate
from videoforge.catalog.transaction import transaction


def write_shot_columns(catalog: Catalog, shot_ids: Sequence[str], columns: dict[str, Sequence]) -> int:
    """Set `columns` (name -> values aligned with shot_ids) on those shots; returns rows given."""
    if not shot_ids:
        return 0
    data = {"shot_id": pa.array(list(shot_ids), pa.string())}
    for name, vals in columns.items():
        data[name] = pa.array(list(vals))
    table = pa.table(data)
    sets = ", ".join(f"{c} = n.{c}" for c in columns)
    with catalog.write() as con:
        con.register("vf_new_values", table)   # zero-copy view of the Arrow table
        try:
            with transaction(con):
                con.execute(f"UPDATE shots SET {sets} FROM vf_new_values n WHERE shots.shot_id = n.shot_id")
                revalidate(con, list(columns), "vf_new_values")   # freshly written: no longer stale
        finally:
            con.unregister("vf_new_values")
    return len(shot_ids)


def ensure_schema(catalog: Catalog) -> None:
    """Bring an existing catalog's schema forward (adds the curation columns to old catalogs)."""
    from videoforge.catalog.store import CatalogError, migrate

    if not catalog.exists():
        raise CatalogError(f"{catalog.root}: no catalog here (run `videoforge run INPUT --catalog {catalog.root}` first)")
    with catalog.write() as con:
        migrate(con)
