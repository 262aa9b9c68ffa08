"""Ablation of the offline visual descriptor on its *tuning* set (seeds from 1000; the quality
benchmark uses seeds from 5000). 60 palettes x 5 shots, three JPEG keyframes per shot; the
query is a random frame of the shot, 90 % cropped at a random offset, resized 0.6-1.6x, JPEG q60.
Prints (recall@1 against keyframes, recall@1 against mean-pooled shot vectors, ms/image).

    .venv/bin/python benchmarks/search_visual_ablation.py [SEED]
"""
import os, sys, time, numpy as np, cv2
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))  # tests/search_helpers.py
from search_helpers import _palette, shot_frames, degrade
from videoforge.search.embedders.visual import VisualDescriptorEmbedder
seed0 = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
nv, ns, nf = 60, 5, 30
rng = np.random.default_rng(seed0)
kf, kf_shot, queries, q_shot = [], [], [], []
for v in range(nv):
    pal = _palette(rng)
    for s in range(ns):
        fr = shot_frames(rng, pal, nf, 180, 320)
        sid = v * ns + s
        for i in (3, 15, 27):
            ok, b = cv2.imencode(".jpg", cv2.cvtColor(fr[i], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
            kf.append(cv2.imdecode(b, 1)); kf_shot.append(sid)
        qi = int(rng.integers(0, nf))
        queries.append(degrade(cv2.cvtColor(fr[qi], cv2.COLOR_RGB2BGR), rng)); q_shot.append(sid)
kf_shot = np.array(kf_shot); q_shot = np.array(q_shot)
def run(emb):
    t = time.time()
    K = emb.embed_images(kf); Q = emb.embed_images(queries)
    dt = (time.time() - t) / (len(kf) + len(queries))
    S = Q @ K.T
    best = kf_shot[S.argmax(1)]
    r1 = (best == q_shot).mean()
    nsh = q_shot.max() + 1
    M = np.stack([K[kf_shot == i].mean(0) for i in range(nsh)]); M /= np.linalg.norm(M, axis=1, keepdims=True)
    r1m = ((Q @ M.T).argmax(1) == q_shot).mean()
    return r1, r1m, dt * 1000
print("dim", VisualDescriptorEmbedder().dim)
base = dict(lab=1.0, hist=0.8, grad=1.0, grad2=0.7, dct=0.6)
print("default", run(VisualDescriptorEmbedder()))
for name in base:
    only = {k: (1.0 if k == name else 0.0) for k in base}
    print("only", name, run(VisualDescriptorEmbedder(weights=only)))
for span in (0.7, 0.85, 1.0):
    print("span", span, run(VisualDescriptorEmbedder(span=span)))
