"""`videoforge generate CHECKPOINT "prompt"`: sample a clip from a trained generator checkpoint."""

from __future__ import annotations

import argparse


class _MetricAction(argparse.Action):
    def __call__(self, parser, ns, value, option_string=None):
        d = dict(getattr(ns, "metrics", None) or {})
        d[self.dest.removeprefix("metric_")] = value
        ns.metrics = d


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "generate", help="generate a clip from a trained checkpoint and a prompt",
        description="Sample a video with the Euler rectified-flow sampler and classifier-free guidance on the "
                    "text and on the metrics, decode it with the causal autoencoder and write an H.264 MP4. "
                    "Any --frames works: the next length the autoencoder supports (1 + 4k) is generated and "
                    "trimmed. Metric controls (--motion, or --metric NAME=VALUE) take the raw units of the "
                    "export's columns; leave them out to let the model choose.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  videoforge generate demo-out/train/stdit/stdit.pt \"a blue square moves up\" "
               "--motion 1.2 --frames 16 --out x.mp4")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="generator checkpoint (.pt) written by training")
    p.add_argument("prompt", metavar="PROMPT")
    p.add_argument("--out", required=True, help="output .mp4")
    p.add_argument("--frames", type=int, default=16, help="frames to write (default 16)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--motion", type=float, dest="metric_motion", action=_MetricAction,
                   help="motion control, %% of the frame diagonal per second: sets the checkpoint's `motion` "
                        "metric, or `motion_peak` when it was trained on that one (the shapes demo is)")
    p.add_argument("--metric", action="append", default=[], metavar="NAME=VALUE",
                   help="any other conditioning metric the checkpoint knows (repeatable)")
    p.add_argument("--steps", type=int, default=None,
                   help="Euler steps (default 25; a student from `videoforge distill`: the steps it was distilled "
                        "for, one network evaluation each)")
    p.add_argument("--cfg-text", type=float, default=4.0, help="guidance scale on the text (default 4)")
    p.add_argument("--cfg-metric", type=float, default=2.0, help="guidance scale on the metrics (default 2)")
    p.add_argument("--fps", type=float, default=None, help="frame rate of the file (default: the training data's)")
    p.add_argument("--contrast", action="append", default=[], metavar="PROMPT",
                   help="contrast guidance (repeatable): the prompt with the word it must follow swapped for an "
                        "alternative, e.g. PROMPT 'a red circle moves left' --contrast 'a red square moves left' "
                        "--contrast 'a red triangle moves left'; used with --cfg-contrast")
    p.add_argument("--cfg-contrast", type=float, default=0.0,
                   help="contrast guidance scale (default 0 = off): adds S x (v(prompt) - mean v(contrast prompts))")
    p.add_argument("--compose", action="append", default=[], metavar="PARTIAL_PROMPT",
                   help="composable sampling (repeatable): a part of the prompt on its own, e.g. PROMPT 'a red circle "
                        "moves left' --compose red --compose circle --compose left, each added as w x (v(part) - "
                        "v(no text)) on top of the prompt's guidance; for a checkpoint trained with partial "
                        "captions (caption_one_slot, the shapes demo). Weights: --compose-weight")
    p.add_argument("--compose-weight", action="append", type=float, default=[], metavar="W",
                   help="the weight of each --compose part: one for all, or one per --compose (default 2)")
    p.add_argument("--text-adapter", metavar="ADAPTER", default=None,
                   help="a prompt adapter from `videoforge train-text-adapter` for this checkpoint: Chinese prompts "
                        "(一个红色的圆形向左移动) go through it, English ones are unchanged")
    p.add_argument("--adapter", action="append", default=None, metavar="ADAPTER",
                   help="an adapter from `videoforge finetune` trained on this checkpoint (LoRA / OFT / full); "
                        "repeatable: several are merged in the order given")
    p.add_argument("--adapter-scale", action="append", type=float, default=None, metavar="S",
                   help="how much of the adapter: 0 = the base, 1 = as trained (default); one for all adapters, "
                        "or one per --adapter")
    p.add_argument("--continue", dest="continue_from", metavar="VIDEO_OR_LATENT", default=None,
                   help="continue this video (resized to the model's size) or latent (.npy from --save-latent) "
                        "chunk by chunk: --frames then counts the NEW frames; the output holds the context then "
                        "the new frames (--new-only: the new frames alone). Needs a checkpoint trained for "
                        "continuation (make demo-continue)")
    p.add_argument("--prompt-schedule", default=None, metavar="FRAME:PROMPT;...",
                   help="with --continue: change the prompt from a new frame on, e.g. '32:a red circle moves up' "
                        "(PROMPT holds from frame 0 until the first entry)")
    p.add_argument("--context-noise", type=float, default=None, metavar="S",
                   help="with --continue: noise level put on the context latents (default: the checkpoint's)")
    p.add_argument("--new-only", action="store_true", help="with --continue: write only the new frames")
    p.add_argument("--save-latent", default=None, metavar="FILE.npy",
                   help="with --continue: also save the whole latent, to continue from it later without re-encoding")
    p.add_argument("--int8", action="store_true",
                   help="int8 inference on the CPU: the attention and MLP matrices of STDiT's blocks dynamically "
                        "quantised (AdaLN modulation, embedders and final layer float), the decoder's "
                        "weights rounded to int8 (a checkpoint saved with --save-int8 always loads this way)")
    p.add_argument("--save-int8", metavar="PATH", default=None,
                   help="also write the checkpoint with STDiT's and the decoder's weights stored as int8 "
                        "(about half the file; `generate` loads it like any checkpoint)")
    p.add_argument("--num-samples", type=int, default=1, metavar="K",
                   help="K clips of PROMPT sampled as one batch (one pass of the sampler for all K, so each clip "
                        "costs far less than K separate commands), written as OUT with _0 .. _K-1 before the "
                        "extension (default 1: OUT itself)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    return p


def sample_paths(out: str, k: int) -> list[str]:
    """OUT for one clip; OUT's stem + _i + its extension for each of k > 1 clips."""
    if k == 1:
        return [out]
    import os

    stem, ext = os.path.splitext(out)
    return [f"{stem}_{i}{ext or '.mp4'}" for i in range(k)]


def main(args) -> int:
    from videoforge.cli import UsageError

    if args.frames < 1:
        raise UsageError("--frames must be >= 1")
    num_samples = getattr(args, "num_samples", None)
    num_samples = 1 if num_samples is None else int(num_samples)
    if num_samples < 1:
        raise UsageError("--num-samples must be >= 1")
    if num_samples > 1 and getattr(args, "continue_from", None):
        raise UsageError("--num-samples goes without --continue (a continuation is one clip)")
    if not getattr(args, "continue_from", None) and (args.prompt_schedule or args.new_only or args.save_latent
                                                     or args.context_noise is not None):
        raise UsageError("--prompt-schedule, --context-noise, --new-only and --save-latent go with --continue")
    metrics = dict(getattr(args, "metrics", None) or {})
    for m in args.metric:
        name, sep, val = m.partition("=")
        try:
            metrics[name] = float(val)
        except ValueError:
            raise UsageError(f"--metric {m!r}: expected NAME=NUMBER") from None
    import os

    if not os.path.exists(args.checkpoint):
        raise UsageError(f"{args.checkpoint}: no such checkpoint")
    from videoforge.cli._common import print_json
    from videoforge.models.pipeline import Pipeline
    from videoforge.io.encode import write_video

    try:
        from videoforge.models.int8 import load_pipeline

        # Pipeline.load, and a checkpoint saved with --save-int8 too; int8 after any adapter is attached
        pipe = load_pipeline(args.checkpoint, int8=False)
    except ValueError as e:   # unreadable, not a generator checkpoint, or holding code: bad input
        raise UsageError(str(e)) from e
    if args.text_adapter:
        from videoforge.adapt.text_adapter import apply_text_adapter

        if not os.path.exists(args.text_adapter):
            raise UsageError(f"{args.text_adapter}: no such text adapter")
        try:
            apply_text_adapter(pipe, args.text_adapter)
        except ValueError as e:   # unreadable, not an adapter, or trained for another checkpoint
            raise UsageError(str(e)) from e
    if getattr(args, "adapter", None):
        from videoforge.adapt.adapters import load_onto
        from videoforge.cli.merge_adapters import adapter_scales

        try:   # refused when trained on another base (sha256), unreadable or not an adapter
            load_onto(pipe, args.checkpoint, args.adapter, adapter_scales(args, UsageError))
        except ValueError as e:
            raise UsageError(str(e)) from e
    elif getattr(args, "adapter_scale", None):
        raise UsageError("--adapter-scale without --adapter")
    if getattr(args, "int8", False) or getattr(pipe, "int8_checkpoint", False):
        from videoforge.models.int8 import to_int8

        to_int8(pipe)
    if getattr(args, "save_int8", None):
        from videoforge.models.int8 import save_quantized
        from videoforge.models.safeload import load_tensors

        save_quantized(load_tensors(args.checkpoint, "checkpoint"), args.save_int8)
    if getattr(args, "metrics", None) and "motion" in args.metrics and "motion" not in pipe.scaler.names \
            and "motion_peak" in pipe.scaler.names and "motion_peak" not in metrics:
        metrics["motion_peak"] = metrics.pop("motion")   # --motion drives whichever motion metric it knows
    unknown = set(metrics) - set(pipe.scaler.names)
    if unknown:
        raise UsageError(f"checkpoint has no metric(s) {sorted(unknown)}; it knows {pipe.scaler.names}")
    cont = None
    contrast = list(getattr(args, "contrast", None) or [])
    cfg_contrast = float(getattr(args, "cfg_contrast", 0.0) or 0.0)
    if contrast and not cfg_contrast:
        raise UsageError("--contrast needs a --cfg-contrast scale (0, the default, is off)")
    if contrast and cfg_contrast and getattr(args, "continue_from", None):
        raise UsageError("--contrast / --cfg-contrast work on a new clip, not with --continue")
    if cfg_contrast and not contrast:
        raise UsageError("--cfg-contrast needs at least one --contrast PROMPT")
    compose = list(getattr(args, "compose", None) or [])
    compose_w = list(getattr(args, "compose_weight", None) or [])
    if compose_w and not compose:
        raise UsageError("--compose-weight needs at least one --compose PARTIAL_PROMPT")
    if compose:
        if getattr(args, "continue_from", None):
            raise UsageError("--compose works on a new clip, not with --continue")
        if len(compose_w) not in (0, 1, len(compose)):
            raise UsageError(f"--compose-weight: give one weight, or one per --compose ({len(compose)})")
        compose_w = compose_w * len(compose) if len(compose_w) == 1 else compose_w or [2.0] * len(compose)
    if getattr(args, "continue_from", None):
        from videoforge.continuation.sample import ContinuationError, continue_video

        try:
            cont = continue_video(pipe, args.continue_from, args.frames, args.prompt, args.prompt_schedule,
                                  metrics=metrics, seed=args.seed, steps=args.steps or 25, cfg_text=args.cfg_text,
                                  cfg_metric=args.cfg_metric, context_noise=args.context_noise, progress=not args.json)
        except ContinuationError as e:
            raise UsageError(str(e)) from e
        frames = cont.frames[cont.new_from:] if args.new_only else cont.frames
        if args.save_latent:
            import numpy as np

            np.save(args.save_latent, cont.latent.cpu().numpy())
    else:
        prompt = args.prompt if num_samples == 1 else [args.prompt] * num_samples   # one batched pass
        ckw = {}
        if contrast and cfg_contrast:
            ckw = dict(cfg_contrast=cfg_contrast, contrast_prompts=contrast if num_samples == 1 else [contrast] * num_samples)
        if compose:
            ckw.update(compose_weights=compose_w, compose_prompts=compose if num_samples == 1 else [compose] * num_samples)
        try:
            frames = pipe.generate(prompt, metrics=metrics, frames=args.frames, seed=args.seed, steps=args.steps,
                                   cfg_text=args.cfg_text, cfg_metric=args.cfg_metric, **ckw)
        except ValueError as e:
            if not ckw:
                raise
            raise UsageError(str(e)) from e
    fps = args.fps or float(pipe.video.get("fps") or 8.0)
    outs = sample_paths(args.out, num_samples)
    if num_samples > 1:
        for path, clip in zip(outs, frames):
            write_video(path, list(clip), fps=fps)
        frames = frames[0]
    else:
        write_video(args.out, list(frames), fps=fps)
    doc = {"out": os.path.abspath(outs[0]), "frames": int(frames.shape[0]), "height": int(frames.shape[1]),
           "width": int(frames.shape[2]), "fps": fps, "metrics": metrics, "seed": args.seed}
    if num_samples > 1:
        doc["outs"] = [os.path.abspath(x) for x in outs]
    if cont is not None:
        doc["context_frames"] = 0 if args.new_only else int(cont.new_from)
        doc["new_frames"] = int(cont.frames.shape[0] - cont.new_from)
    if args.json:
        print_json(doc)
    else:
        print("\n".join(doc.get("outs") or [doc["out"]]))
    return 0
