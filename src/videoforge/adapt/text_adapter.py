"""A Chinese prompt adapter for a trained generator, learned by distillation (issue 22).

OPPO added Chinese prompts to an English-prompt generator by training a student text encoder
to reproduce the English encoder's output for the English counterpart of each Chinese prompt,
leaving the generator untouched. Here the student is character-level (Chinese has no spaces
to split words on): a small transformer over the prompt's characters, then learned position
queries that cross-attend to it and emit the teacher's token states one position at a time,
plus a head that predicts how many tokens the English prompt has (the generator's
cross-attention mask). Loss: MSE to the teacher's states + a contrastive term on the pooled
states (so two prompts that differ in one word stay apart) + the length's cross-entropy.

`AdaptedTextEncoder` routes Chinese prompts to the student and everything else to the
teacher untouched: English prompts give bit-identical embeddings.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from videoforge.adapt import zh_prompts
from videoforge.models.text import TextEncoder, words

FORMAT = "videoforge-text-adapter/1"           # a state student (sessions 6-7)
FORMAT_TOKENS = "videoforge-text-adapter/2"    # a token student (session 8, adapt/token_student.py)


@dataclass
class AdapterConfig:
    dim: int = 64
    depth: int = 2           # character encoder layers
    decoder_depth: int = 1   # position-query decoder layers
    heads: int = 4
    max_chars: int = 40      # 48 for the rich grammar (its phrasings run to ~30 characters)
    out_len: int = 8         # teacher positions predicted (the demo's prompts have 5-7 tokens)
    out_dim: int = 64        # the teacher's state width


def teacher_hash(teacher: TextEncoder) -> str:
    """SHA-256 of the teacher's spec and weights: the adapter only fits the encoder it learned from."""
    h = hashlib.sha256(repr(sorted(teacher.spec().items())).encode())
    for name, t in sorted(teacher.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()



def _training_setup(student: nn.Module, lr: float, steps: int, progress: bool):
    """AdamW with 100 warm-up steps and cosine decay, and a progress bar (or None): shared by the
    state student and the token student (adapt/token_student.py)."""
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=steps, desc="text adapter", unit="step")
    return opt, sched, bar

def _corrupt(ids: list[int], p: float, rng: random.Random) -> list[int]:
    """Training noise, each with probability `p` per character: replace it by <unk>, delete it, or
    put an <unk> before it. New phrasings bring characters the student never saw (connectives,
    synonyms sharing only one character with a trained word): it learns to read past them."""
    out = []
    for i in ids:
        u = rng.random()
        if u < p:
            out.append(1)
        elif u < 2 * p:
            continue
        elif u < 3 * p:
            out += [1, i]
        else:
            out.append(i)
    return out


class CharStudent(nn.Module):
    """Characters -> (out_len, out_dim) token states + a length distribution."""

    def __init__(self, vocab: list[str], cfg: AdapterConfig):
        super().__init__()
        self.cfg = cfg
        self.vocab = ["<pad>", "<unk>"] + [c for c in vocab if c not in ("<pad>", "<unk>")]
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self.embed = nn.Embedding(len(self.vocab), cfg.dim)
        self.pos = nn.Parameter(torch.randn(cfg.max_chars, cfg.dim) * 0.02)
        enc = nn.TransformerEncoderLayer(cfg.dim, cfg.heads, 4 * cfg.dim, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(enc, cfg.depth, enable_nested_tensor=False)
        self.queries = nn.Parameter(torch.randn(cfg.out_len, cfg.dim) * 0.02)
        dec = nn.TransformerDecoderLayer(cfg.dim, cfg.heads, 4 * cfg.dim, dropout=0.0, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(dec, cfg.decoder_depth)
        self.out = nn.Sequential(nn.LayerNorm(cfg.dim), nn.Linear(cfg.dim, cfg.out_dim))
        self.length = nn.Linear(cfg.dim, cfg.out_len)   # class k = k + 1 tokens

    def ids(self, prompts: list[str], drop: float = 0.0, rng: random.Random | None = None) -> torch.Tensor:
        rows = []
        for p in prompts:
            chars = [c for c in p if not c.isspace()][: self.cfg.max_chars] or ["<unk>"]
            r = [self.index.get(c, 1) for c in chars]
            if drop and rng is not None:
                r = _corrupt(r, drop, rng) or r
            rows.append(r[: self.cfg.max_chars])
        tok = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long, device=self.embed.weight.device)
        for k, r in enumerate(rows):
            tok[k, : len(r)] = torch.tensor(r)
        return tok

    def forward(self, tok: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = tok != 0
        h = self.encoder(self.embed(tok) + self.pos[: tok.shape[1]], src_key_padding_mask=~mask)
        q = self.queries.unsqueeze(0).expand(tok.shape[0], -1, -1)
        states = self.out(self.decoder(q, h, memory_key_padding_mask=~mask))
        pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return states, self.length(pooled)

    def encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        states, length_logits = self(self.ids(prompts))
        n = length_logits.argmax(-1) + 1
        mask = torch.arange(self.cfg.out_len, device=states.device)[None] < n[:, None]
        return states, mask


class AdaptedTextEncoder(TextEncoder):
    """The generator's text encoder with a Chinese student beside it: Chinese prompts go to the
    student, all others to the teacher (unchanged, so English embeddings are bit-identical)."""

    def __init__(self, teacher: TextEncoder, student: nn.Module):
        super().__init__()
        self.teacher, self.student = teacher, student.requires_grad_(False)
        self.dim = teacher.dim
        self.trainable = False

    def encode_student(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """States and mask for Chinese prompts: a token student (session 8) translates them into
        English and the teacher encodes that; a state student (sessions 6-7) emits states itself."""
        if getattr(self.student, "kind", "states") == "tokens":
            return self.student.encode_with(self.teacher, prompts)
        return self.student.encode(prompts)

    def encode(self, prompts):
        # no grad-mode change of its own: the teacher runs exactly as it would alone (PyTorch's
        # transformer takes another kernel path under no_grad), so English stays bit-identical
        prompts = list(prompts)
        zh = [i for i, p in enumerate(prompts) if zh_prompts.is_chinese(p)]
        if not zh:
            return self.teacher.encode(prompts)
        en = [i for i in range(len(prompts)) if i not in set(zh)]
        parts = {}
        if en:
            s, m = self.teacher.encode([prompts[i] for i in en])
            parts.update({i: (s[k], m[k]) for k, i in enumerate(en)})
        s, m = self.encode_student([prompts[i] for i in zh])
        parts.update({i: (s[k], m[k]) for k, i in enumerate(zh)})
        L = max(v[0].shape[0] for v in parts.values())
        ref = next(iter(parts.values()))[0]
        states = ref.new_zeros(len(prompts), L, ref.shape[-1])
        mask = torch.zeros(len(prompts), L, dtype=torch.bool, device=ref.device)
        for i, (s, m) in parts.items():
            states[i, : s.shape[0]], mask[i, : m.shape[0]] = s, m
        return states, mask

    def spec(self):
        return self.teacher.spec()


def _teacher_targets(teacher: TextEncoder, english: list[str], out_len: int) -> dict[str, tuple[torch.Tensor, int]]:
    with torch.no_grad():
        s, m = teacher.encode(english)
    out = {}
    for k, p in enumerate(english):
        n = int(m[k].sum())
        if n > out_len:
            raise ValueError(f"prompt {p!r} has {n} tokens; the adapter predicts at most {out_len}")
        pad = torch.zeros(out_len, s.shape[-1])
        pad[:n] = s[k, :n]
        out[p] = (pad, n)
    return out


def train_adapter(teacher: TextEncoder, steps: int = 2000, batch: int = 32, lr: float = 2e-3, seed: int = 0,
                  cfg: AdapterConfig | None = None, combos: list | None = None, progress: bool = True,
                  grammar: str = "rich", rich: dict | None = None, drop: float = 0.1, mse_weight: float = 1.0,
                  nce_weight: float = 0.1, length_weight: float = 0.1) -> tuple[CharStudent, dict]:
    """Distil `teacher` (English) into a character-level Chinese student on the training phrasings
    of `combos` (default: the adapter's training split). Returns (student, training log).

    grammar: "rich" samples a fresh phrasing per example from `rich` (default zh_prompts.RICH;
    cross-validation passes a fold's grammar); "templates" draws from the three session-6
    templates (the old behaviour). drop: per-character noise rate (see `_corrupt`).
    Loss = mse_weight x MSE + nce_weight x contrastive + length_weight x length CE."""
    if grammar not in ("rich", "templates"):
        raise ValueError(f"grammar must be rich or templates, not {grammar!r}")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    train_combos = combos if combos is not None else zh_prompts.adapter_split()[0]
    english = sorted({zh_prompts.english(c, f) for c in train_combos for f in (False, True)})
    cfg = cfg or AdapterConfig(max_chars=48 if grammar == "rich" else 40)
    targets = _teacher_targets(teacher, english, cfg.out_len)
    cfg.out_dim = teacher.dim
    if grammar == "rich":
        g = rich or zh_prompts.RICH
        vocab = sorted(zh_prompts.rich_vocabulary(g))
        n_pool = None

        def draw():
            c, f = rng.choice(train_combos), rng.random() < 0.5
            return c, f, zh_prompts.sample_rich(c, f, rng, g)
    else:
        pool = zh_prompts.all_prompts(train_combos, held_out_phrasing=False)
        vocab = sorted({ch for _, _, p in pool for ch in p})
        n_pool = len(pool)

        def draw():
            return rng.choice(pool)
    student = CharStudent(vocab, cfg)
    opt, sched, bar = _training_setup(student, lr, steps, progress)
    log, t0 = [], time.perf_counter()
    for step in range(steps):
        picks = [draw() for _ in range(batch)]
        zh = [p for _, _, p in picks]
        en = [zh_prompts.english(c, f) for c, f, _ in picks]
        tgt = torch.stack([targets[e][0] for e in en])
        n = torch.tensor([targets[e][1] for e in en])
        states, length_logits = student(student.ids(zh, drop=drop, rng=rng))
        valid = (torch.arange(cfg.out_len)[None] < n[:, None]).float()
        mse = (((states - tgt) ** 2).mean(-1) * valid).sum() / valid.sum()
        ps = F.normalize((states * valid[..., None]).sum(1) / n[:, None], dim=-1)
        pt = F.normalize((tgt * valid[..., None]).sum(1) / n[:, None], dim=-1)
        # contrastive over the batch; rows sharing an English prompt are not negatives of each other
        logits = ps @ pt.T / 0.05
        same = torch.tensor([[a == b for b in en] for a in en])
        logits = logits.masked_fill(same & ~torch.eye(batch, dtype=torch.bool), -1e4)
        nce = F.cross_entropy(logits, torch.arange(batch))
        ce = F.cross_entropy(length_logits, n - 1)
        loss = mse_weight * mse + nce_weight * nce + length_weight * ce
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log.append({k: float(v.detach()) for k, v in (("loss", loss), ("mse", mse), ("nce", nce), ("length_ce", ce))}
                       | {"step": step})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    student.eval()
    return student, {"steps": steps, "seconds": time.perf_counter() - t0, "log": log,
                     "parameters": sum(p.numel() for p in student.parameters()),
                     "train_prompts": n_pool, "train_combos": len(train_combos), "grammar": grammar,
                     "drop": drop, "loss_weights": {"mse": mse_weight, "nce": nce_weight, "length": length_weight}}


def save_adapter(path: str, student: nn.Module, teacher: TextEncoder, info: dict | None = None) -> str:
    """Write the adapter (tensors and plain data only: loads with weights_only=True)."""
    import os

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    doc = {"format": FORMAT, "teacher_sha256": teacher_hash(teacher), "teacher_spec": teacher.spec(),
           "config": asdict(student.cfg), "vocab": student.vocab[2:], "state": student.state_dict(),
           "info": {k: v for k, v in (info or {}).items() if k != "log"}}
    if getattr(student, "kind", "states") == "tokens":
        doc.update(format=FORMAT_TOKENS, student="tokens", out_vocab=list(student.out_vocab))
    torch.save(doc, path)
    return path


def load_adapter(path: str, teacher: TextEncoder) -> AdaptedTextEncoder:
    """The adapter at `path` wrapped around `teacher`; refuses an adapter trained for another encoder."""
    from videoforge.models.safeload import load_tensors

    d = load_tensors(path, "text adapter")
    if not isinstance(d, dict) or d.get("format") not in (FORMAT, FORMAT_TOKENS):
        raise ValueError(f"{path}: not a videoforge text adapter (format={d.get('format') if isinstance(d, dict) else None!r})")
    if d["teacher_sha256"] != teacher_hash(teacher):
        raise ValueError(f"{path}: this text adapter was trained for another checkpoint's text encoder "
                         f"(its hash {d['teacher_sha256'][:12]}); train one for this checkpoint with "
                         "`videoforge train-text-adapter --base CHECKPOINT --out ADAPTER`")
    if d["format"] == FORMAT_TOKENS and d["config"].get("arch") == "align":   # session 9
        from videoforge.adapt.align_student import AlignConfig, AlignStudent

        student = AlignStudent(d["vocab"], d["out_vocab"], AlignConfig(**d["config"]))
        if student.cfg.lexicon:     # session 10: reads CC-CEDICT at inference
            from videoforge.adapt.lexicon import LexiconUnavailable, cedict

            try:
                cedict()
            except LexiconUnavailable as e:
                raise ValueError(f"{path}: this text adapter reads a dictionary: {e}") from e
        if student.cfg.lexicon_wordnet:     # session 11: and WordNet for glosses its table cannot read
            from videoforge.adapt.wordnet import WordNetUnavailable, data_dir, data_sha256

            try:
                installed = data_sha256()
            except WordNetUnavailable as e:
                raise ValueError(f"{path}: this text adapter reads WordNet: {e}") from e
            stored = (d.get("info") or {}).get("wordnet_sha256")
            if stored and stored != installed:     # another WordNet release may relate words differently
                import warnings

                warnings.warn(f"{path}: this text adapter was trained with WordNet data sha256 {stored}, but the "
                              f"WordNet in {data_dir()} has sha256 {installed}: it loads, but may read some words "
                              "differently than when it was trained", stacklevel=2)
    elif d["format"] == FORMAT_TOKENS:
        from videoforge.adapt.token_student import TokenConfig, TokenStudent

        student = TokenStudent(d["vocab"], d["out_vocab"], TokenConfig(**d["config"]))
    else:
        student = CharStudent(d["vocab"], AdapterConfig(**d["config"]))
    try:
        student.load_state_dict(d["state"])
    except RuntimeError as e:
        raise ValueError(f"{path}: text adapter weights do not fit its own config ({str(e)[:200]})") from e
    return AdaptedTextEncoder(teacher, student.eval())


def apply_text_adapter(pipe, path: str) -> None:
    """Make a loaded `Pipeline` understand the adapter's language (the generator is unchanged)."""
    teacher = pipe.gen.text_encoder
    if isinstance(teacher, AdaptedTextEncoder):
        teacher = teacher.teacher
    pipe.gen.text_encoder = load_adapter(path, teacher).to(next(teacher.parameters()).device)


@torch.no_grad()
def evaluate_adapter(adapted: AdaptedTextEncoder, rows: list[tuple[tuple, bool, str]], candidates: list[tuple[tuple, bool]]) -> dict:
    """zh -> en retrieval and closeness to the teacher on (combo, fast, chinese) rows.

    recall@1: the student's pooled state for each Chinese prompt is nearest (cosine) to the
    teacher's pooled state of its own English counterpart among all `candidates`' English
    prompts. cosine: mean over the English prompt's token positions of the cosine between the
    student's and the teacher's state (a missing or extra predicted position counts 0)."""
    teacher, student = adapted.teacher, adapted.student
    cand_en = [zh_prompts.english(c, f) for c, f in candidates]
    ts, tm = teacher.encode(cand_en)
    tpool = F.normalize((ts * tm[..., None]).sum(1) / tm.sum(1, keepdim=True), dim=-1)
    where = {p: k for k, p in enumerate(cand_en)}
    hits, cos, length_ok, exact = [], [], [], []
    for i in range(0, len(rows), 256):
        part = rows[i:i + 256]
        ss, sm = adapted.encode_student([p for _, _, p in part])
        if ss.shape[1] < ts.shape[1]:   # a translation shorter than the English: missing positions count 0
            extra = ts.shape[1] - ss.shape[1]
            ss, sm = F.pad(ss, (0, 0, 0, extra)), F.pad(sm, (0, extra))
        spool = F.normalize((ss * sm[..., None]).sum(1) / sm.sum(1, keepdim=True).clamp(min=1), dim=-1)
        best = (spool @ tpool.T).argmax(-1)
        for k, (c, f, _) in enumerate(part):
            j = where[zh_prompts.english(c, f)]
            hits.append(int(best[k]) == j)
            n, m = int(tm[j].sum()), int(sm[k].sum())
            per = F.cosine_similarity(ss[k, :n], ts[j, :n], dim=-1)
            per = torch.where(torch.arange(n) < m, per, torch.zeros_like(per))
            cos.append(float(per.mean()))
            length_ok.append(n == m)
        if getattr(student, "kind", "states") == "tokens":   # the English it read, word for word
            said = student.translate([p for _, _, p in part])
            exact += [" ".join(words(zh_prompts.english(c, f))) == t for (c, f, _), t in zip(part, said)]
    from videoforge.train.evaluate import bootstrap_ci

    return {"n": len(rows), "recall_at_1": sum(hits) / len(hits), "recall_ci95": bootstrap_ci(hits),
            "mean_cosine": sum(cos) / len(cos), "cosine_ci95": bootstrap_ci(cos), "length_exact": sum(length_ok) / len(rows)} | (
        {"translation_exact": sum(exact) / len(exact)} if exact else {})
