"""The session-8 Chinese student: translate INTO the English encoder's input, let it compose.

The session-6/7 student regressed the English encoder's output states directly: every output
position of that encoder mixes all words of the prompt (self-attention), so the student had to
learn each composition's states and memorised the compositions it was trained on (frozen set v2:
recall@1 0.865 on trained compositions, 0.688 on held-out ones).

This student instead predicts, for each English token position, a distribution over the English
encoder's own vocabulary (cross-entropy on the paired English prompt's token ids; the pad class
ends the prompt, so the length is learned too). At inference the argmax words form an English
prompt that the frozen English encoder encodes as usual: composition is left to the encoder that
already knows it, and a prompt decoded right gives exactly the English prompt's embedding.
Optionally (`e2e_weight` > 0) training adds the old objective end to end: straight-through
one-hot token embeddings (forward hard, gradient soft) go through the frozen English encoder and
its output states are pulled to the teacher's (MSE + contrastive on pooled states).

Characters are read by embeddings + one width-3 convolution (the default, depth 0: no attention
across the prompt, so a character's features are local) or a small transformer (depth > 0);
learned position queries cross-attend to them through a 2-layer transformer decoder (or, with
decoder_depth 0, one cross-attention and no attention between positions). Cross-validation on
the training side (benchmarks/zh_cv.py, session 8) chose depth 0 with the 2-layer decoder: a
transformer over the characters fitted the training compositions and lost 20-30 points of
recall on compositions removed from the fold.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from videoforge.adapt import zh_prompts
from videoforge.adapt.text_adapter import _corrupt as corrupt  # the state student's training noise
from videoforge.adapt.text_adapter import _training_setup
from videoforge.models.text import TinyTextEncoder, words


@dataclass
class TokenConfig:
    dim: int = 64
    depth: int = 0           # character encoder layers (0: a width-3 convolution only; chosen by zh_cv.py, session 8)
    decoder_depth: int = 2   # position-query decoder layers (0: one cross-attention, no attention between positions)
    heads: int = 4
    max_chars: int = 48
    out_len: int = 8         # English token positions predicted (the demo's prompts have 5-7)


def require_tiny(teacher) -> TinyTextEncoder:
    if not isinstance(teacher, TinyTextEncoder):
        raise ValueError(f"the token student needs the generator's word-level TinyTextEncoder (its vocabulary is "
                         f"the output space), not {type(teacher).__name__}")
    return teacher


class CrossOnly(nn.Module):
    """Each English position reads the characters through one cross-attention, then an MLP; no
    position sees another's choice (a slot's word cannot lean on which other words co-occur)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm_q, self.norm_m = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, q: torch.Tensor, memory: torch.Tensor, memory_key_padding_mask: torch.Tensor) -> torch.Tensor:
        m = self.norm_m(memory)
        h = q + self.attn(self.norm_q(q), m, m, key_padding_mask=memory_key_padding_mask, need_weights=False)[0]
        return h + self.mlp(h)


class CharTranslator:
    """What the token and align students share: Chinese prompts -> padded character ids, and the
    English prompt read from the student's logits. For a student with `index` (character -> id; 1
    is unknown), `cfg.max_chars`, an `embed` table (its device is where the ids go), `out_vocab`
    and a forward giving (B, out_len, len(out_vocab)) logits over English token ids."""

    def ids(self, prompts: list[str], drop: float = 0.0, rng: random.Random | None = None) -> torch.Tensor:
        rows = []
        for p in prompts:
            r = [self.index.get(c, 1) for c in p if not c.isspace()][: self.cfg.max_chars] or [1]
            if drop and rng is not None:
                r = corrupt(r, drop, rng) or r
            rows.append(r[: self.cfg.max_chars])
        return self.pad(rows)

    def pad(self, rows: list[list[int]]) -> torch.Tensor:
        """Rows of character ids -> a zero-padded (B, T) tensor."""
        tok = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long, device=self.embed.weight.device)
        for k, r in enumerate(rows):
            tok[k, : len(r)] = torch.tensor(r[: self.cfg.max_chars])
        return tok

    def english_ids(self, prompts: list[str]) -> list[list[int]]:
        """Argmax English token ids per prompt, up to the first <pad>."""
        best = self(self.ids(prompts)).argmax(-1).tolist()
        out = []
        for row in best:
            n = row.index(0) if 0 in row else len(row)
            out.append(row[:n])
        return out

    def translate(self, prompts: list[str]) -> list[str]:
        """The English prompt each Chinese prompt is read as (words joined by spaces: the English
        encoder's tokeniser splits them back into the same ids)."""
        return [" ".join(self.out_vocab[i] for i in ids) for ids in self.english_ids(prompts)]

    def encode_with(self, teacher, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """The English encoder's states of the translated prompts."""
        return teacher.encode(self.translate(prompts))


class TokenStudent(CharTranslator, nn.Module):
    """Chinese characters -> per English position, logits over the English encoder's vocabulary."""

    kind = "tokens"

    def __init__(self, chars: list[str], out_vocab: list[str], cfg: TokenConfig):
        super().__init__()
        self.cfg = cfg
        self.vocab = ["<pad>", "<unk>"] + [c for c in chars if c not in ("<pad>", "<unk>")]
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self.out_vocab = list(out_vocab)          # the teacher's, <pad> = 0 and <unk> = 1 first
        self.embed = nn.Embedding(len(self.vocab), cfg.dim)
        self.pos = nn.Parameter(torch.randn(cfg.max_chars, cfg.dim) * 0.02)
        if cfg.depth > 0:
            enc = nn.TransformerEncoderLayer(cfg.dim, cfg.heads, 4 * cfg.dim, dropout=0.0, batch_first=True,
                                             norm_first=True)
            self.encoder = nn.TransformerEncoder(enc, cfg.depth, enable_nested_tensor=False)
        else:
            self.encoder = nn.Conv1d(cfg.dim, cfg.dim, 3, padding=1)
        self.queries = nn.Parameter(torch.randn(cfg.out_len, cfg.dim) * 0.02)
        if cfg.decoder_depth > 0:
            dec = nn.TransformerDecoderLayer(cfg.dim, cfg.heads, 4 * cfg.dim, dropout=0.0, batch_first=True,
                                             norm_first=True)
            self.decoder = nn.TransformerDecoder(dec, cfg.decoder_depth)
        else:
            self.decoder = CrossOnly(cfg.dim, cfg.heads)
        self.head = nn.Sequential(nn.LayerNorm(cfg.dim), nn.Linear(cfg.dim, len(self.out_vocab)))

    def forward(self, tok: torch.Tensor) -> torch.Tensor:
        mask = tok != 0
        h = self.embed(tok) + self.pos[: tok.shape[1]]
        if self.cfg.depth > 0:
            h = self.encoder(h, src_key_padding_mask=~mask)
        else:
            h = torch.relu(self.encoder((h * mask[..., None]).transpose(1, 2))).transpose(1, 2) + h
        q = self.queries.unsqueeze(0).expand(tok.shape[0], -1, -1)
        return self.head(self.decoder(q, h, memory_key_padding_mask=~mask))


def _teacher_from_embeddings(teacher: TinyTextEncoder, emb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """TinyTextEncoder.encode from token embeddings instead of ids (the same layers, in order)."""
    h = emb + teacher.pos[: emb.shape[1]]
    if teacher.encoder is not None:          # depth 0: a per-word encoder has no attention layers
        h = teacher.encoder(h, src_key_padding_mask=~mask)
    return teacher.norm(h)


def token_targets(teacher: TinyTextEncoder, english: list[str], out_len: int) -> dict[str, list[int]]:
    out = {}
    for p in english:
        ids = [teacher.index.get(w, 1) for w in words(p)]
        if len(ids) > out_len:
            raise ValueError(f"prompt {p!r} has {len(ids)} tokens; the adapter predicts at most {out_len}")
        out[p] = ids + [0] * (out_len - len(ids))
    return out


def _lexicon_sha() -> str:
    from videoforge.adapt.lexicon import data_sha256

    return data_sha256()


def _wordnet_sha() -> str:
    from videoforge.adapt.wordnet import data_sha256

    return data_sha256()


def train_token_adapter(teacher, steps: int = 1500, batch: int = 32, lr: float = 2e-3, seed: int = 0,
                        cfg: TokenConfig | None = None, combos: list | None = None, progress: bool = True,
                        rich: dict | None = None, drop: float = 0.2, ce_weight: float = 1.0, e2e_weight: float = 0.0,
                        nce_weight: float = 0.1, slot_noise: bool = False, label_smoothing: float = 0.0,
                        char_drop: float = 0.3, concept_drop: float = 0.2, unknown_all: bool = True,
                        keep_slots: tuple = ()) -> tuple[TokenStudent, dict]:
    """Train a TokenStudent (or, with an AlignConfig `cfg`, the session-9 AlignStudent of
    adapt/align_student.py) on phrasings sampled from the rich grammar `rich` (default
    zh_prompts.RICH) of `combos` (default: the adapter's training split).

    slot_noise: the character noise spares content words (align_student.slot_noise_ids: they only
    get unknown characters inserted beside them); default False = the session-8 noise on every
    character (`corrupt`).

    char_drop / concept_drop: for an AlignConfig with lexicon=True (session 10), the rates at which a
    content word loses its characters' identities (only where the dictionary names its concept) or its
    dictionary concepts (align_student.lexicon_noise). Lexicon students need slot_noise.

    Loss = ce_weight x cross-entropy on the English token ids (pad included)
         + e2e_weight x (MSE of the English encoder's states from straight-through token embeddings
           to the teacher's states + nce_weight x contrastive on pooled states)."""
    teacher = require_tiny(teacher)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    train_combos = combos if combos is not None else zh_prompts.adapter_split()[0]
    cfg = cfg or TokenConfig()
    english = sorted({zh_prompts.english(c, f) for c in train_combos for f in (False, True)})
    targets = token_targets(teacher, english, cfg.out_len)
    g = rich or zh_prompts.RICH
    from videoforge.adapt.align_student import AlignConfig, AlignStudent, lexicon_noise, slot_noise_ids

    kind = AlignStudent if isinstance(cfg, AlignConfig) else TokenStudent
    student = kind(sorted(zh_prompts.rich_vocabulary(g)), teacher.vocab, cfg)
    lexicon = kind is AlignStudent and cfg.lexicon
    if lexicon and not slot_noise:
        raise ValueError("a lexicon student trains with slot_noise (its noise needs the grammar's word slots)")
    if kind is AlignStudent:
        student.set_prior([targets[e] for e in english])
    teacher_states = {}
    if e2e_weight > 0:
        with torch.no_grad():
            s, m = teacher.encode(english)
        for k, p in enumerate(english):
            pad = torch.zeros(cfg.out_len, s.shape[-1])
            pad[: int(m[k].sum())] = s[k, : int(m[k].sum())]
            teacher_states[p] = pad
    frozen_params = [p for p in teacher.parameters()]
    was = [p.requires_grad for p in frozen_params]
    for p in frozen_params:
        p.requires_grad_(False)
    opt, sched, bar = _training_setup(student, lr, steps, progress)
    log, t0 = [], time.perf_counter()
    student.train()
    try:
        for step in range(steps):
            picks = []
            for _ in range(batch):
                c, f = rng.choice(train_combos), rng.random() < 0.5
                if slot_noise:
                    picks.append((c, f, zh_prompts.sample_rich_segments(c, f, rng, g)))
                else:
                    picks.append((c, f, zh_prompts.sample_rich(c, f, rng, g)))
            en = [zh_prompts.english(c, f) for c, f, _ in picks]
            tgt = torch.tensor([targets[e] for e in en])
            con = None
            if lexicon:
                rows = [lexicon_noise(student, p, c, f, drop, char_drop, concept_drop, rng, unknown_all,
                                      tuple(keep_slots))
                        for c, f, p in picks]
                tok = student.pad([r for r, _ in rows])
                con = student.concept_tensor([k for _, k in rows], tok.shape[1])
            elif slot_noise:
                tok = student.pad([slot_noise_ids(student.index, p, drop, rng, cfg.max_chars) for _, _, p in picks])
            else:
                tok = student.ids([p for _, _, p in picks], drop=drop, rng=rng)
            logits = student(tok) if con is None else student(tok, con)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), label_smoothing=label_smoothing)
            loss, rec = ce_weight * ce, {"ce": ce}
            if e2e_weight > 0:
                probs = logits.softmax(-1)
                hard = F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)
                onehot = hard + probs - probs.detach()            # straight-through
                mask = tgt != 0
                states = _teacher_from_embeddings(teacher, onehot @ teacher.embed.weight, mask)
                want = torch.stack([teacher_states[e] for e in en])
                valid = mask.float()
                mse = (((states - want) ** 2).mean(-1) * valid).sum() / valid.sum()
                n = valid.sum(1, keepdim=True)
                ps = F.normalize((states * valid[..., None]).sum(1) / n, dim=-1)
                pt = F.normalize((want * valid[..., None]).sum(1) / n, dim=-1)
                same = torch.tensor([[a == b for b in en] for a in en])
                sim = (ps @ pt.T / 0.05).masked_fill(same & ~torch.eye(batch, dtype=torch.bool), -1e4)
                nce = F.cross_entropy(sim, torch.arange(batch))
                loss = loss + e2e_weight * (mse + nce_weight * nce)
                rec.update(mse=mse, nce=nce)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if step % 100 == 0 or step == steps - 1:
                acc = (logits.argmax(-1) == tgt).all(-1).float().mean()
                log.append({k: float(v.detach()) for k, v in rec.items()} | {"loss": float(loss.detach()),
                                                                          "exact": float(acc), "step": step})
            if bar is not None:
                bar.update(1)
    finally:
        for p, w in zip(frozen_params, was):
            p.requires_grad_(w)
        if bar is not None:
            bar.close()
    student.eval()
    return student, {"steps": steps, "seconds": time.perf_counter() - t0, "log": log, "student": "tokens",
                     "parameters": sum(p.numel() for p in student.parameters()),
                     "train_combos": len(train_combos), "grammar": zh_prompts.grammar_name(g), "drop": drop,
                     "arch": getattr(cfg, "arch", "decoder"), "slot_noise": slot_noise, "label_smoothing": label_smoothing,
                     **({"lexicon": True, "char_drop": char_drop, "concept_drop": concept_drop, "unknown_all": unknown_all,
                         "keep_slots": list(keep_slots),
                         "lexicon_sha256": _lexicon_sha()} if lexicon else {}),
                     **({"wordnet": True, "wordnet_sha256": _wordnet_sha()}
                        if lexicon and getattr(cfg, "lexicon_wordnet", False) else {}),
                     **({"grammar_extra": sorted(set(g) - set(zh_prompts.RICH))} if set(g) - set(zh_prompts.RICH) else {}),
                     "loss_weights": {"ce": ce_weight, "e2e": e2e_weight, "nce": nce_weight}}
