"""The recurrent SR network's alignment warps the right way: the propagated state of frame t+1
(backward pass) and t-1 (forward pass) is sampled where frame t's content went, checked on
real camera-path clips with the same DIS flow and warp the network uses."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from videoforge.enhance import sr_data  # noqa: E402
from videoforge.enhance.sr_model import flow_warp, lr_flows  # noqa: E402


def _err(a, b):
    return float((a - b)[..., 3:-3, 3:-3].abs().mean())


def test_flows_align_neighbours_onto_the_current_frame():
    rng = np.random.default_rng(7)
    wins = 0
    for _ in range(6):
        hr = sr_data.camera_clip(sr_data.load_photo("skimage:astronaut.png"), rng, 4, 192, max_speed=6.0)
        lr = np.stack([sr_data.degrade.bicubic_down(f, 4) for f in hr])
        fn, fp = lr_flows(lr)
        x = torch.from_numpy(lr.astype(np.float32) / 255).permute(0, 3, 1, 2)
        n, p = torch.from_numpy(fn), torch.from_numpy(fp)
        # backward pass: state of t+1 warped by flow_next[t] lands on frame t
        back = _err(flow_warp(x[1:], n), x[:-1])
        # forward pass: state of t-1 warped by flow_prev[t-1] lands on frame t
        fwd = _err(flow_warp(x[:-1], p), x[1:])
        still = _err(x[1:], x[:-1])
        wrong = _err(flow_warp(x[1:], -n), x[:-1])
        wins += back < 0.6 * still and fwd < 0.6 * still and back < wrong
    assert wins >= 5
