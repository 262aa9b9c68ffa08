"""Step + guidance distillation (#21 part 3) on a tiny generator: the teacher's trajectories
match its sampler, `videoforge distill` writes a student that `generate` loads like any
checkpoint and samples in 4 steps x 1 network evaluation, and its guidance input matters."""

import csv
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

torch.set_num_threads(1)

from generator_helpers import random_generator_checkpoint  # noqa: E402

PROMPTS = ["a red circle moves left", "a blue square moves up", "a green triangle moves right"]


def _teacher(path):
    """A tiny generator checkpoint with random (not zero-initialised) weights, so every condition matters."""
    return random_generator_checkpoint(path, PROMPTS, hidden_size=32)


def _manifest(path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "text", "motion"])
        w.writeheader()
        for i in range(12):
            w.writerow({"path": f"v{i}.mp4", "text": PROMPTS[i % 3], "motion": 0.2 + 0.15 * i})
    return str(path)


def _count_calls(module):
    """Wrap module.forward: the batch size of every call."""
    calls = []
    orig = module.forward

    def counted(x, *a, **k):
        calls.append(x.shape[0])
        return orig(x, *a, **k)

    module.forward = counted
    return calls


def test_teacher_states_follow_the_teachers_own_sampler(tmp_path):
    from videoforge.distill.pairs import teacher_states
    from videoforge.models.flow import euler_sample
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(_teacher(tmp_path / "t.pt"))
    y, mask = pipe.gen.encode_text(PROMPTS[:2])
    m = pipe.scaler.normalize([{"motion": 0.5}, {"motion": 1.5}])
    shape = (2, 4, 5, 8, 8)
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(7))
    at = torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0])
    s = teacher_states(pipe.gen.stdit, noise, y, mask, m, torch.tensor([4.0, 4.0]), torch.tensor([2.0, 2.0]), 8, at)
    ref = euler_sample(pipe.gen.stdit, shape, y, mask, m, steps=8, cfg_text=4.0, cfg_metric=2.0,
                       generator=torch.Generator().manual_seed(7))
    assert s.shape == (2, 5, *shape[1:])
    assert torch.equal(s[:, 0], noise)
    assert torch.allclose(s[:, -1], ref, atol=1e-5)                  # the end: exactly what generate samples
    half = euler_sample(pipe.gen.stdit, shape, y, mask, m, steps=8, cfg_text=4.0, cfg_metric=2.0,
                        generator=torch.Generator().manual_seed(7))
    assert not torch.allclose(s[:, 2], half)                          # t = 0.5 is on the way, not the end
    # per-sample scales: the second sample's scale changes only the second sample's path
    s2 = teacher_states(pipe.gen.stdit, noise, y, mask, m, torch.tensor([4.0, 1.0]), torch.tensor([2.0, 0.0]), 8, at)
    assert torch.allclose(s2[0], s[0], atol=1e-5) and not torch.allclose(s2[1], s[1], atol=1e-3)


def test_distill_writes_a_4_step_student_that_generate_loads(tmp_path, capsys):
    from videoforge.cli import main
    from videoforge.models.pipeline import Pipeline

    teacher = _teacher(tmp_path / "t.pt")
    student = tmp_path / "s.pt"
    assert main(["distill", teacher, "--steps", "4", "--out", str(student), "--manifest", _manifest(tmp_path / "m.csv"),
                 "--pairs", "16", "--train-steps", "150", "--batch-size", "8", "--lr", "2e-3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["steps"] == 4 and doc["pairs"] == 16 and doc["method"] == "segment"

    # generate takes it like any checkpoint (its own 4 steps by default, --steps still works)
    assert main(["generate", str(student), PROMPTS[0], "--out", str(tmp_path / "a.mp4"), "--frames", "5",
                 "--motion", "1.0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 5 and (tmp_path / "a.mp4").stat().st_size > 0
    assert main(["generate", str(student), PROMPTS[1], "--out", str(tmp_path / "b.mp4"), "--frames", "5",
                 "--steps", "2", "--json"]) == 0

    # 4 steps x 1 network evaluation of the batch (the teacher: 25 steps x 3 passes in one batch)
    sp, tp = Pipeline.load(str(student)), Pipeline.load(teacher)
    assert sp.distill["steps"] == 4 and not tp.distill
    # the student's evaluations counted at its output layer: one call per network evaluation on the
    # plain path and on generate's fast path (distill/fast.py), which does not go through forward()
    s_calls, t_calls = _count_calls(sp.gen.stdit.final_layer.linear), _count_calls(tp.gen.stdit)
    kw = dict(metrics={"motion": 1.0}, frames=5, seed=3)
    a = sp.generate(PROMPTS[:2], **kw)
    tp.generate(PROMPTS[:2], **kw)
    assert s_calls == [2, 2, 2, 2]
    assert len(t_calls) == 25 and set(t_calls) == {6}
    assert a.shape == (2, 5, 32, 32, 3)
    assert np.array_equal(a, Pipeline.load(str(student)).generate(PROMPTS[:2], **kw))   # saved == loaded

    # the guidance scales are an input: distillation made them matter (latents, before the random decoder)
    from videoforge.distill.student import student_sample

    y, mask = sp.gen.encode_text(PROMPTS[:2])
    m = sp.scaler.normalize([{"motion": 1.0}] * 2)
    lat = {g: student_sample(sp.gen.stdit, (2, 4, 5, 8, 8), y, mask, m, cfg_text=g[0], cfg_metric=g[1],
                             generator=torch.Generator().manual_seed(3)) for g in ((4.0, 2.0), (1.0, 0.0), (4.0, 2.0))}
    from videoforge.models.flow import euler_sample

    ref = {g: euler_sample(tp.gen.stdit, (2, 4, 5, 8, 8), y, mask, m, steps=25, cfg_text=g[0], cfg_metric=g[1],
                           generator=torch.Generator().manual_seed(3)) for g in ((4.0, 2.0), (1.0, 0.0))}
    effect_student = float((lat[(4.0, 2.0)] - lat[(1.0, 0.0)]).norm())
    effect_teacher = float((ref[(4.0, 2.0)] - ref[(1.0, 0.0)]).norm())
    ds, dt = (lat[(4.0, 2.0)] - lat[(1.0, 0.0)]).flatten(), (ref[(4.0, 2.0)] - ref[(1.0, 0.0)]).flatten()
    cos = float(ds @ dt / (ds.norm() * dt.norm()))
    print("guidance effect student / teacher", effect_student, effect_teacher, cos)
    # the untrained student (zero embedders) has none; the trained one moves the way the teacher's guidance does
    assert effect_student > 0.2 * effect_teacher and cos > 0.5
    g = sp.gen.stdit.t_embedder
    assert float(g.g_text.mlp[-1].weight.abs().sum()) > 0 and float(g.g_metric.mlp[-1].weight.abs().sum()) > 0


def test_student_learns_the_teachers_4_step_map(tmp_path):
    """On the teacher's own trajectories the trained student's 4-step sample is closer to the
    teacher's 25-step sample than the teacher's naive 4-step sample (both with guidance)."""
    from videoforge.distill.student import student_sample
    from videoforge.distill.train import DistillConfig, make_pairs, read_conditions, train_student
    from videoforge.models.flow import euler_sample
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(_teacher(tmp_path / "t.pt"))
    cfg = DistillConfig(pairs=24, train_steps=150, batch_size=8, lr=1e-3, default_fraction=1.0, no_metric_fraction=0.0)
    conds = read_conditions(_manifest(tmp_path / "m.csv"), ["motion"])
    pairs = make_pairs(pipe, conds, cfg, progress=False)
    student, hist = train_student(pipe, pairs, cfg, progress=False)
    assert np.mean(hist[-20:]) < 0.5 * np.mean(hist[:5])
    # the same conditions, fresh noise
    y, mask = pipe.gen.encode_text(PROMPTS)
    m = pipe.scaler.normalize([{"motion": 1.0}] * 3)
    shape = (3, 4, 5, 8, 8)
    g = lambda: torch.Generator().manual_seed(11)   # noqa: E731
    ref = euler_sample(pipe.gen.stdit, shape, y, mask, m, steps=25, generator=g())
    naive = euler_sample(pipe.gen.stdit, shape, y, mask, m, steps=4, generator=g())
    st = student_sample(student, shape, y, mask, m, steps=4, generator=g())
    assert float((st - ref).norm()) < float((naive - ref).norm())


def test_distill_refuses_bad_inputs_by_name(tmp_path, capsys):
    from videoforge.cli import main

    teacher = _teacher(tmp_path / "t.pt")
    empty = tmp_path / "empty.csv"
    empty.write_text("path,text\nv.mp4,\n")
    assert main(["distill", teacher, "--out", str(tmp_path / "s.pt"), "--manifest", str(empty)]) == 2
    assert "empty.csv" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert main(["distill", str(junk), "--out", str(tmp_path / "s.pt"), "--manifest", str(empty)]) == 2
    assert "junk.pt" in capsys.readouterr().err
    # no manifest given and none beside the teacher
    assert main(["distill", teacher, "--out", str(tmp_path / "s.pt")]) == 2
    assert "train_manifest.csv" in capsys.readouterr().err


def test_frechet_distance_and_the_clip_classifier_labels():
    from videoforge.distill.clipfeat import frechet_distance, labels_from_name

    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 6))
    a[:, 5] = 0                                  # a dead feature: singular covariances still work
    shift = np.array([1.0, -2.0, 0, 0, 0.5, 0])
    assert abs(frechet_distance(a, a)) < 1e-6
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), abs=1e-4)   # same covariance
    assert frechet_distance(a, 2 * a) > frechet_distance(a, 1.1 * a) > 0                     # spread counts
    assert labels_from_name("/x/0001_red_circle_left_fast.mp4") == {"colour": "red", "shape": "circle",
                                                                     "direction": "left", "speed": "fast"}
    assert labels_from_name("/x/clip.mp4") is None


def test_generate_num_samples_writes_k_clips_from_one_batched_pass(tmp_path, capsys, monkeypatch):
    from videoforge.cli import main
    from videoforge.io.clips import count_frames
    from videoforge.models.pipeline import Pipeline

    teacher = _teacher(tmp_path / "t.pt")
    batches = []
    real = Pipeline.generate

    def spy(self, prompt, *a, **k):
        batches.append(prompt)
        return real(self, prompt, *a, **k)

    monkeypatch.setattr(Pipeline, "generate", spy)
    out = tmp_path / "clip.mp4"
    assert main(["generate", teacher, PROMPTS[0], "--out", str(out), "--frames", "5", "--steps", "2",
                 "--num-samples", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    paths = [tmp_path / f"clip_{i}.mp4" for i in range(3)]
    assert doc["outs"] == [str(p) for p in paths] and doc["out"] == str(paths[0])
    assert batches == [[PROMPTS[0]] * 3]                       # one call for all three clips
    assert all(count_frames(p) == 5 for p in paths) and not out.exists()
    assert len({p.read_bytes() for p in paths}) == 3            # each clip its own noise
    # K = 1 keeps the old behaviour: OUT itself, one prompt string
    assert main(["generate", teacher, PROMPTS[0], "--out", str(out), "--frames", "5", "--steps", "2"]) == 0
    assert out.exists() and batches[-1] == PROMPTS[0]
    assert main(["generate", teacher, PROMPTS[0], "--out", str(out), "--num-samples", "0"]) == 2
