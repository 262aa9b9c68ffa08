"""Generative models: causal video autoencoder, STDiT, text encoders, rectified flow."""

from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder, valid_frames
from videoforge.models.stdit import STDIT_SIZES, STDiT, STDiTConfig

__all__ = ["AutoencoderConfig", "CausalVideoAutoencoder", "valid_frames", "STDiT", "STDiTConfig", "STDIT_SIZES"]
