"""Per-shot measurements, one scorer per module, all fed by the same decode pass."""
