"""Step and guidance distillation (issue 21 part 3): a teacher sampled with many Euler steps and
classifier-free guidance (3 network evaluations per step) -> a student that samples in a few
steps with one evaluation each, the guidance scales an input of the network.

student.py  the student network (STDiT + guidance-scale embedding) and its sampler;
pairs.py    the teacher's trajectories on training prompts (what the student learns from);
train.py    the distillation itself (`videoforge distill`);
clipfeat.py a small clip classifier trained on real clips and the Frechet distance on its features.
"""
