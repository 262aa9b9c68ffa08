"""Issue 19, session 9: caption word dropout in training and contrast guidance at sampling."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_train import AE, DIT, _cfg, _tiny_export  # noqa: E402

from videoforge.synth import shapes  # noqa: E402
from videoforge.train import evaluate  # noqa: E402

torch.set_num_threads(1)
TEXT = {"kind": "tiny", "dim": 16, "depth": 0, "heads": 2}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return _tiny_export(str(tmp_path_factory.mktemp("export")))


@pytest.fixture(scope="module")
def ae_ckpt(export, tmp_path_factory):
    from videoforge.train.loop import train

    return train(_cfg(tmp_path_factory.mktemp("ae"), export[0], steps=2))


def test_drop_words_removes_each_word_at_its_rate_and_keeps_the_order():
    from videoforge.train.tasks import drop_words

    cap = "a red circle moves left, fast"
    rng = np.random.default_rng(0)
    outs = [drop_words(cap, 0.25, rng) for _ in range(2000)]
    words = cap.split()
    for o in outs:
        kept = o.split()
        it = iter(words)
        assert all(w in it for w in kept)           # a subsequence: order kept, nothing invented
    rate = 1 - np.mean([len(o.split()) for o in outs]) / len(words)
    assert 0.22 < rate < 0.28
    assert np.mean(["circle" not in o.split() for o in outs]) == pytest.approx(0.25, abs=0.04)
    assert drop_words(cap, 0.0, rng) == cap
    # `only`: just those words may go (punctuation ignored), the rest always stay
    colours = {"red", "green", "blue", "yellow"}
    outs = [drop_words("a red circle moves left, fast", 0.5, rng, colours) for _ in range(400)]
    assert {o.replace("red ", "") for o in outs} == {"a circle moves left, fast"}
    assert 0.4 < np.mean(["red" not in o for o in outs]) < 0.6
    assert drop_words("a circle moves left,", 1.0, rng, {"left"}) == "a circle moves"


def test_caption_word_drop_changes_training_captions_reproducibly(export, ae_ckpt, tmp_path):
    from videoforge.train.tasks import DiffusionTask

    kw = dict(task="stdit", autoencoder_checkpoint=ae_ckpt, stdit=dict(DIT), text_encoder=dict(TEXT), batch_size=4)
    plain = DiffusionTask(_cfg(tmp_path / "a", export[0], **kw), "cpu")
    dropped = DiffusionTask(_cfg(tmp_path / "b", export[0], caption_word_drop=0.5, **kw), "cpu")
    changed = 0
    for step in range(6):
        p, d = plain.batch(step, 0, 1)["prompts"], dropped.batch(step, 0, 1)["prompts"]
        assert d == dropped.batch(step, 0, 1)["prompts"]        # a pure function of (seed, step)
        for full, short in zip(p, d):
            assert set(short.split()) <= set(full.split())
            changed += short != full
    assert changed >= 6
    only = DiffusionTask(_cfg(tmp_path / "c", export[0], caption_word_drop=1.0, caption_drop_only=["red", "Blue"],
                              **kw), "cpu")
    for step in range(3):
        for full, short in zip(plain.batch(step, 0, 1)["prompts"], only.batch(step, 0, 1)["prompts"]):
            assert short.split() == [w for w in full.split() if w not in ("red", "blue")]
    # the vocabulary still comes from the full captions (a dropped word is not a new word)
    assert dropped.model.text_encoder.vocab == plain.model.text_encoder.vocab


@pytest.fixture(scope="module")
def gen_ckpt(export, ae_ckpt, tmp_path_factory):
    from videoforge.train.loop import train

    return train(_cfg(tmp_path_factory.mktemp("dit"), export[0], task="stdit", autoencoder_checkpoint=ae_ckpt,
                      stdit=dict(DIT), steps=2, text_encoder=dict(TEXT)))


@pytest.fixture(scope="module")
def pipe(gen_ckpt):
    from videoforge.models.pipeline import Pipeline

    p = Pipeline.load(gen_ckpt)
    torch.manual_seed(0)
    for prm in p.gen.stdit.parameters():      # a random network (2 training steps leave AdaLN-zero near 0)
        prm.data.normal_(0, 0.2)
    return p


def test_contrast_guidance_is_off_by_default_and_pushes_away_from_the_alternatives(pipe):
    prompt = "a red circle moves left"
    kw = dict(frames=3, seed=1, steps=3)
    base = pipe.generate(prompt, **kw).astype(int)
    assert np.array_equal(base, pipe.generate(prompt, contrast_prompts=["a red square moves left"], **kw))  # scale 0
    same = pipe.generate(prompt, contrast_prompts=[prompt, prompt], cfg_contrast=8.0, **kw).astype(int)
    assert np.abs(same - base).max() <= 1         # contrast with itself: v(text) - v(text) = 0
    other = pipe.generate(prompt, contrast_prompts=["a red square moves left", "a red triangle moves left"],
                          cfg_contrast=8.0, **kw).astype(int)
    assert np.abs(other - base).mean() > 1
    # a batch: one contrast list per prompt; a different length is an error
    two = pipe.generate([prompt, "a blue square moves up"], cfg_contrast=8.0, frames=3, seed=1, steps=3,
                        contrast_prompts=[["a red square moves left"], ["a blue circle moves up"]])
    assert two.shape[0] == 2
    with pytest.raises(ValueError, match="contrast_prompts"):
        pipe.generate([prompt, prompt], contrast_prompts=[["x"], ["y", "z"]], cfg_contrast=1.0, **kw)


def test_contrast_captions_swap_only_the_one_word():
    c = ("red", "circle", "left")
    assert evaluate.contrast_captions(c, "shape") == ["a red square moves left", "a red triangle moves left"]
    assert len(evaluate.contrast_captions(c, "colour")) == len(shapes.COLOURS) - 1
    assert all("red" in s and "circle" in s for s in evaluate.contrast_captions(c, "direction"))


def test_generate_cli_contrast_flags(gen_ckpt, tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "c.mp4"
    r = subprocess.run([sys.executable, "-m", "videoforge", "generate", gen_ckpt, "a red circle moves left",
                        "--contrast", "a red square moves left", "--contrast", "a red triangle moves left",
                        "--cfg-contrast", "4", "--frames", "3", "--steps", "2", "--out", str(out), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["frames"] == 3 and out.stat().st_size > 0
    bad = subprocess.run([sys.executable, "-m", "videoforge", "generate", gen_ckpt, "a red circle moves left",
                          "--cfg-contrast", "4", "--out", str(tmp_path / "d.mp4")], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "--contrast" in bad.stderr
