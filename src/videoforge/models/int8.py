"""int8 inference for the generator on CPU (`videoforge generate --int8`).

Two pieces, because PyTorch's CPU int8 kernels cover Linear layers only:

- STDiT's blocks' attention projections and MLP matrices (nearly all its FLOPs; the AdaLN
  modulation too with scope "blocks", float by default) run through dynamic int8 quantisation
  (`torch.ao.quantization.quantize_dynamic`, weights int8 per output channel, activations
  quantised per batch at run time): smaller and faster.
- The autoencoder's decoder has no Linear layer (it is convolutions); its weights are stored
  as int8 per output channel (weight-only) and dequantised to float at load, so a quantised
  checkpoint is ~4x smaller and its accuracy effect is measured, but the decoder does not run
  faster.

A quantised checkpoint is the ordinary generator checkpoint with those weights replaced by
`NAME.int8` (int8) + `NAME.int8_scale` (float32, one per output channel) and a
`quantization` entry; `Pipeline` loads it (dequantising, then quantising STDiT dynamically).
"""

from __future__ import annotations

import contextlib
import copy
import warnings

import torch
import torch.nn as nn

SCHEME = "int8-symmetric-per-output-channel"


def quantize_tensor(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-channel int8: w ~ q * scale[:, None, ...]."""
    flat = w.detach().float().reshape(w.shape[0], -1)
    scale = (flat.abs().amax(1) / 127.0).clamp_min(1e-12)
    q = torch.round(flat / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q.reshape(w.shape), scale


def dequantize_tensor(q: torch.Tensor, scale: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
    return (q.float().reshape(q.shape[0], -1) * scale[:, None]).reshape(q.shape).to(dtype)


def _quantizable(name: str, v: torch.Tensor) -> bool:
    # matrices and conv kernels; not biases, norms, position tables or the learned null vectors
    return name.endswith(".weight") and v.is_floating_point() and v.dim() >= 2 and v.shape[0] > 1


def quantize_state(state: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in state.items():
        if k.startswith(prefix) and _quantizable(k, v):
            out[k + ".int8"], out[k + ".int8_scale"] = quantize_tensor(v)
        else:
            out[k] = v
    return out


def dequantize_state(state: dict) -> dict:
    out = {}
    for k, v in state.items():
        if k.endswith(".int8_scale"):
            continue
        if k.endswith(".int8"):
            out[k[:-len(".int8")]] = dequantize_tensor(v, state[k + "_scale"])
        else:
            out[k] = v
    return out


def quantize_checkpoint(ckpt: dict) -> dict:
    """A generator checkpoint with STDiT's and the decoder's weights stored as int8."""
    from videoforge.models.pipeline import FORMAT

    if ckpt.get("format") != FORMAT:
        raise ValueError(f"not a videoforge generator checkpoint (format={ckpt.get('format')!r})")
    if ckpt.get("quantization"):
        return ckpt
    out = dict(ckpt)
    out["stdit"] = {**ckpt["stdit"], "state": quantize_state(ckpt["stdit"]["state"])}
    out["autoencoder"] = {**ckpt["autoencoder"], "state": quantize_state(ckpt["autoencoder"]["state"], "decoder.")}
    out["quantization"] = {"scheme": SCHEME, "parts": ["stdit", "autoencoder.decoder"],
                           "runtime": "stdit Linear: dynamic int8; decoder: int8 weights dequantised at load"}
    return out


def dequantize_checkpoint(ckpt: dict) -> dict:
    """Float weights again (what the modules load); the `quantization` entry stays as a marker."""
    if not ckpt.get("quantization"):
        return ckpt
    out = dict(ckpt)
    out["stdit"] = {**ckpt["stdit"], "state": dequantize_state(ckpt["stdit"]["state"])}
    out["autoencoder"] = {**ckpt["autoencoder"], "state": dequantize_state(ckpt["autoencoder"]["state"])}
    return out


def fake_quantize_(module: nn.Module, prefix: str = "") -> nn.Module:
    """Round a module's weights through int8 in place (weight-only; the decoder's convolutions)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith(prefix) and _quantizable(name, p):
                p.copy_(dequantize_tensor(*quantize_tensor(p), dtype=p.dtype))
    return module


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # torch.ao.quantization's deprecation notices
        yield


# scope "linears": only the transformer blocks' big matrices (attention q / kv / proj, MLP fc1 / fc2);
# the AdaLN modulation (it scales every activation of a block), embedders and final layer stay float
BIG_LINEARS = ("q", "kv", "proj", "fc1", "fc2")


def dynamic_int8(module: nn.Module, only: tuple[str, ...] | None = None) -> nn.Module:
    """Every nn.Linear of `module` (or those whose name ends in one of `only`) as a dynamically
    quantised int8 Linear (CPU), per-channel weights."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    if only is None:
        spec = {nn.Linear: per_channel_dynamic_qconfig}
    else:
        spec = {n: per_channel_dynamic_qconfig for n, m in module.named_modules()
                if isinstance(m, nn.Linear) and n.rsplit(".", 1)[-1] in only}
    with _quiet():
        return quantize_dynamic(copy.deepcopy(module).eval(), spec, dtype=torch.qint8)


def to_int8(pipe, scope: str = "linears", decoder: bool = True) -> None:
    """Make a loaded Pipeline run in int8 (CPU only).

    scope "blocks": the Linear layers of STDiT's transformer blocks (attention, MLP, AdaLN:
    nearly all its FLOPs) run dynamic int8, the small embedders and the final layer stay float;
    "linears" (the default since session 7): only the blocks' attention and MLP matrices (AdaLN
    modulation float too; measured -0.7 [-1.9, +0.5] points of shape accuracy for "blocks" vs
    +0.3 [-0.9, +1.6] for "linears", n = 576 paired clips, docs/benchmarks/scale.md);
    "all": every Linear of STDiT. decoder: round the decoder's weights through int8 (what a
    quantised checkpoint holds)."""
    if pipe.device != "cpu":
        raise ValueError("int8 inference runs on the CPU (PyTorch's dynamic int8 kernels are CPU kernels)")
    if getattr(pipe, "int8", False):
        return
    if scope == "all":
        pipe.gen.stdit = dynamic_int8(pipe.gen.stdit)
    elif scope == "blocks":
        st = pipe.gen.stdit
        st.blocks = nn.ModuleList(dynamic_int8(b) for b in st.blocks)
    elif scope == "linears":
        st = pipe.gen.stdit
        st.blocks = nn.ModuleList(dynamic_int8(b, BIG_LINEARS) for b in st.blocks)
    else:
        raise ValueError(f"scope must be 'blocks', 'linears' or 'all', not {scope!r}")
    if decoder:
        fake_quantize_(pipe.ae, "decoder.")
    pipe.int8 = True


def save_quantized(ckpt: dict, path: str) -> str:
    import os

    q = quantize_checkpoint(ckpt)
    tmp = path + ".tmp"
    torch.save(q, tmp)
    os.replace(tmp, path)
    return path


def load_pipeline(path: str, int8: bool | None = None, device: str = "cpu"):
    """Pipeline from a float or a quantised checkpoint. int8=None: int8 when the file is quantised;
    False: float modules (`pipe.int8_checkpoint` says whether the file was quantised, so a caller can
    attach adapters first and call `to_int8` after); True: int8."""
    from videoforge.models.pipeline import Pipeline
    from videoforge.models.safeload import load_tensors

    ck = load_tensors(path, "checkpoint")
    quantised = bool(ck.get("quantization"))
    pipe = Pipeline(dequantize_checkpoint(ck), device)
    pipe.int8_checkpoint = quantised
    if int8 or (int8 is None and quantised):
        to_int8(pipe)
    return pipe
