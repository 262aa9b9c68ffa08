"""The text-scene generator's second words: placed clear of the first, own time, own truth, and
off by default without changing what earlier sets drew."""

from __future__ import annotations

import numpy as np

from videoforge.io.decode import decode_frames
from videoforge.synth.text_scenes import make_text_video, pseudo_words


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_second_words_are_clear_of_the_first_and_recorded(tmp_path):
    words = pseudo_words(np.random.default_rng(5), 12)
    path = str(tmp_path / "two.mp4")
    truth = make_text_video(path, "heldout", 8123, shots=4, size=(480, 270), fps=30.0, shot_seconds=(1.0, 1.4),
                            text_prob=1.0, words=words, second_word_prob=1.0)
    seconds = [e for t in truth for e in t.extra]
    assert seconds, "every texted shot is offered a second word; some must fit"
    drawn = [t.word for t in truth] + [e.word for e in seconds]
    assert len({w.lower() for w in drawn}) == len(drawn) and {w.lower() for w in drawn} <= set(words)
    for t in truth:
        for e in t.extra:
            assert (e.start_frame, e.end_frame, e.background) == (t.start_frame, t.end_frame, t.background)
            assert e.style != t.style or e.style == "bright"
            assert t.start_frame <= e.text_start <= e.text_end <= t.end_frame
            for f, box in e.boxes.items():
                if t.style != "ticker" and f in (t.boxes or {}):
                    assert not _overlap(box, t.boxes[f])
    n = sum(1 for _ in decode_frames(path))
    assert n == truth[-1].end_frame + 1


def test_no_second_words_by_default_and_the_first_words_unchanged(tmp_path):
    words = pseudo_words(np.random.default_rng(6), 8)
    a = make_text_video(str(tmp_path / "a.mp4"), "heldout", 8124, shots=3, size=(320, 180), shot_seconds=(0.8, 1.0),
                        text_prob=1.0, words=words)
    b = make_text_video(str(tmp_path / "b.mp4"), "heldout", 8124, shots=3, size=(320, 180), shot_seconds=(0.8, 1.0),
                        text_prob=1.0, words=words, second_word_prob=1.0)
    assert all(not t.extra for t in a)
    # the second words draw from their own random stream: shots, styles, fonts and sizes stay
    # (later shots' words differ only because a second word took one from the shared list)
    strip = [(t.start_frame, t.end_frame, t.background, t.style, t.font, t.text_height) for t in a]
    assert strip == [(t.start_frame, t.end_frame, t.background, t.style, t.font, t.text_height) for t in b]
    assert a[0].word == b[0].word
