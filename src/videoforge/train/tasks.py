"""What is trained: the autoencoder on pixels, or STDiT (+ text encoder) on cached latents.

A task owns its model, draws batches (`batch(step, rank, world)`), computes the loss
(`loss(model, batch)`), and writes the exported checkpoint (`export(weights)`). The loop
in `loop.py` is the same for both; later work (distillation, PEFT) plugs in through the
loop's hooks or a new task with these four members.
"""

from __future__ import annotations

import os
from dataclasses import fields

import numpy as np
import torch

from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder, valid_frames
from videoforge.models.flow import flow_loss, subject_weight
from videoforge.models.pipeline import FORMAT, MetricScaler, VideoGenerator, autoencoder_from
from videoforge.models.stdit import STDIT_SIZES, STDiTConfig
from videoforge.models.text import TinyTextEncoder
from videoforge.train.config import TrainConfig
from videoforge.train.data import BucketSampler, ClipSet, read_manifest
from videoforge.train.loss_weights import boundary_weight

AE_FORMAT = "videoforge-autoencoder/1"


def _to_video(frames: np.ndarray) -> torch.Tensor:
    """(B, T, H, W, 3) uint8 -> (B, 3, T, H, W) float in [-1, 1]."""
    return torch.from_numpy(frames).permute(0, 4, 1, 2, 3).float() / 127.5 - 1


def _config(cls, d: dict):
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} key(s) {sorted(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def load_checkpoint(path: str) -> dict:
    if not path or not os.path.exists(path):
        raise ValueError(f"checkpoint {path!r}: no such file")
    return torch.load(path, map_location="cpu", weights_only=True)   # data, not code


class AutoencoderTask:
    def __init__(self, cfg: TrainConfig, device):
        self.cfg, self.device = cfg, device
        self.ae_cfg = _config(AutoencoderConfig, cfg.autoencoder)
        cache = cfg.data.cache_dir or os.path.join(cfg.out_dir, "cache")
        self.data = ClipSet(read_manifest(cfg.data), cfg.data.buckets, cache)
        self.sampler = BucketSampler(self.data.bucket_of, cfg.batch_size, cfg.seed)
        self.model = CausalVideoAutoencoder(self.ae_cfg)
        if cfg.init_from:
            self.model.load_state_dict(load_checkpoint(cfg.init_from)["state"])

    def batch(self, step, rank, world):
        clips = np.stack([self.data.clip(i) for i in self.sampler.batch(step, rank, world)])
        n = self.cfg.data.crop_frames
        if n and clips.shape[1] > n:
            # a random window of a causal length; frame 0 of the window is then encoded alone
            n = valid_frames(n, self.ae_cfg.temporal_factor)
            s = int(np.random.default_rng([self.cfg.seed, step, 7]).integers(0, clips.shape[1] - n + 1))
            clips = clips[:, s:s + n]
        return _to_video(clips).to(self.device)

    def loss(self, model, batch):
        rec, terms = model(batch)       # through the (possibly DDP-wrapped) forward, so gradients sync
        return self.model.loss_terms(batch, rec, terms)

    @torch.no_grad()
    def export(self, state: dict) -> dict:
        ae = CausalVideoAutoencoder(self.ae_cfg)
        ae.load_state_dict(state)
        ae.eval().to(self.device)
        # latent scale = 1 / std of latents, measured on up to 64 training clips (SD's 0.18215, measured)
        zs = [ae.encode(_to_video(self.data.clip(i)[None]).to(self.device)) for i in range(min(64, len(self.data)))]
        std = torch.cat([z.flatten() for z in zs]).std().item()
        return {"format": AE_FORMAT, "config": self.ae_cfg.to_dict(), "state": state,
                "latent_scale": 1.0 / max(std, 1e-6)}


class DiffusionTask:
    def __init__(self, cfg: TrainConfig, device):
        self.cfg, self.device = cfg, device
        # a rate with nothing to act on would train exactly as without it, silently
        if not 0 <= cfg.caption_one_slot <= 1:
            raise ValueError(f"caption_one_slot must lie in [0, 1], got {cfg.caption_one_slot}")
        if cfg.caption_one_slot > 0 and not any(cfg.caption_slots):
            raise ValueError("caption_one_slot > 0 needs caption_slots: one word list per attribute")
        ae_ckpt = load_checkpoint(cfg.autoencoder_checkpoint)
        if ae_ckpt.get("format") == FORMAT:      # a generator checkpoint carries its autoencoder
            ae_ckpt = ae_ckpt["autoencoder"]
        self.ae_ckpt = ae_ckpt
        self.ae = autoencoder_from(ae_ckpt).to(device)
        self.latent_scale = float(ae_ckpt["latent_scale"])
        cache = cfg.data.cache_dir or os.path.join(cfg.out_dir, "cache")
        rows = read_manifest(cfg.data)
        self.data = ClipSet(rows, cfg.data.buckets, cache)
        self.sampler = BucketSampler(self.data.bucket_of, cfg.batch_size, cfg.seed)
        init = load_checkpoint(cfg.init_from) if cfg.init_from else None
        # curriculum stages keep the first stage's metric scale and vocabulary so controls keep their meaning
        if init is not None:
            self.scaler = MetricScaler(**init["metrics"])
            text_spec = init["text_encoder"]["spec"]
        else:
            self.scaler = MetricScaler.fit(cfg.data.metrics, self.data.rows)
            text_spec = dict(cfg.text_encoder)
            if text_spec.get("kind", "tiny") == "tiny" and "vocab" not in text_spec:
                text_spec["vocab"] = TinyTextEncoder.build_vocab(r["caption"] for r in self.data.rows)
        sd = dict(cfg.stdit)
        size = sd.pop("size", None)
        if size:
            sd = {**STDIT_SIZES[size], **sd}
        sd.setdefault("in_channels", self.ae.cfg.latent_channels)
        sd["metrics"] = list(self.scaler.names)
        sd.setdefault("grad_checkpointing", cfg.grad_checkpointing)
        text_dim = _text_dim(text_spec)
        self.model = VideoGenerator(_config(STDiTConfig, {**sd, "text_dim": text_dim}), text_spec)
        if init is not None:
            self.model.stdit.load_state_dict(init["stdit"]["state"])
            if init["text_encoder"].get("state") is not None:
                self.model.text_encoder.load_state_dict(init["text_encoder"]["state"])
        self.metrics = self.scaler.normalize(self.data.rows)
        self._latents: dict[int, torch.Tensor] = {}
        if cfg.data.precompute_latents:
            for i in range(len(self.data)):
                self.latent(i)

    @torch.no_grad()
    def latent(self, i: int) -> torch.Tensor:
        """Scaled latent (C, T', H', W') of row i; cached in memory and under cache_dir/latents."""
        if i in self._latents:
            return self._latents[i]
        d = os.path.join(self.data.cache_dir, "latents-" + _ae_hash(self.ae_ckpt))
        path = os.path.join(d, self.data.key(i) + ".pt")
        if os.path.exists(path):
            z = torch.load(path, weights_only=True)
        else:
            x = _to_video(self.data.clip(i)[None]).to(self.device)
            z = (self.ae.encode(x)[0] * self.latent_scale).cpu()
            os.makedirs(d, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"   # per process: ranks share the cache
            torch.save(z, tmp)
            os.replace(tmp, path)
        self._latents[i] = z
        return z

    def batch(self, step, rank, world):
        idx = self.sampler.batch(step, rank, world)
        x0 = torch.stack([self.latent(i) for i in idx]).to(self.device)
        prompts = [self.data.rows[i]["caption"] for i in idx]
        if self.cfg.caption_word_drop > 0:
            rng = np.random.default_rng([self.cfg.seed, step, rank, 11])
            words_only = self.cfg.caption_drop_only
            if isinstance(words_only, str):   # `--set caption_drop_only=red` gives one word, not its letters
                words_only = [words_only]
            only = {w.lower() for w in words_only} or None
            prompts = [drop_words(p, self.cfg.caption_word_drop, rng, only) for p in prompts]
        if self.cfg.caption_one_slot > 0:
            rng = np.random.default_rng([self.cfg.seed, step, rank, 13])
            prompts = [one_slot(p, self.cfg.caption_slots, rng) if rng.random() < self.cfg.caption_one_slot else p
                       for p in prompts]
        return {"x0": x0, "prompts": prompts, "metrics": self.metrics[idx].to(self.device)}

    def loss(self, model, batch):
        gen = model

        def velocity(xt, t, y_unused, mask_unused, metrics):
            return gen(xt, t, batch["prompts"], metrics)

        # subject_weight > 0: positions away from the clip's static background weigh more (flow.subject_weight)
        w = subject_weight(batch["x0"], self.cfg.subject_weight) if self.cfg.subject_weight > 0 else None
        if self.cfg.boundary_weight > 0:
            # the outline, from the shortcut's RGB block means where the AE has them (all channels otherwise)
            b = boundary_weight(batch["x0"], self.cfg.boundary_weight, self.ae.cfg.shortcut_channels)
            w = b if w is None else w + b - 1
        loss = flow_loss(velocity, batch["x0"], None, None, batch["metrics"], weight=w)
        return loss, {}

    def export(self, state: dict) -> dict:
        stdit = {k[len("stdit."):]: v for k, v in state.items() if k.startswith("stdit.")}
        text = {k[len("text_encoder."):]: v for k, v in state.items() if k.startswith("text_encoder.")}
        f, h, w = max(self.data.buckets, key=lambda b: b[0])
        fps = float(np.median([float(r.get("fps") or 0) for r in self.data.rows]) or 8.0)
        return {
            "format": FORMAT,
            "autoencoder": self.ae_ckpt,
            "stdit": {"config": self.model.stdit.cfg.to_dict(), "state": stdit},
            "text_encoder": {"spec": self.model.text_encoder.spec(),
                             "state": text if self.model.text_encoder.trainable else None},
            "metrics": self.scaler.to_dict(),
            "video": {"height": h, "width": w, "fps": fps, "frames": f},
        }


def drop_words(caption: str, p: float, rng: np.random.Generator, only: set[str] | None = None) -> str:
    """`caption` with each whitespace-separated word removed with probability p (punctuation goes with
    its word); with `only`, just the words in that set (lower case, punctuation ignored) may go."""
    kept = [w for w in caption.split()
            if rng.random() >= p or (only is not None and w.strip(",.;:!?").lower() not in only)]
    return " ".join(kept)


def one_slot(caption: str, slots, rng: np.random.Generator) -> str:
    """The words of `caption` that belong to one of `slots` (word lists, one per attribute), the slot
    drawn uniformly among those the caption has words of; the caption unchanged when it has none."""
    ws = caption.split()
    present = []
    for slot in slots:
        vocab = {w.lower() for w in ([slot] if isinstance(slot, str) else slot)}
        kept = [w.strip(",.;:!?") for w in ws if w.strip(",.;:!?").lower() in vocab]
        if kept:
            present.append(kept)
    if not present:
        return caption
    return " ".join(present[int(rng.integers(len(present)))])


def _text_dim(spec: dict) -> int:
    kind = spec.get("kind", "tiny")
    if kind == "tiny":
        return int(spec.get("dim", 128))
    if kind == "minilm":
        return 384
    from transformers import AutoConfig

    return int(AutoConfig.from_pretrained(spec["name_or_path"]).hidden_size)


def _ae_hash(ae_ckpt: dict) -> str:
    import hashlib

    h = hashlib.sha1()
    for k, v in sorted(ae_ckpt["state"].items()):
        h.update(k.encode())
        h.update(v.detach().cpu().float().numpy().tobytes()[:4096])
    return h.hexdigest()[:12]


def make_task(cfg: TrainConfig, device):
    if cfg.task == "autoencoder":
        return AutoencoderTask(cfg, device)
    if cfg.task == "stdit":
        return DiffusionTask(cfg, device)
    raise ValueError(f"task must be 'autoencoder' or 'stdit', not {cfg.task!r}")
