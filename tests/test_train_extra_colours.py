"""Training-only colours (issue 19, session 11): every shape with many colours, the frozen test untouched."""

import os
import sys

import numpy as np

from videoforge.synth import shapes

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))


def test_extra_colours_leave_the_test_vocabulary_and_the_checker_as_they_were():
    assert not set(shapes.EXTRA_COLOURS) & set(shapes.COLOURS)
    assert list(shapes.COLOURS) == ["red", "green", "blue", "yellow"]
    assert {c for c, _, _ in shapes.combos()} == set(shapes.COLOURS) and len(shapes.combos()) == 48
    # each extra colour is far from every test colour (the closest pairs, orange/lime/brown, ~90 RGB units)
    for name, rgb in shapes.EXTRA_COLOURS.items():
        d = min(np.linalg.norm(np.subtract(rgb, t)) for t in shapes.COLOURS.values())
        assert d > 80, name


def test_extra_colour_triples_show_every_shape_and_no_held_out_pair():
    pairs = shapes.held_out_pairs(2, seed=0)
    extra = shapes.extra_colour_combos(list(shapes.EXTRA_COLOURS), pairs)
    assert not {(s, d) for _, s, d in extra} & set(pairs["shape_direction"])
    n_sd = len(shapes.SHAPES) * len(shapes.DIRECTIONS) - len(pairs["shape_direction"])
    assert len(extra) == len(shapes.EXTRA_COLOURS) * n_sd
    for colour in shapes.EXTRA_COLOURS:
        assert {s for c, s, _ in extra if c == colour} == set(shapes.SHAPES)
    # without a split, every triple; a test colour is refused
    assert len(shapes.extra_colour_combos(["cyan"])) == 12
    try:
        shapes.extra_colour_combos(["red"])
        raise AssertionError("a test colour was accepted as training-only")
    except ValueError as e:
        assert "red" in str(e)


def test_extra_colour_clips_render_exactly_and_the_checker_reads_shape_and_direction_through_the_codec(tmp_path):
    from videoforge.train.data import decode_rgb

    clips = [shapes.ShapeClip(c, s, d, "slow", 0.25, shapes.caption_for(c, s, d, False), 7 + i, 0.25)
             for i, (c, s, d) in enumerate([("orange", "triangle", "left"), ("teal", "circle", "up"),
                                            ("pink", "square", "down"), ("brown", "triangle", "right")])]
    for c in clips:
        f = shapes.render_clip(c, 17, 64)
        assert np.all(np.abs(f[0].astype(int) - shapes.EXTRA_COLOURS[c.colour]) == 0, axis=-1).sum() > 300
    paths = shapes.write_clips(clips, str(tmp_path), frames=17, size=64)
    for c, p in zip(clips, paths):
        r = shapes.read_clip(decode_rgb(p, 17, 32, 32))
        assert (r.shape, r.direction) == (c.shape, c.direction), (c, r)
        # the score votes among the test colours only; `colour_any` (every rendered colour) names the
        # training-only hue, so evaluate.prompt_accuracy can tell a purple "blue" clip from a blue one
        assert r.colour_any == c.colour, (c, r)
        assert r.colour != c.colour and r.colour in shapes.COLOURS


def test_merge_check_refuses_held_out_pairs_and_incomplete_captions():
    from train_extra_colours import caption_triple, leaks

    pairs = shapes.held_out_pairs(2, seed=0)
    assert caption_triple("a cyan square moves down, fast") == ("cyan", "square", "down")
    (sd_shape, sd_dir), (cs_col, cs_shape) = pairs["shape_direction"][0], pairs["colour_shape"][0]
    ok = [{"text": shapes.caption_for(c, s, d, False)} for c, s, d in
          shapes.extra_colour_combos(["orange", "purple"], pairs)]
    assert leaks(ok, pairs) == []
    bad = [{"text": f"a orange {sd_shape} moves {sd_dir}"}, {"text": f"a {cs_col} {cs_shape} moves left"},
           {"text": "a cyan moves left"}]
    assert leaks(ok + bad, pairs) == [b["text"] for b in bad]


def test_training_side_shape_check_never_samples_a_held_out_triple():
    """benchmarks/train_shape_val.py (session 12) chooses between recipes without the held-out test: for
    any split it samples every seen test-colour triple and one seen triple per (training-only colour, shape)."""
    from train_shape_val import seen_combos

    for seed in (0, 1, 2, 3):
        pairs = shapes.held_out_pairs(2, seed=seed)
        train, held = shapes.split_combos(pairs)
        test_c, extra_c = seen_combos(seed)
        assert test_c == train and len(test_c) == 32
        assert not any(shapes.is_held_out(c, pairs) for c in test_c + extra_c)
        assert {(c, s) for c, s, _ in extra_c} == {(c, s) for c in shapes.EXTRA_COLOURS for s in shapes.SHAPES}
