"""Issue 19, session 10: single-attribute training captions, composable sampling, `subject_travel`."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_train import DIT, _cfg  # noqa: E402
# the same tiny export, autoencoder and random-weight generator as the contrast-guidance tests
from test_train_contrast import TEXT, ae_ckpt, export, gen_ckpt, pipe  # noqa: E402,F401

from videoforge.synth import shapes  # noqa: E402
from videoforge.train import evaluate  # noqa: E402

torch.set_num_threads(1)
SLOTS = [list(shapes.COLOURS), list(shapes.SHAPES), list(shapes.DIRECTIONS) + ["fast"]]


def test_one_slot_keeps_the_words_of_one_attribute():
    from videoforge.train.tasks import one_slot

    rng = np.random.default_rng(0)
    outs = [one_slot("a red circle moves left, fast", SLOTS, rng) for _ in range(600)]
    assert set(outs) == {"red", "circle", "left fast"}
    assert min(outs.count(o) for o in set(outs)) > 150          # the slot drawn uniformly
    assert one_slot("a blue square moves up", SLOTS, rng) in {"blue", "square", "up"}
    assert one_slot("something else entirely", SLOTS, rng) == "something else entirely"


def test_caption_one_slot_replaces_captions_at_its_rate_reproducibly(export, ae_ckpt, tmp_path):
    from videoforge.train.tasks import DiffusionTask

    kw = dict(task="stdit", autoencoder_checkpoint=ae_ckpt, stdit=dict(DIT), text_encoder=dict(TEXT), batch_size=4)
    plain = DiffusionTask(_cfg(tmp_path / "a", export[0], **kw), "cpu")
    one = DiffusionTask(_cfg(tmp_path / "b", export[0], caption_one_slot=0.5, caption_slots=SLOTS, **kw), "cpu")
    vocab = {w for s in SLOTS for w in s}
    short = 0
    for step in range(10):
        p, o = plain.batch(step, 0, 1)["prompts"], one.batch(step, 0, 1)["prompts"]
        assert o == one.batch(step, 0, 1)["prompts"]            # a pure function of (seed, step)
        for full, got in zip(p, o):
            if got != full:
                short += 1
                assert set(got.split()) <= vocab and set(got.split()) <= {w.strip(",") for w in full.split()}
    assert 8 <= short <= 32                                     # ~20 of 40 at p = 0.5
    assert one.model.text_encoder.vocab == plain.model.text_encoder.vocab
    # a rate with nothing to act on, or outside [0, 1], is refused rather than silently ignored
    for bad in (dict(caption_one_slot=0.5), dict(caption_one_slot=1.5, caption_slots=SLOTS)):
        with pytest.raises(ValueError, match="caption_one_slot"):
            DiffusionTask(_cfg(tmp_path / "c", export[0], **bad, **kw), "cpu")


def test_composable_sampling_is_off_at_zero_weight_and_adds_each_part(pipe):
    prompt, parts = "a red circle moves left", ["red", "circle", "left"]
    kw = dict(frames=3, seed=1, steps=3)
    base = pipe.generate(prompt, **kw).astype(int)
    assert np.array_equal(base, pipe.generate(prompt, compose_prompts=parts, compose_weights=[0, 0, 0], **kw))
    pushed = pipe.generate(prompt, compose_prompts=parts, compose_weights=[0, 8, 0], **kw).astype(int)
    assert np.abs(pushed - base).mean() > 1
    # cfg_text 0 + the whole caption as the one part = plain CFG on the caption
    as_part = pipe.generate(prompt, compose_prompts=[prompt], compose_weights=[4.0], cfg_text=0.0, **kw).astype(int)
    assert np.abs(as_part - base).max() <= 1
    two = pipe.generate([prompt, "a blue square moves up"], frames=3, seed=1, steps=3, compose_weights=[1, 2, 1],
                        compose_prompts=[parts, ["blue", "square", "up"]])
    assert two.shape[0] == 2
    with pytest.raises(ValueError, match="compose_prompts"):
        pipe.generate(prompt, compose_prompts=["red", "circle"], compose_weights=[1, 1, 1], **kw)


def test_compose_captions_are_the_training_slots():
    assert evaluate.compose_captions(("red", "circle", "left")) == ["red", "circle", "left"]


def test_subject_travel_reads_the_travel_whatever_the_shape(tmp_path):
    """Real codec: clips of known travel for each shape; the key tracks the travel with one scale
    for every shape (the engine's motion_peak grows with the shape's area)."""
    from scipy.stats import spearmanr

    from videoforge.train.data import decode_rgb
    from videoforge.train.subject_travel import add_column, subject_travel

    rng = np.random.default_rng(4)
    speeds = shapes.speeds_for(0.25)
    clips = [shapes.ShapeClip(c, s, d, sp, float(rng.uniform(*speeds[sp])), "", int(rng.integers(2**31)), 0.25)
             for c, s, d, sp in [("red", "circle", "left", "slow"), ("blue", "square", "up", "fast"),
                                 ("green", "triangle", "right", "slow"), ("yellow", "circle", "down", "fast"),
                                 ("red", "square", "right", "slow"), ("blue", "triangle", "left", "fast")]]
    paths = shapes.write_clips(clips, str(tmp_path / "v"), frames=17, size=64, fps=8.0)
    got = np.array([subject_travel(decode_rgb(p, 17, 32, 32)) for p in paths])
    truth = np.array([c.travel for c in clips])
    assert spearmanr(got, truth).statistic > 0.85
    assert np.all(np.abs(got - truth) < 0.08), (got, truth)
    # a clip that cannot be read gets an empty value and a named error, the rest still fill
    rows = [{"path": paths[0]}, {"path": str(tmp_path / "missing.mp4")}]
    errors = add_column(rows, lambda r: decode_rgb(r["path"], 17, 32, 32))
    assert rows[0]["subject_travel"] == pytest.approx(got[0]) and rows[1]["subject_travel"] == ""
    assert len(errors) == 1 and "missing.mp4" in errors[0]
    # no subject: NaN, not a number that means "still"
    assert np.isnan(subject_travel(np.full((9, 16, 16, 3), 120, np.uint8)))
    # frames where the subject is not found (here 3 blank ones mid-clip) do not shorten the clip
    sq = np.full((17, 64, 64, 3), 40, np.uint8)
    for t in range(17):
        x = 8 + t * 40 // 16
        sq[t, 28:36, x:x + 8] = 250
    assert subject_travel(sq) == pytest.approx(40 / 64, abs=0.01)
    sq[5:8] = 40
    assert subject_travel(sq) == pytest.approx(40 / 64, abs=0.01)


def test_generate_cli_compose_flags(gen_ckpt, tmp_path, cli_here, monkeypatch):
    import json

    from videoforge.models.pipeline import Pipeline

    seen = []
    real = Pipeline.generate

    def spy(self, *a, **kw):   # what reaches the sampler: the flags must not be dropped on the way
        seen.append({k: kw.get(k) for k in ("compose_prompts", "compose_weights")})
        return real(self, *a, **kw)

    monkeypatch.setattr(Pipeline, "generate", spy)
    out = tmp_path / "c.mp4"
    r = cli_here("generate", gen_ckpt, "a red circle moves left", "--compose", "red", "--compose", "circle",
                 "--compose", "left", "--compose-weight", "2", "--frames", "3", "--steps", "2", "--out", out, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["frames"] == 3 and out.stat().st_size > 0
    assert seen and seen[-1]["compose_weights"] == [2.0, 2.0, 2.0]
    assert list(seen[-1]["compose_prompts"]) in (["red", "circle", "left"], [["red", "circle", "left"]])
    bad = cli_here("generate", gen_ckpt, "a red circle moves left", "--compose", "red", "--compose", "circle",
                   "--compose-weight", "1", "--compose-weight", "2", "--compose-weight", "3", "--out", tmp_path / "d.mp4")
    assert bad.returncode == 2 and "--compose-weight" in bad.stderr
    with pytest.raises(ValueError, match="compose_weights"):   # parts without weights are not silently ignored
        Pipeline.load(gen_ckpt).generate("a red circle moves left", frames=3, steps=1, compose_prompts=["red"])
