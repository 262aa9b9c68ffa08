"""User labels for `train-scorer`: a CSV naming shots and how suitable they are.

Columns: `label` (0/1, or a 1-5 score) and either `shot_id`, or `path` with optional
`start_frame`/`end_frame` (inclusive; without them every shot of that video gets the
label). A frame range labels the shots it covers for at least half of their length.
Relative paths are tried against the CSV's folder, then the working directory, then by
file name when that is unique in the catalog.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass


class LabelError(ValueError):
    """The labels file cannot be used; the message names the file, line and problem."""


@dataclass
class LabelledShots:
    shot_ids: list[str]
    labels: list[float]
    unmatched: list[str]       # "file:line: why" for rows that matched no shot


def _float(v: str | None, where: str, name: str) -> float | None:
    if v is None or str(v).strip() == "":
        return None
    try:
        return float(v)
    except ValueError:
        raise LabelError(f"{where}: {name} {v!r} is not a number") from None


def read_labels(csv_path: str, catalog) -> LabelledShots:
    """Resolve every labelled row to catalog shots; a shot labelled twice keeps the last label."""
    if not os.path.exists(csv_path):
        raise LabelError(f"{csv_path}: no such labels file")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = set(reader.fieldnames or [])
        if "label" not in fields or not ({"shot_id", "path"} & fields):
            raise LabelError(f"{csv_path}: needs a 'label' column and a 'shot_id' or 'path' column "
                             f"(found: {', '.join(sorted(fields)) or 'nothing'})")
        rows = list(reader)
    shots = catalog.query_dicts(
        "SELECT s.shot_id, s.start_frame, s.end_frame, v.path FROM shots s JOIN videos v USING (video_id)")
    by_id = {s["shot_id"]: s for s in shots}
    by_path: dict[str, list[dict]] = {}
    by_name: dict[str, set[str]] = {}
    for s in shots:
        by_path.setdefault(os.path.abspath(s["path"]), []).append(s)
        by_name.setdefault(os.path.basename(s["path"]), set()).add(os.path.abspath(s["path"]))
    base = os.path.dirname(os.path.abspath(csv_path))

    def resolve(p: str) -> str | None:
        for cand in (p if os.path.isabs(p) else os.path.join(base, p), os.path.abspath(p)):
            if os.path.abspath(cand) in by_path:
                return os.path.abspath(cand)
        names = by_name.get(os.path.basename(p), set())
        return next(iter(names)) if len(names) == 1 else None

    got: dict[str, float] = {}
    unmatched: list[str] = []
    for i, r in enumerate(rows, start=2):
        where = f"{csv_path}:{i}"
        label = _float(r.get("label"), where, "label")
        if label is None:
            raise LabelError(f"{where}: empty label")
        sid = (r.get("shot_id") or "").strip()
        if sid:
            if sid in by_id:
                got[sid] = label
            else:
                unmatched.append(f"{where}: shot_id {sid} is not in the catalog")
            continue
        p = (r.get("path") or "").strip()
        if not p:
            raise LabelError(f"{where}: neither shot_id nor path given")
        vp = resolve(p)
        if vp is None:
            unmatched.append(f"{where}: {p} is not a video in the catalog")
            continue
        a, b = _float(r.get("start_frame"), where, "start_frame"), _float(r.get("end_frame"), where, "end_frame")
        hit = False
        for s in by_path[vp]:
            if a is None and b is None:
                hit = True
                got[s["shot_id"]] = label
                continue
            lo, hi = a if a is not None else -1e18, b if b is not None else 1e18
            overlap = min(hi, s["end_frame"]) - max(lo, s["start_frame"]) + 1
            if overlap >= 0.5 * (s["end_frame"] - s["start_frame"] + 1):
                hit = True
                got[s["shot_id"]] = label
        if not hit:
            unmatched.append(f"{where}: no shot of {p} lies mostly inside frames {a}-{b}")
    return LabelledShots(list(got), list(got.values()), unmatched)
