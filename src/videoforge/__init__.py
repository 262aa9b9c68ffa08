"""videoforge: one engine from raw video to trained video models."""

__version__ = "0.1.0"
