"""The session-9 Chinese student: per-character word votes, so a word is read the same whatever
other words stand beside it.

The session-8 token student (adapt/token_student.py) read every Chinese prompt of a trained
composition word for word (frozen set v3: 912 / 912) but only 72 % of the held-out compositions:
its English positions are decided from attention over characters with learned, content-dependent
weights (and, in the default, attention between positions), so where a new word's evidence was
weak the colour tipped the shape to a partner seen in training (red circle for red square).

Here each English position's word comes from a sum of per-character votes, as in IBM Model 1
word alignment:

    logit_j(e) = b_j(e) + scale * sum_i gate_i * vote_i(e)

- vote_i: a distribution over the English encoder's vocabulary (+ a null class) that depends on
  character i's identity ONLY: 红 votes "red" whatever it stands next to;
- gate_i in (0, 1): whether character i is a content word here (方 in 向左方 is a direction
  suffix, 右 in 从右往左 is where it came from), from a width-3 window (gate="conv") or a
  bidirectional GRU over the whole prompt (gate="gru", shipped: pair-CV 0.946 vs 0.936): context can
  only silence a character's vote, never turn it into another word;
- b_j: a per-position bias over the vocabulary, independent of the input: which words position j
  holds ("a" first, the colour second, ..., pad after the end).

Maximum likelihood on the parallel prompts explains away as IBM Model 1 does: 红 is always
there when "red" is, so its vote goes to red and the shape is left to the shape characters. To
keep it so, the training noise (`slot_noise_ids`) never removes or replaces a character of a
content word (colour, shape, direction, speed; known from the grammar's segments); it only puts
unknown characters beside them, and corrupts the function words freely. A slot is then never
without its own evidence, so no character learns to vote for a partner it co-occurs with.

The output is an English prompt in the generator's own words that its frozen English encoder
encodes (as in session 8): a prompt read right gives exactly the English prompt's embedding.

Session 10 (`lexicon=True`, shipped): a character-level student cannot read a synonym none of whose
characters it saw (frozen v5: 141 of 161 misreads). Each character also carries the concepts that
CC-CEDICT's glosses of its dictionary word name (adapt/lexicon.py: 风驰电掣 "fast as lightning" ->
fast), which add learned vote logits to its own; training blanks a content word's characters at
rate char_drop where the dictionary names its concept, so those votes learn to carry a word alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
import torch.nn as nn

from videoforge.adapt.text_adapter import _corrupt
from videoforge.adapt.token_student import CharTranslator


@dataclass
class AlignConfig:
    dim: int = 64
    window: int = 3          # characters the gate sees (odd)
    max_chars: int = 48
    out_len: int = 8         # English token positions predicted (the demo's prompts have 5-7)
    scale: float = 10.0      # logit of one full vote. Linear, not log: a vote of 0.01 stays worth 1 % of a full
                             # one (a log made tiny co-occurrence votes decisive: red up -> "triangle", 2,000 steps)
    bias: str = "learned"    # learned: per-position bias over the vocabulary (starts at the log frequency);
                             # class: fixed 0 / -20 (the words each position holds in training) + a learned pad
                             # offset, so no word of a position is preferred over another by how often it was seen
    gate: str = "conv"       # what the gate reads: conv = a `window`-wide window; gru = the whole prompt, in
                             # order (a bidirectional GRU; it can still only silence a vote)
    null_logit: float = 4.0  # fixed head start of the null class in every vote (not decayed)
    arch: str = "align"      # tells load_adapter which student a videoforge-text-adapter/2 file holds
    # session 10: dictionary knowledge (adapt/lexicon.py). Each character also votes through the concepts
    # (colour / shape / direction / speed) that CC-CEDICT's glosses of the word it stands in name, so a
    # synonym whose characters training never saw is still read. Off in older adapters (they load as before).
    lexicon: bool = False
    lexicon_table: dict | None = None    # concept -> English gloss words (None: lexicon.CONCEPT_WORDS when on)
    # session 11: a dictionary word whose glosses name no concept of the table gets the concepts WordNet relates its
    # gloss words to (adapt/wordnet.py; Debian's wordnet-base). Off in older adapters.
    lexicon_wordnet: bool = False


class AlignStudent(CharTranslator, nn.Module):
    """Chinese characters -> per English position, logits over the English encoder's vocabulary,
    from per-character identity votes gated by a local window."""

    kind = "tokens"          # the AdaptedTextEncoder path: translate, then the frozen encoder encodes

    def __init__(self, chars: list[str], out_vocab: list[str], cfg: AlignConfig):
        super().__init__()
        if cfg.window % 2 != 1:
            raise ValueError(f"window must be odd, not {cfg.window}")
        self.cfg = cfg
        self.vocab = ["<pad>", "<unk>"] + [c for c in chars if c not in ("<pad>", "<unk>")]
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self.out_vocab = list(out_vocab)          # the teacher's, <pad> = 0 and <unk> = 1 first
        V = len(self.out_vocab)
        self.vote = nn.Embedding(len(self.vocab), V + 1)           # identity -> vocabulary + null
        self.embed = nn.Embedding(len(self.vocab), cfg.dim)
        if cfg.gate == "gru":
            self.context = nn.GRU(cfg.dim, cfg.dim // 2, batch_first=True, bidirectional=True)
        elif cfg.gate == "conv":
            self.context = nn.Conv1d(cfg.dim, cfg.dim, cfg.window, padding=cfg.window // 2)
        else:
            raise ValueError(f"gate must be conv or gru, not {cfg.gate!r}")
        self.gate = nn.Linear(cfg.dim, 1)
        if cfg.bias not in ("learned", "class"):
            raise ValueError(f"bias must be learned or class, not {cfg.bias!r}")
        self.bias = nn.Parameter(torch.zeros(cfg.out_len, V))
        self.pad_offset = nn.Parameter(torch.zeros(cfg.out_len))     # used by bias="class" only
        # votes start null and are earned: a character the training saw rarely (or only where it means
        # nothing) keeps voting null instead of a random word (a random start and weight decay left
        # rare characters such as 缓 voting "fast" in cross-validation)
        nn.init.zeros_(self.vote.weight)
        if cfg.lexicon:
            from videoforge.adapt.lexicon import CONCEPT_WORDS

            if cfg.lexicon_table is None:
                cfg.lexicon_table = {c: list(ws) for c, ws in CONCEPT_WORDS.items()}
            C = len(cfg.lexicon_table)
            # concept -> vote logits (start null, as the characters' do) and -> what the gate reads
            self.concept_vote = nn.Parameter(torch.zeros(C, V + 1))
            self.concept_embed = nn.Linear(C, cfg.dim, bias=False)
        self._lexicon = None
        self.register_buffer("null_offset", torch.full((V + 1,), 0.0).index_fill_(0, torch.tensor([V]), cfg.null_logit),
                             persistent=False)

    @torch.no_grad()
    def set_prior(self, targets: list[list[int]], floor: float = 1e-4) -> None:
        """Start each position's bias at the log frequency of each word there in the training
        English prompts (one per composition and speed, not per sample), so the votes only have
        to tell words of one position apart."""
        counts = torch.zeros_like(self.bias)
        for row in targets:
            for j, e in enumerate(row[: self.cfg.out_len]):
                counts[j, e] += 1
        if self.cfg.bias == "class":
            self.bias.copy_(torch.where(counts > 0, 0.0, -20.0))
            self.bias.requires_grad_(False)
        else:
            self.bias.copy_(torch.log(counts / counts.sum(1, keepdim=True) + floor))

    @property
    def lexicon(self):
        if self._lexicon is None:
            from videoforge.adapt.lexicon import Lexicon

            self._lexicon = Lexicon(self.cfg.lexicon_table, wordnet=self.cfg.lexicon_wordnet)
        return self._lexicon

    def concept_rows(self, prompts: list[str]) -> list[list[tuple[int, ...]]]:
        """Per prompt, the dictionary concepts of each character (aligned with `ids`)."""
        return [self.lexicon.char_concepts(p)[: self.cfg.max_chars] for p in prompts]

    def concept_tensor(self, rows: list[list[tuple[int, ...]]], length: int) -> torch.Tensor:
        """(B, length, concepts) multi-hot from per-character concept tuples (zero-padded)."""
        con = torch.zeros(len(rows), length, len(self.cfg.lexicon_table), device=self.embed.weight.device)
        for b, r in enumerate(rows):
            for t, cs in enumerate(r[:length]):
                for c in cs:
                    con[b, t, c] = 1.0
        return con

    def english_ids(self, prompts: list[str]) -> list[list[int]]:
        if not self.cfg.lexicon:
            return super().english_ids(prompts)
        tok = self.ids(prompts)
        best = self(tok, self.concept_tensor(self.concept_rows(prompts), tok.shape[1])).argmax(-1).tolist()
        return [row[: row.index(0)] if 0 in row else row for row in best]

    def votes(self, tok: torch.Tensor, con: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(gate (B, T), vote distribution (B, T, V+1)) per character; padding has gate 0.
        con: (B, T, concepts) dictionary concepts per character (lexicon students; None = none known)."""
        mask = (tok != 0).float()
        h = self.embed(tok) * mask[..., None]
        logits = self.vote(tok) + self.null_offset
        if self.cfg.lexicon and con is not None:
            h = h + self.concept_embed(con) * mask[..., None]
            logits = logits + con @ self.concept_vote
        if self.cfg.gate == "gru":     # packed: a prompt's gates do not depend on the batch's padding
            lengths = (tok != 0).sum(1).clamp(min=1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
            ctx = nn.utils.rnn.pad_packed_sequence(self.context(packed)[0], batch_first=True,
                                                   total_length=tok.shape[1])[0]
        else:
            ctx = torch.relu(self.context(h.transpose(1, 2))).transpose(1, 2)
        gate = torch.sigmoid(self.gate(ctx + h)).squeeze(-1) * mask
        return gate, logits.softmax(-1)

    def forward(self, tok: torch.Tensor, con: torch.Tensor | None = None) -> torch.Tensor:
        gate, vote = self.votes(tok, con)
        V = len(self.out_vocab)
        mass = torch.einsum("bt,btv->bv", gate, vote[..., :V])              # null votes count for nothing
        bias = self.bias
        if self.cfg.bias == "class":
            bias = bias.index_add(1, torch.tensor([0], device=bias.device), self.pad_offset[:, None])
        return bias[None] + self.cfg.scale * mass[:, None, :]                # (B, out_len, V)


def slot_noise_ids(index: dict[str, int], segments: list[tuple[str, str | None]], p: float,
                   rng: random.Random, max_chars: int) -> list[int]:
    """Character ids of a phrasing given as (text, slot) pieces (zh_prompts.sample_rich_segments),
    with training noise: function pieces (slot None) get `_corrupt` (replace / delete / insert an
    unknown character, each at rate p); content pieces keep every character and only get unknown
    characters inserted before some (rate p), so no slot ever loses its own evidence."""
    out: list[int] = []
    for text, slot in segments:
        r = [index.get(c, 1) for c in text if not c.isspace()]
        if slot == "marker":          # from-to structure (zh_prompts.fromto_segments): kept as it is
            out += r
        elif slot is None:
            out += _corrupt(r, p, rng)
        else:
            for i in r:
                if rng.random() < p:
                    out.append(1)
                out.append(i)
    return (out or [1])[:max_chars]


SLOT_OF = {"colour": 0, "shape": 1, "direction": 2}


def lexicon_noise(student: AlignStudent, segments: list[tuple[str, str | None]], combo: tuple[str, str, str],
                  fast: bool, p: float, char_drop: float, concept_drop: float,
                  rng: random.Random, unknown_all: bool = True,
                  keep_slots: tuple[str, ...] = ()) -> tuple[list[int], list[tuple[int, ...]]]:
    """`slot_noise_ids` for a lexicon student, with each character's dictionary concepts beside its id.

    The concepts come from the dictionary segmentation of the whole (clean) phrasing, as at
    inference. Function characters get `_corrupt`'s noise (a replaced one keeps its concepts: an
    unseen character still has its dictionary entry; an inserted unknown one has none). A content
    word loses its characters' identities (all become unknown) with rate `char_drop` when the
    dictionary names its own concept (a colour word whose glosses say its colour; `unknown_all`=False:
    only its characters that have concepts, round 2 of session 10; `keep_slots`: the slots where only
    those are blanked even with unknown_all, e.g. ("direction",) for from-to phrases): that is how a synonym training never saw looks, so the concept votes learn to carry a word alone; with rate
    `concept_drop` it loses its concepts instead (a word the dictionary lacks: the characters
    carry it). A content word never loses both, so no slot is left to be guessed from its partners."""
    text = "".join(t for t, _ in segments)
    concepts = student.lexicon.char_concepts(text)
    names = student.lexicon.concepts
    ids: list[int] = []
    cons: list[tuple[int, ...]] = []
    at = 0
    for piece, slot in segments:
        chars = [c for c in piece if not c.isspace()]
        pc = concepts[at: at + len(chars)]
        at += len(chars)
        r = [student.index.get(c, 1) for c in chars]
        if slot == "marker":          # from-to structure (zh_prompts.fromto_segments): kept with its concepts
            ids += r
            cons += pc
            continue
        if slot is None:
            for i, c in zip(r, pc):
                u = rng.random()
                if u < p:
                    ids.append(1), cons.append(c)
                elif u < 2 * p:
                    continue
                elif u < 3 * p:
                    ids += [1, i]
                    cons += [(), c]
                else:
                    ids.append(i), cons.append(c)
            continue
        own = (("fast" if fast else "slow") if slot == "speed" else combo[SLOT_OF[slot]])
        u = rng.random()
        if u < char_drop and any(names.index(own) in c for c in pc):
            if unknown_all and slot not in keep_slots:
                r = [1] * len(r)
            else:       # only the characters the dictionary gives a concept: 从 / 往 of 从右往左 stay, so the
                # gate can still tell the source from the goal (unknown_all made both sides unknown: frozen v5's
                # from-to directions went from 23 misreads to 87, read after v6's scoring)
                r = [1 if c else i for i, c in zip(r, pc)]
        elif u < char_drop + concept_drop:
            pc = [()] * len(pc)
        for i, c in zip(r, pc):
            if rng.random() < p:
                ids.append(1), cons.append(())
            ids.append(i), cons.append(c)
    if not ids:
        ids, cons = [1], [()]
    return ids[: student.cfg.max_chars], cons[: student.cfg.max_chars]


@dataclass(frozen=True)
class Recipe:
    """The training settings `train-text-adapter --student align` uses (with its --steps / --drop)."""
    bias: str = "class"
    gate: str = "gru"            # second round: pair-CV 0.946 vs 0.936 for the width-3 window (scored on frozen v4)
    lr: float = 0.05             # a 20 k-parameter model of one-step lookups: 2e-3 had not converged at 2,000 steps
    slot_noise: bool = True
    label_smoothing: float = 0.0
    lexicon: bool = False        # session 10: + CC-CEDICT concepts (needs the `zh` extra); see SHIPPED
    char_drop: float = 0.3
    concept_drop: float = 0.2
    unknown_all: bool = True     # char_drop makes every character of the word unknown (False: only those with concepts)
    keep_slots: tuple = ()       # slots where char_drop blanks only the characters with concepts even so
    wordnet: bool = False        # session 11: + WordNet relations for glosses the table cannot read (lexicon only)
    grammar: str = "rich"        # session 11: a zh_prompts.GRAMMARS name ("rich_fromto": + from-to direction phrases)

    def train_kwargs(self, lexicon: bool | None = None, wordnet: bool | None = None) -> dict:
        """Keyword arguments of train_token_adapter; `lexicon` / `wordnet` override the recipe's choice."""
        from videoforge.adapt import zh_prompts

        lex = self.lexicon if lexicon is None else lexicon
        wn = lex and (self.wordnet if wordnet is None else wordnet)
        kw = {"cfg": AlignConfig(bias=self.bias, gate=self.gate, lexicon=lex, lexicon_wordnet=wn), "lr": self.lr,
              "slot_noise": self.slot_noise, "label_smoothing": self.label_smoothing}
        if self.grammar != "rich":
            kw["rich"] = zh_prompts.GRAMMARS[self.grammar]
        if lex:
            kw.update(char_drop=self.char_drop, concept_drop=self.concept_drop, unknown_all=self.unknown_all,
                      keep_slots=tuple(self.keep_slots))
        return kw


# chosen by benchmarks/zh_cv.py --hold pairs (session 9: align_ub at 4,000 steps, then align_ub_gru; session 10:
# align_lex_cd5, mean recall@1 0.953 vs 0.949 for char_drop 0.3 and 0.946 without the lexicon; docs/benchmarks/adapt.md)
SHIPPED = Recipe(lexicon=True, char_drop=0.5, concept_drop=0.2)
