"""Does the checker (and the AE) read a shape's travel right up to the fastest demo clips? (issue 19, session 9)

    python benchmarks/train_travel_check.py CKPT

32 fresh clips (travel 0.09 ... 0.42 of the side, 4 triples each, radius 1/4, H.264, read at 32 x 32),
the checker's travel on the decoded truth and on CKPT's autoencoder reconstructions, against the
true travel. If both follow to 0.42, a generator whose travel stops rising is the generator's limit.
"""
import sys

import numpy as np, tempfile, torch
from scipy.stats import spearmanr
from videoforge.synth import shapes
from videoforge.train.data import decode_rgb
from videoforge.models.pipeline import Pipeline
torch.set_num_threads(1)
rng = np.random.default_rng(5)
clips = []
for tr in np.linspace(0.09, 0.42, 8):
    for c in [("red","circle","left"),("green","square","up"),("yellow","triangle","right"),("blue","circle","down")]:
        clips.append(shapes.ShapeClip(*c, "fast", float(tr), "", int(rng.integers(2**31)), 0.25))
with tempfile.TemporaryDirectory() as d:
    frames = [decode_rgb(p, 17, 32, 32) for p in shapes.write_clips(clips, d, frames=17, size=64, fps=8.0)]
pipe = Pipeline.load(sys.argv[1])
x = torch.from_numpy(np.stack(frames)).permute(0,4,1,2,3).float()/127.5-1
with torch.no_grad():
    rec = pipe.ae.decode(pipe.ae.encode(x))
recf = ((rec.clamp(-1,1)+1)*127.5).round().byte().permute(0,2,3,4,1).numpy()
true = np.array([c.travel for c in clips])
gt = np.array([shapes.read_clip(f[:16]).travel for f in frames])
ae = np.array([shapes.read_clip(f[:16]).travel for f in recf])
for i in range(0, len(clips), 4):
    print(round(true[i],3), 'checker on truth', round(float(np.median(gt[i:i+4])),3), 'on AE rec', round(float(np.median(ae[i:i+4])),3))
print('spearman truth', spearmanr(true, gt).statistic, 'AE', spearmanr(true, ae).statistic)
