"""Measure the CPU cost of the CLIP and SigLIP embedders for the stage registry (issue 25).

No weights can be downloaded here, so each model is built from its default transformers
configuration - the real architecture (CLIP ViT-B/32, SigLIP base patch16-224) with random
weights - and run through the project's own embedder code (search/embedders/hf_clip.py,
`embed_images`) on real keyframes: the cost per keyframe does not depend on the weights'
values. Quality (recall) is NOT measured: random weights say nothing about it. Loading is
timed in a fresh interpreter (torch + transformers imports, building the model from a
folder written with save_pretrained). Keyframes per shot come from the engine's own
keyframes on generated footage (our transition generator, libx264).

    nice -n 5 .venv/bin/python benchmarks/plan_embed_costs.py [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

MODELS = {"clip": ("CLIPModel", "CLIPConfig", "CLIPImageProcessor"),
          "siglip": ("SiglipModel", "SiglipConfig", "SiglipImageProcessor")}


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def keyframes(tmp: str) -> tuple[list[np.ndarray], float]:
    """Real keyframe JPEGs of generated footage and the mean keyframes per shot."""
    import cv2

    from videoforge.catalog import Catalog
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos
    from videoforge.plan.registry import apply_to_config
    from videoforge.synth.transitions import GenSettings, generate

    paths = []
    for k, (w, h) in enumerate([(640, 360), (1280, 720)]):
        paths.append(os.path.join(tmp, f"g{k}.mp4"))
        generate(paths[-1], seed=4100 + k, settings=GenSettings(width=w, height=h, shots=4, footage="synthetic"))
    cat = os.path.join(tmp, "cat")
    run_videos(paths, cat, config=apply_to_config(AnalysisConfig(), {"metrics": "none", "ocr": "off",
                                                                      "shots": "videoforge"}), progress=False)
    c = Catalog(cat)
    shots = c.query("SELECT count(*) FROM shots")[1][0][0]
    rows = c.query("SELECT path FROM keyframes")[1]
    imgs = [cv2.imread(p if os.path.isabs(p) else os.path.join(cat, p)) for (p,) in rows]
    imgs = [i for i in imgs if i is not None]
    return imgs, len(rows) / max(shots, 1)


def per_keyframe(name: str, imgs: list[np.ndarray], folder: str) -> float:
    import transformers

    from videoforge.search.embedders.hf_clip import ClipEmbedder, SiglipEmbedder

    model_cls, cfg_cls, proc_cls = (getattr(transformers, n) for n in MODELS[name])
    net = model_cls(cfg_cls()).eval()
    proc = proc_cls()
    net.save_pretrained(folder)
    proc.save_pretrained(folder)
    emb = (ClipEmbedder if name == "clip" else SiglipEmbedder)(model=folder)
    emb._net, emb._proc = net, proc   # no tokenizer (text side) without downloaded vocabularies
    emb.embed_images(imgs[:2])        # warm-up (first-call allocations)
    c0 = _cpu()
    emb.embed_images(imgs)
    return (_cpu() - c0) / len(imgs)


def loading(name: str, folder: str) -> float:
    model_cls, _, proc_cls = MODELS[name]
    code = (f"import torch, transformers\nm = transformers.{model_cls}.from_pretrained({folder!r}).eval()\n"
            f"p = transformers.{proc_cls}.from_pretrained({folder!r})\n")
    bare = "import numpy\n"
    out = []
    for c in (code, bare):
        c0 = _cpu()
        subprocess.run([sys.executable, "-c", c], check=True, capture_output=True)
        out.append(_cpu() - c0)
    return max(out[0] - out[1], 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="fold into src/videoforge/plan/default_costs.json")
    args = ap.parse_args()
    res: dict = {}
    with tempfile.TemporaryDirectory(prefix="vf-embcost-") as tmp:
        imgs, kps = keyframes(tmp)
        res["keyframes"] = len(imgs)
        res["keyframes_per_shot"] = kps
        for name in MODELS:
            folder = os.path.join(tmp, name)
            k = per_keyframe(name, imgs, folder)
            res[name] = {"cpu_per_keyframe": k, "cpu_per_shot": k * kps, "loading": loading(name, folder)}
    print(json.dumps(res, indent=1))
    if args.write:
        from videoforge.plan.registry import SHIPPED_COSTS

        with open(SHIPPED_COSTS) as f:
            doc = json.load(f)
        for name in MODELS:
            doc["costs"][f"embed/{name}"] = {"cpu_seconds": round(res[name]["cpu_per_shot"], 6),
                                             "fixed_cpu_seconds": round(res[name]["loading"], 4), "usd": 0.0}
        doc["embed_source"] = (f"benchmarks/plan_embed_costs.py: the real architectures (transformers default CLIP "
                               f"ViT-B/32 and SigLIP base patch16-224 configs) with random weights through "
                               f"search/embedders/hf_clip.py, {res['keyframes']} real keyframes of generated "
                               f"footage, {res['keyframes_per_shot']:.2f} keyframes per shot; loading in a fresh "
                               f"interpreter; 2-core shared machine under load; quality not measured (no weights)")
        with open(SHIPPED_COSTS, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
