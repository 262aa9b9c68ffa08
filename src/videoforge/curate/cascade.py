"""Cheap before expensive: which shots get expensive work (captions, future embedders).

The Alibaba report's large/small-model collaboration: cheap metrics and the suitability
score decide where the expensive models spend their calls. The cascade only chooses what
gets expensive work, never what exists: every shot stays in the catalog, in export and in
search; skipped shots simply have no caption.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CascadePolicy:
    min_suitability: float | None = 0.3   # shots scored below this are skipped (None = no gate)
    skip_duplicates: bool = True          # shots marked duplicate_of another are skipped
    skip_unscored: bool = False           # shots without a suitability score: processed by default


@dataclass
class CascadeDecision:
    selected: list[dict] = field(default_factory=list)
    skipped_low: list[str] = field(default_factory=list)        # shot_ids below min_suitability
    skipped_duplicate: list[str] = field(default_factory=list)  # shot_ids marked as duplicates
    skipped_unscored: list[str] = field(default_factory=list)
    unscored_selected: int = 0

    @property
    def saved(self) -> int:
        """Expensive calls not made because of the cascade."""
        return len(self.skipped_low) + len(self.skipped_duplicate) + len(self.skipped_unscored)

    def summary(self) -> dict:
        return {"selected": len(self.selected), "skipped_low_suitability": len(self.skipped_low),
                "skipped_duplicates": len(self.skipped_duplicate), "skipped_unscored": len(self.skipped_unscored),
                "unscored_selected": self.unscored_selected, "calls_saved": self.saved}


def select(rows: list[dict], policy: CascadePolicy) -> CascadeDecision:
    """Split shot rows (with `shot_id`, `suitability`, `duplicate_of`) into selected and skipped.
    A duplicate is counted as a duplicate even when it is also below the threshold."""
    d = CascadeDecision()
    for r in rows:
        suit = r.get("suitability")
        if policy.skip_duplicates and r.get("duplicate_of"):
            d.skipped_duplicate.append(r["shot_id"])
        elif suit is None:
            if policy.skip_unscored:
                d.skipped_unscored.append(r["shot_id"])
            else:
                d.selected.append(r)
                d.unscored_selected += 1
        elif policy.min_suitability is not None and suit < policy.min_suitability:
            d.skipped_low.append(r["shot_id"])
        else:
            d.selected.append(r)
    return d
