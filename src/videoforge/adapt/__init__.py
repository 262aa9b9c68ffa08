"""Adapting a trained generator without retraining it: a Chinese prompt adapter (issue 22)."""
