"""The teacher's sampling trajectories: what the student is distilled from.

For each (prompt, metric value, guidance scales, noise) the teacher is run exactly as
`generate` runs it (`models/flow.py` euler_sample: `steps` Euler steps from t = 1 to 0, three
passes per step for two-way classifier-free guidance), and its states are kept at the
student's coarse times. Between two teacher steps an Euler path is a straight line, so the
state at a student time that falls between teacher times is the linear interpolation of the two
(exact, not an approximation).
"""

from __future__ import annotations

import torch


def guided_velocity(model, x, t, y, y_mask, metrics, cfg_text, cfg_metric):
    """The teacher's two-way CFG velocity (models/flow.py), with per-sample scales (B,)."""
    B = x.shape[0]
    no, yes = torch.ones(B, dtype=torch.bool, device=x.device), torch.zeros(B, dtype=torch.bool, device=x.device)
    v_u, v_t, v_tm = model(torch.cat([x, x, x]), t.expand(3 * B), torch.cat([y, y, y]),
                           torch.cat([y_mask, y_mask, y_mask]), torch.cat([metrics, metrics, metrics]),
                           drop_text=torch.cat([no, yes, yes]), drop_metrics=torch.cat([no, no, yes])).chunk(3)
    st, sm = cfg_text.view(B, 1, 1, 1, 1), cfg_metric.view(B, 1, 1, 1, 1)
    return v_u + st * (v_t - v_u) + sm * (v_tm - v_t)


@torch.no_grad()
def teacher_states(model, noise, y, y_mask, metrics, cfg_text, cfg_metric, steps: int,
                   at: torch.Tensor) -> torch.Tensor:
    """(B, len(at), C, T, H, W): the teacher's Euler path from `noise` (at t = 1) sampled at the
    times `at` (descending, within [0, 1]); `steps` teacher steps with the uniform grid that
    euler_sample uses (shift 1), network evaluations counted as generate counts them."""
    ts = torch.linspace(1, 0, steps + 1)
    at = [float(a) for a in at]
    out = [None] * len(at)
    x = noise.clone()
    for j, a in enumerate(at):
        if a >= 1.0:
            out[j] = x.clone()
    for i in range(steps):
        t, t_next = ts[i], ts[i + 1]
        v = guided_velocity(model, x, t.to(x.device), y, y_mask, metrics, cfg_text, cfg_metric)
        x_next = x + (t_next - t) * v
        for j, a in enumerate(at):   # student times in (t_next, t]: on this straight segment
            if out[j] is None and float(t_next) <= a < float(t) + 1e-9 and not (a >= 1.0):
                out[j] = x + (a - float(t)) * v
        x = x_next
    for j, a in enumerate(at):
        if out[j] is None:          # a == 0 (or below the grid): the end state
            out[j] = x.clone()
    return torch.stack(out, 1)
