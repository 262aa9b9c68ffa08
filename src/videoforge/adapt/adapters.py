"""Generator adapters: the file `videoforge finetune` writes and `generate --adapter` loads.

An adapter is one safetensors file (tensors only: nothing runs at load) holding what a
fine-tune changed, never the base:
    lora / oft   the `peft` adapter weights of STDiT's target linear layers (ADAPTER_TARGETS:
                 every attention's q / kv / proj and the MLP's fc1 / fc2), keys as peft names
                 them ("blocks.0.attn_s.q.lora_A.weight")
    full         the fine-tuned tensors themselves ("stdit.<name>", "text_encoder.<name>")
and, as string metadata: format, method, rank, alpha, targets, the sha256 of the base
checkpoint file it was trained on (loading onto another base is refused) and a JSON summary
of the training run.

Scale s (`--adapter-scale`) interpolates from the base (s = 0) to the adapted model (s = 1):
LoRA's B matrices, OFT's skew-symmetric generators (R = Cayley(s Q)) and a full fine-tune's
difference to the base are multiplied by s.

Several adapters compose in order: each is merged into the weights (peft's merge, then the
wrapped layers are replaced by their base layers), so the result is a plain STDiT with no
adapter overhead. Unmerged (peft layers active, for tests and for training) several LoRAs
run side by side; their merged sum is the same function to float precision.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import torch

from videoforge.io.fingerprint import full_hash
from videoforge.models.stdit import ADAPTER_TARGETS

FORMAT = "videoforge-adapter/1"
METHODS = ("lora", "oft", "full")


def peft_config(method: str, rank: int, alpha: float | None = None, targets=ADAPTER_TARGETS):
    """The peft config of a LoRA (rank r, alpha default r) or OFT adapter.

    For OFT `rank` is the block size of the block-diagonal rotation (peft's oft_block_size):
    each target's input width must be a multiple of it; a block of b has b(b-1)/2 parameters."""
    if method == "lora":
        from peft import LoraConfig

        return LoraConfig(r=int(rank), lora_alpha=float(alpha if alpha is not None else rank),
                          target_modules=list(targets), lora_dropout=0.0, bias="none")
    if method == "oft":
        from peft import OFTConfig

        return OFTConfig(r=0, oft_block_size=int(rank), target_modules=list(targets), module_dropout=0.0,
                         bias="none")
    raise ValueError(f"method {method!r} has no peft config (lora, oft)")


def check_oft_rank(stdit: torch.nn.Module, rank: int, targets=ADAPTER_TARGETS):
    """ValueError when an OFT block size does not divide every target layer's input width."""
    widths = sorted({m.in_features for n, m in stdit.named_modules()
                     if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] in targets})
    bad = [w for w in widths if w % int(rank)]
    if bad:
        ok = [b for b in range(2, min(widths) + 1) if all(w % b == 0 for w in widths)]
        raise ValueError(f"--rank {rank}: OFT's block size must divide every target layer's input width {widths}; "
                         f"{bad} are not multiples (sizes that fit: {ok[:8]})")


@dataclass
class Adapter:
    method: str
    tensors: dict[str, torch.Tensor]
    base_sha256: str
    rank: int = 0
    alpha: float | None = None
    targets: tuple[str, ...] = ADAPTER_TARGETS
    info: dict = field(default_factory=dict)
    path: str = ""

    def num_params(self) -> int:
        return sum(t.numel() for t in self.tensors.values())


def save_adapter(path: str, adapter: Adapter):
    """Write `adapter` as one safetensors file (atomically: a crash leaves no half file)."""
    from safetensors.torch import save_file

    meta = {"format": FORMAT, "method": adapter.method, "base_sha256": adapter.base_sha256,
            "rank": str(adapter.rank), "alpha": json.dumps(adapter.alpha), "targets": json.dumps(list(adapter.targets)),
            "info": json.dumps(adapter.info)}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    save_file({k: v.detach().cpu().contiguous() for k, v in adapter.tensors.items()}, tmp, metadata=meta)
    os.replace(tmp, path)


def load_adapter(path: str) -> Adapter:
    """Read an adapter file; ValueError naming the file when it is not one."""
    from safetensors import SafetensorError, safe_open

    if not os.path.exists(path):
        raise ValueError(f"{path}: no such adapter file")
    try:
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise ValueError(f"{path}: not an adapter (cannot read it as safetensors: {e})") from e
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a videoforge adapter (format={meta.get('format')!r}, expected {FORMAT!r})")
    if meta.get("method") not in METHODS:
        raise ValueError(f"{path}: unknown adapter method {meta.get('method')!r}")
    return Adapter(method=meta["method"], tensors=tensors, base_sha256=meta.get("base_sha256", ""),
                   rank=int(meta.get("rank") or 0), alpha=json.loads(meta.get("alpha") or "null"),
                   targets=tuple(json.loads(meta.get("targets") or "[]")) or ADAPTER_TARGETS,
                   info=json.loads(meta.get("info") or "{}"), path=path)


def check_base(adapter: Adapter, base_sha256: str, base_path: str = "the base checkpoint"):
    """ValueError when the adapter was trained on another base checkpoint than this one."""
    if adapter.base_sha256 != base_sha256:
        raise ValueError(
            f"{adapter.path or 'adapter'}: trained for the base checkpoint with sha256 {adapter.base_sha256[:16]}..., "
            f"but {base_path} has sha256 {base_sha256[:16]}...: an adapter only fits the checkpoint it was fine-tuned "
            f"from (its base file is named in the adapter's info: {adapter.info.get('base_file', '?')})")


def _scaled(adapter: Adapter, scale: float) -> dict[str, torch.Tensor]:
    """The adapter's peft tensors at `scale`: LoRA's B and OFT's generators times s."""
    if scale == 1.0:
        return adapter.tensors
    key = "lora_B" if adapter.method == "lora" else "oft_R"
    return {k: v * scale if key in k else v for k, v in adapter.tensors.items()}


def _tuner_layers(model: torch.nn.Module):
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [(n, m) for n, m in model.named_modules() if isinstance(m, BaseTunerLayer)]


def attach(stdit: torch.nn.Module, adapter: Adapter, name: str, scale: float = 1.0):
    """Inject a LoRA / OFT adapter into `stdit` (in place) under `name`, unmerged, with its weights."""
    from peft import inject_adapter_in_model, set_peft_model_state_dict

    import warnings

    cfg = peft_config(adapter.method, adapter.rank, adapter.alpha, adapter.targets)
    with warnings.catch_warnings():   # several adapters side by side is what we ask for here
        warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
        inject_adapter_in_model(cfg, stdit, adapter_name=name)
    res = set_peft_model_state_dict(stdit, _scaled(adapter, scale), adapter_name=name)
    missing = [k for k in getattr(res, "missing_keys", []) if f".{name}." in k]   # this adapter's own
    unexpected = list(getattr(res, "unexpected_keys", []))
    if unexpected or missing:
        raise ValueError(f"{adapter.path or 'adapter'}: does not fit this STDiT (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}): trained for a model of another size?")


def unload(stdit: torch.nn.Module):
    """Replace every peft-wrapped layer by its base layer (after merging: a plain STDiT again)."""
    from peft.utils.other import _get_submodules

    for name, _ in sorted(_tuner_layers(stdit), key=lambda x: -x[0].count(".")):
        parent, target, child = _get_submodules(stdit, name)
        setattr(parent, child, target.get_base_layer())
    if hasattr(stdit, "peft_config"):
        del stdit.peft_config


def set_active(stdit: torch.nn.Module, names: list[str]):
    """Make all of `names` active at once in every peft layer (several LoRAs add up)."""
    for _, layer in _tuner_layers(stdit):
        layer.set_adapter(list(names))
    for p in stdit.parameters():
        p.requires_grad_(False)


def apply_adapters(gen, adapters: list[Adapter], scales: list[float] | None = None, merge: bool = True):
    """Put `adapters` onto a VideoGenerator (`pipe.gen`) in place, in order, at `scales`.

    merge=True: each is merged into the weights (a plain model afterwards). merge=False keeps
    peft's layers active instead: allowed for any number of LoRAs or one OFT (the merged and
    unmerged models compute the same function; tests/test_adapt.py checks it to 1e-5)."""
    scales = list(scales) if scales is not None else [1.0] * len(adapters)
    if len(scales) != len(adapters):
        raise ValueError(f"{len(scales)} scales for {len(adapters)} adapters")
    stdit = gen.stdit
    if not merge:
        methods = [a.method for a in adapters]
        if not (all(m == "lora" for m in methods) or methods == ["oft"]):
            raise ValueError(f"unmerged adapters: any number of LoRAs or one OFT, not {methods}; merge them")
        names = []
        for i, (a, s) in enumerate(zip(adapters, scales)):
            attach(stdit, a, f"adapter{i}", s)
            names.append(f"adapter{i}")
        set_active(stdit, names)
        return gen
    base = None
    for i, (a, s) in enumerate(zip(adapters, scales)):
        if a.method == "full":
            if base is None:      # a full fine-tune is a difference to the base it was trained from
                base = {**{f"stdit.{k}": v.clone() for k, v in gen.stdit.state_dict().items()},
                        **{f"text_encoder.{k}": v.clone() for k, v in gen.text_encoder.state_dict().items()}}
            _add_full(gen, a, s, base)
            continue
        if base is None and any(b.method == "full" for b in adapters[i + 1:]):
            base = {**{f"stdit.{k}": v.clone() for k, v in gen.stdit.state_dict().items()},
                    **{f"text_encoder.{k}": v.clone() for k, v in gen.text_encoder.state_dict().items()}}
        name = f"merge{i}"
        attach(stdit, a, name, s)
        with torch.no_grad():
            for _, layer in _tuner_layers(stdit):
                layer.merge(adapter_names=[name])
        unload(stdit)
    return gen


@torch.no_grad()
def _add_full(gen, adapter: Adapter, scale: float, base: dict):
    params = {**{f"stdit.{k}": v for k, v in gen.stdit.state_dict(keep_vars=True).items()},
              **{f"text_encoder.{k}": v for k, v in gen.text_encoder.state_dict(keep_vars=True).items()}}
    unknown = [k for k in adapter.tensors if k not in params]
    if unknown:
        raise ValueError(f"{adapter.path or 'adapter'}: tensors {unknown[:3]} are not in this generator")
    for k, ft in adapter.tensors.items():
        p = params[k]
        if p.shape != ft.shape:
            raise ValueError(f"{adapter.path or 'adapter'}: {k} has shape {tuple(ft.shape)}, the generator {tuple(p.shape)}")
        if p.dtype.is_floating_point:
            p.add_((ft.to(p.dtype) - base[k]) * scale)
        else:
            p.copy_(ft)


def load_onto(pipe, base_path: str, adapter_paths: list[str], scales: list[float] | None = None,
              merge: bool = True) -> list[Adapter]:
    """Read adapters, refuse any trained for another base than `base_path`, apply them to `pipe`."""
    sha = full_hash(base_path)   # the base checkpoint an adapter belongs to
    adapters = [load_adapter(p) for p in adapter_paths]
    for a in adapters:
        check_base(a, sha, base_path)
    apply_adapters(pipe.gen, adapters, scales, merge)
    pipe.gen.eval()
    return adapters
