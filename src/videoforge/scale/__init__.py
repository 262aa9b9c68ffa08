"""Scaling laws for STDiT (`videoforge scale sweep | fit | predict`).

- `grid`: which runs an iso-compute sweep trains (STDiT sizes x budgets x LR x batch);
- `sweep`: trains them resumably, scores each on one fixed validation set, appends a JSONL;
- `fit`: L(N, D) = E + A / N^alpha + B / D^beta (Chinchilla's form, Huber loss in log
  space, bootstrap intervals) and the best LR / batch as power laws of compute;
- `plot`: isoFLOP curves, the compute frontier and the residuals as PNG (Pillow only).
"""
