"""Turn query results into plain JSON values: one helper for the CLI's output and the server's
responses (it lives in the library so the server does not import the CLI package)."""

from __future__ import annotations

import datetime as _dt
import decimal
import math


def jsonable(v):
    """Numbers stay numbers, NaN/inf become null, dates ISO text, bytes hex, numpy scalars Python."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if hasattr(v, "item"):  # numpy scalars
        return jsonable(v.item())
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v
