"""Scaling laws (#21): the sweep trains a tiny grid resumably on a fixed validation set; the fit
recovers known exponents from synthetic losses; predict gives an interval and a recommendation."""

import csv
import json
import math
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from videoforge.synth import shapes  # noqa: E402

torch.set_num_threads(1)

AE = {"base_channels": 8, "channel_mult": [1, 2, 2], "spatial_down": [True, False], "temporal_down": [True, True],
      "patch_size": 2, "latent_channels": 4}


def _export(root, n=14, frames=9, size=32):
    clips = shapes.sample_clips(1, seed=3)[:n]
    paths = shapes.write_clips(clips, os.path.join(root, "clips"), frames=frames, size=size, fps=8.0)
    man = os.path.join(root, "manifest.csv")
    with open(man, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "text", "num_frames", "height", "width", "fps", "motion", "source_path"])
        for p, c in zip(paths, clips):
            w.writerow([os.path.relpath(p, root), c.caption, frames, size, size, 8.0, c.travel * 4, p])
    return man


@pytest.fixture(scope="module")
def sweep_setup(tmp_path_factory):
    from videoforge.train.config import DataConfig, TrainConfig
    from videoforge.train.loop import train

    root = str(tmp_path_factory.mktemp("scale"))
    man = _export(root)
    ae = train(TrainConfig(task="autoencoder", out_dir=os.path.join(root, "ae"), steps=2, batch_size=2, lr=1e-3,
                           warmup_steps=1, ema_decay=0, autoencoder=dict(AE),
                           data=DataConfig(manifest=man, buckets=[[9, 32, 32]], metrics=["motion"])))
    cfg = os.path.join(root, "base.json")
    with open(cfg, "w") as f:
        json.dump({"task": "stdit", "steps": 100, "batch_size": 2, "lr": 2e-3, "warmup_steps": 10,
                   "autoencoder_checkpoint": ae, "out_dir": os.path.join(root, "unused"),
                   "data": {"manifest": man, "buckets": [[9, 32, 32]], "metrics": ["motion"],
                            "cache_dir": os.path.join(root, "cache")},
                   "stdit": {"patch_size": [1, 2, 2], "num_heads": 2},
                   "text_encoder": {"kind": "tiny", "dim": 16, "depth": 1, "heads": 2}}, f)
    return root, cfg


def _sweep_args(cfg, out, budgets="2e8,4e8"):
    return ["scale", "sweep", cfg, "--budgets", budgets, "--out", out, "--sizes", "16x1x2,32x1x2",
            "--lr-mults", "1", "--val-fraction", "0.25", "--val-timesteps", "3", "--min-steps", "2"]


def test_sweep_plans_iso_compute_runs_and_resumes(sweep_setup, monkeypatch, capsys):
    from videoforge.cli import main
    from videoforge.scale import sweep as sw
    from videoforge.scale.sweep import read_runs

    root, cfg = sweep_setup
    out = os.path.join(root, "sweep")
    assert main(_sweep_args(cfg, out) + ["--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert len(plan) == 4
    for r in plan:   # compute is what flops_per_sample counts, within one step's rounding of the budget
        assert r["flops"] == pytest.approx(r["flops_per_sample"] * r["steps"] * r["batch"])
        assert abs(r["flops"] - r["budget"]) <= r["flops_per_sample"] * r["batch"] / 2 + 1e-6
        assert r["tokens"] == r["steps"] * r["batch"] * r["tokens_per_sample"]
    small = [r for r in plan if r["hidden"] == 16]
    big = [r for r in plan if r["hidden"] == 32]
    assert big[0]["params"] > small[0]["params"] and big[0]["steps"] < small[0]["steps"]   # iso-compute trade

    # interrupted after two runs (as a kill would): the JSONL keeps them
    real, calls = sw.execute, []

    def stop_third(base, run, out_, val):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(run.run_id)
        return real(base, run, out_, val)

    monkeypatch.setattr(sw, "execute", stop_third)
    assert main(_sweep_args(cfg, out)) == 130
    assert [r["run_id"] for r in read_runs(out)] == calls
    capsys.readouterr()

    # re-run: the two finished runs are skipped, the other two are trained
    again = []

    def count(base, run, out_, val):
        again.append(run.run_id)
        return real(base, run, out_, val)

    monkeypatch.setattr(sw, "execute", count)
    assert main(_sweep_args(cfg, out)) == 0
    recs = read_runs(out)
    assert len(recs) == 4 and not set(again) & set(calls) and len(again) == 2
    assert all(np.isfinite(r["val_loss"]) and len(r["val_loss_by_t"]) == 3 for r in recs)
    assert len({r["run_id"] for r in recs}) == 4
    # a third run trains nothing
    again.clear()
    assert main(_sweep_args(cfg, out)) == 0 and again == []

    # the validation set is fixed: the same checkpoint scores the same; clips are out of training
    val = torch.load(os.path.join(out, "val.pt"), weights_only=True)
    ck = os.path.join(out, "runs", recs[0]["run_id"], "stdit.pt")
    assert sw.validation_loss(ck, val)[0] == pytest.approx(recs[0]["val_loss"], rel=1e-6)
    with open(os.path.join(out, "train_manifest.csv")) as f:
        train_paths = {r["source_path"] for r in csv.DictReader(f)}
    assert len(val["captions"]) >= 2 and not set(val["rows"]) & train_paths


def _synthetic_runs(E=0.5, A=100.0, B=300.0, alpha=0.5, beta=0.3, noise=0.004, seed=1):
    """Runs as the sweep writes them, with losses from a known law (multiplicative noise)."""
    rng = np.random.default_rng(seed)
    runs = []
    for C in (1e11, 3e11, 1e12, 3e12):
        for N in (2e3, 6e3, 2e4, 6e4, 2e5):
            D = C / (6 * N)
            for lr, lr_pen in ((1e-3, 0.01), (2e-3, 0.0), (4e-3, 0.015)):
                L = (E + A / N ** alpha + B / D ** beta) * (1 + lr_pen) * math.exp(rng.normal(0, noise))
                runs.append({"run_id": f"{C}-{N}-{lr}", "status": "done", "budget": C, "flops": C, "params": N,
                             "tokens": D, "hidden": int(N), "depth": 1, "lr": lr, "batch": 8, "val_loss": L})
    return runs


def test_fit_recovers_known_exponents_from_synthetic_losses():
    from videoforge.scale.fit import best_hparams, fit_sweep, power_law

    runs = _synthetic_runs()
    best = [r for r in runs if r["lr"] == 2e-3]
    fit = fit_sweep(best, n_boot=20)
    v, ci = fit["law"]["values"], fit["law"]["ci95"]
    assert v["alpha"] == pytest.approx(0.5, abs=0.05) and v["beta"] == pytest.approx(0.3, abs=0.05)
    assert v["E"] == pytest.approx(0.5, rel=0.2)
    assert ci["alpha"][0] <= v["alpha"] <= ci["alpha"][1] and ci["alpha"][1] - ci["alpha"][0] < 0.2
    # with the LR grid, the best LR per budget is the middle one (the penalty's minimum)
    bp = best_hparams(runs)
    assert len(bp) == 4 and all(b["lr_grid_best"] == 2e-3 for b in bp)
    assert all(1e-3 < b["lr"] < 4e-3 for b in bp)        # the parabola's vertex, inside the grid
    assert power_law([b["flops"] for b in bp], [b["lr"] for b in bp])["p"] == pytest.approx(0.0, abs=0.05)
    # a known power law comes back
    law = power_law([1e10, 1e11, 1e12], [3e-3 * c ** -0.1 for c in (1e10, 1e11, 1e12)])
    assert law["p"] == pytest.approx(-0.1) and law["k"] == pytest.approx(3e-3)


def test_fit_and_predict_commands_on_a_synthetic_sweep(tmp_path, capsys):
    from PIL import Image

    from videoforge.cli import main

    runs = [r for r in _synthetic_runs(noise=0.002) if r["lr"] == 2e-3]
    with open(tmp_path / "runs.jsonl", "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in runs) + '{"cut by a kill\n')   # a torn last line is skipped
    assert main(["scale", "fit", str(tmp_path), "--bootstrap", "30"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and (tmp_path / "fit.json").exists()
    for name in ("isoflop.png", "frontier.png", "residuals.png"):
        im = Image.open(tmp_path / name)
        assert im.size == (640, 440) and len(set(im.getdata())) > 3     # something was drawn
    # a point 10x beyond the largest budget: the truth lies in (or very near) the interval
    N, D = 4e5, 3e13 / (6 * 4e5)
    true = 0.5 + 100 / N ** 0.5 + 300 / D ** 0.3
    assert main(["scale", "predict", str(tmp_path), "--params", str(N), "--tokens", str(D), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    lo, hi = doc["interval"]
    assert doc["predicted_loss"] == pytest.approx(true, rel=0.02)
    assert lo * 0.99 <= true <= hi * 1.01
    assert doc["recommended"]["extrapolation"] == pytest.approx(10, rel=0.01)
    assert doc["recommended"]["params"] > 0 and doc["recommended"]["batch"] >= 1


def test_scale_errors_name_the_problem(tmp_path, capsys):
    from videoforge.cli import main

    assert main(["scale", "fit", str(tmp_path)]) == 2
    assert "no finished runs" in capsys.readouterr().err
    assert main(["scale", "predict", str(tmp_path), "--params", "1e5", "--tokens", "1e6"]) == 2
    assert "no fit.json" in capsys.readouterr().err


def test_demo_sweeps_fits_and_predicts_a_held_out_run(tmp_path, capsys):
    """`make demo-scale`'s script end to end on a tiny grid: the last line is the prediction vs the measurement."""
    import shutil

    from videoforge.scale.demo import main as demo
    from videoforge.train.config import DataConfig, TrainConfig
    from videoforge.train.loop import train

    dt = tmp_path / "train"
    man = _export(str(dt), n=12, frames=17)
    shutil.move(man, dt / "train_manifest.csv")       # the name demo-train gives it (paths stay relative)
    man = str(dt / "train_manifest.csv")
    train(TrainConfig(task="autoencoder", out_dir=str(dt / "autoencoder"), steps=1, batch_size=2, warmup_steps=1,
                      ema_decay=0, autoencoder=dict(AE),
                      data=DataConfig(manifest=man, buckets=[[17, 32, 32]], metrics=["motion"])))
    capsys.readouterr()
    assert demo(["--out", str(tmp_path / "out"), "--demo-train", str(dt), "--budgets", "1e8,2e8,4e8",
                 "--sizes", "16x1x2,32x1x2", "--lr-mults", "1", "--batches", "2", "--bootstrap", "10",
                 "--val-fraction", "0.3"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("predicted ") and " measured " in last
    doc = json.loads((tmp_path / "out" / "holdout.json").read_text())
    plan = json.loads((tmp_path / "out" / "sweep" / "plan.json").read_text())
    assert doc["n_runs"] == len(plan["runs"]) >= 5 and doc["holdout"]["budget"] == pytest.approx(1.6e9)
    assert np.isfinite(doc["measured"]) and doc["ci90"][0] <= doc["predicted"] <= doc["ci90"][1]


def test_lr_edge_cells_walk_the_lr_past_the_grid_edge():
    from videoforge.scale.sweep import lr_edge_cells

    def run(budget, hidden, lr, loss):
        return {"run_id": f"{budget}-{hidden}-{lr}", "budget": budget, "hidden": hidden, "depth": 2, "heads": 2,
                "batch": 8, "lr": lr, "val_loss": loss, "flops": budget, "flops_per_sample": 1.0, "params": hidden}

    runs = [run(1e9, 32, 1e-3, 1.0), run(1e9, 32, 2e-3, 0.9),                       # top edge -> 4e-3
            run(1e9, 64, 1e-3, 0.8), run(1e9, 64, 2e-3, 0.9),                       # bottom edge -> 5e-4
            run(1e10, 32, 1e-3, 0.9), run(1e10, 32, 2e-3, 0.7), run(1e10, 32, 4e-3, 0.8),   # interior: done
            run(1e10, 64, 1e-3, 0.5)]                                               # one LR: left alone
    got = {(r["budget"], r["hidden"]): lr for r, lr in lr_edge_cells(runs)}
    assert got == {(1e9, 32): 4e-3, (1e9, 64): 5e-4}
    # a diverged run is not the best; a next LR that already failed is not proposed again
    diverged = runs + [run(1e10, 32, 8e-3, float("nan"))]
    assert {(r["budget"], r["hidden"]) for r, _ in lr_edge_cells(diverged)} == {(1e9, 32), (1e9, 64)}
    failed = {((1e9, 32, 2, 2, 8), 4e-3)}
    got = {(r["budget"], r["hidden"]): lr for r, lr in lr_edge_cells(runs, failed)}
    assert got == {(1e9, 64): 5e-4}


def test_residual_bootstrap_interval_covers_new_noisy_runs_and_no_E_form():
    from videoforge.scale.fit import fit_law

    rng = np.random.default_rng(5)
    N = np.repeat([3e4, 6e4, 1.2e5, 2.4e5], 3)
    D = np.tile([1e5, 3e5, 1e6], 4) * (1 + 0.1 * np.arange(12) / 12)

    def law(n, d):
        return 40 / n ** 0.4 + 60 / d ** 0.3            # E = 0: losses that never flatten

    sigma = 0.02
    L = law(N, D) * np.exp(rng.normal(0, sigma, len(N)))
    res = fit_law(N, D, L, n_boot=30, form="no_E", interval="residual")
    assert res.values["E"] < 1e-9                         # the reduced form: no irreducible loss fitted
    n, d = 4.8e5, 3e6                                      # beyond every fitted point in N and D
    pred, lo, hi = res.predict_interval(n, d, 0.9)
    _, llo, lhi = res.predict_interval(n, d, 0.9, new_run=False)
    assert lo < llo and hi > lhi                           # a new run's interval adds its own scatter
    new_runs = law(n, d) * np.exp(rng.normal(0, sigma, 400))
    cover = np.mean((new_runs >= lo) & (new_runs <= hi))
    assert 0.7 <= cover <= 1.0, cover
    assert (hi - lo) / 2 / pred < 0.1 and pred == pytest.approx(law(n, d), rel=0.05)
    # the pairs bootstrap (sessions 6-7) still runs and round-trips through the fit file format
    from videoforge.scale.fit import LawFit

    pairs = fit_law(N, D, L, n_boot=5, form="full", interval="pairs")
    back = LawFit.from_dict(pairs.to_dict())
    assert back.interval == "pairs" and back.resid is None
    assert back.predict_interval(n, d) == pairs.predict_interval(n, d)
    back = LawFit.from_dict(res.to_dict())
    assert back.form == "no_E" and back.predict_interval(n, d) == pytest.approx((pred, lo, hi))
