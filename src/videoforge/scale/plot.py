"""isoFLOP curves, the compute frontier and the fit's residuals as PNG, drawn with Pillow
(the project has no plotting library; three scatter/line charts do not need one)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127)]


class Chart:
    """x/y axes (log or linear) on a 640 x 440 canvas; add points and lines in data units."""

    def __init__(self, title, xlabel, ylabel, xs, ys, logx=True, logy=False, size=(640, 440)):
        self.img = Image.new("RGB", size, "white")
        self.d = ImageDraw.Draw(self.img)
        self.logx, self.logy = logx, logy
        self.box = (70, 40, size[0] - 20, size[1] - 50)
        xv = [self._f(v, logx) for v in xs if np.isfinite(v) and (v > 0 or not logx)]
        yv = [self._f(v, logy) for v in ys if np.isfinite(v) and (v > 0 or not logy)]
        self.x0, self.x1 = self._pad(min(xv), max(xv))
        self.y0, self.y1 = self._pad(min(yv), max(yv))
        l, t, r, b = self.box
        self.d.rectangle(self.box, outline="black")
        self.d.text((l, 12), title, fill="black")
        self.d.text(((l + r) // 2 - 40, b + 30), xlabel, fill="black")
        self.d.text((4, t - 30), ylabel, fill="black")
        for i in range(5):
            xv_ = self.x0 + (self.x1 - self.x0) * i / 4
            yv_ = self.y0 + (self.y1 - self.y0) * i / 4
            px, py = self._px(xv_, self.y0)
            self.d.line([(px, b), (px, b + 4)], fill="black")
            self.d.text((px - 20, b + 8), self._fmt(xv_, logx), fill="black")
            px, py = self._px(self.x0, yv_)
            self.d.line([(l - 4, py), (l, py)], fill="black")
            self.d.text((4, py - 6), self._fmt(yv_, logy), fill="black")
        self.legend_y = t + 6

    @staticmethod
    def _f(v, log):
        return math.log10(v) if log else float(v)

    @staticmethod
    def _pad(lo, hi):
        span = hi - lo or abs(lo) * 0.1 or 1.0
        return lo - 0.06 * span, hi + 0.06 * span

    @staticmethod
    def _fmt(v, log):
        x = 10 ** v if log else v
        return f"{x:.3g}"

    def _px(self, fx, fy):
        l, t, r, b = self.box
        return (l + (fx - self.x0) / (self.x1 - self.x0) * (r - l), b - (fy - self.y0) / (self.y1 - self.y0) * (b - t))

    def _ok(self, x, y):
        return np.isfinite(x) and np.isfinite(y) and (x > 0 or not self.logx) and (y > 0 or not self.logy)

    def points(self, xs, ys, colour, r=4, label=None):
        for x, y in zip(xs, ys):
            if self._ok(x, y):
                px, py = self._px(self._f(x, self.logx), self._f(y, self.logy))
                self.d.ellipse([px - r, py - r, px + r, py + r], outline=colour, width=2)
        self._legend(label, colour)

    def line(self, xs, ys, colour, label=None, width=2):
        pts = [self._px(self._f(x, self.logx), self._f(y, self.logy)) for x, y in zip(xs, ys) if self._ok(x, y)]
        l, t, r, b = self.box
        pts = [(min(max(px, l), r), min(max(py, t), b)) for px, py in pts]
        if len(pts) > 1:
            self.d.line(pts, fill=colour, width=width)
        self._legend(label, colour)

    def _legend(self, label, colour):
        if label:
            r = self.box[2]
            self.d.rectangle([r - 150, self.legend_y + 2, r - 142, self.legend_y + 10], fill=colour)
            self.d.text((r - 138, self.legend_y), label, fill="black")
            self.legend_y += 14

    def save(self, path):
        self.img.save(path)


def plot_all(runs: list[dict], fit: dict, out_dir: str) -> list[str]:
    """isoflop.png, frontier.png and residuals.png in out_dir; returns their paths."""
    import os

    from videoforge.scale.fit import LawFit, kappa_for, optimal_size

    law = LawFit.from_dict(fit["law"])
    kappas = fit["kappa"]
    N = np.array([r["params"] for r in runs], float)
    L = np.array([r["val_loss"] for r in runs], float)
    budgets = sorted({r["budget"] for r in runs})
    paths = []

    # isoFLOP: best (over LR x batch) loss per size at each budget, with the fit's curve
    ng = np.exp(np.linspace(np.log(N.min() / 1.5), np.log(N.max() * 1.5), 60))
    curves = {b: law.predict(ng, [b / (kappa_for(kappas, n) * n) for n in ng]) for b in budgets}
    allL = np.concatenate([L, *curves.values()])
    ch = Chart("isoFLOP curves: validation loss vs model size (points: best LR x batch)", "N (block params)",
               "val loss", list(ng), list(allL[np.isfinite(allL)]), logx=True, logy=True)
    for i, b in enumerate(budgets):
        col = COLOURS[i % len(COLOURS)]
        best = {}
        for r in runs:
            if r["budget"] == b and (r["params"] not in best or r["val_loss"] < best[r["params"]]):
                best[r["params"]] = r["val_loss"]
        ks = sorted(best)
        ch.points(ks, [best[k] for k in ks], col, label=f"C={b:.2g}")
        ch.line(ng, curves[b], col)
    paths.append(os.path.join(out_dir, "isoflop.png"))
    ch.save(paths[-1])

    # frontier: compute-optimal N from the fit, and each budget's best run
    cg = np.exp(np.linspace(np.log(min(budgets) / 3), np.log(max(budgets) * 30), 40))
    nopt = [optimal_size(law, kappas, c)[0] for c in cg]
    bp = fit["best_per_budget"]
    ch = Chart("compute frontier: loss-optimal N vs compute", "C (FLOPs)", "N (block params)",
               list(cg), nopt + [b["params"] for b in bp], logx=True, logy=True)
    ch.line(cg, nopt, COLOURS[0], label="fit: argmin_N L")
    ch.points([b["flops"] for b in bp], [b["params"] for b in bp], COLOURS[1], label="best run")
    paths.append(os.path.join(out_dir, "frontier.png"))
    ch.save(paths[-1])

    # residuals: (measured - fitted) / fitted per run against compute
    C = np.array([r["flops"] for r in runs], float)
    res = L / law.predict(N, [r["tokens"] for r in runs]) - 1
    ch = Chart("fit residuals: measured / fitted - 1", "C (FLOPs)", "relative residual", list(C), list(res) + [0.0],
               logx=True, logy=False)
    ch.line([C.min(), C.max()], [0, 0], (0, 0, 0), width=1)
    for i, b in enumerate(budgets):
        m = np.array([r["budget"] == b for r in runs])
        ch.points(C[m], res[m], COLOURS[i % len(COLOURS)], label=f"C={b:.2g}")
    paths.append(os.path.join(out_dir, "residuals.png"))
    ch.save(paths[-1])
    return paths
