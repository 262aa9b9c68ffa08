"""Curation: one learned suitability score, near-duplicate removal, structured captions,
and the cascade that lets cheap stages decide which shots get expensive work."""
