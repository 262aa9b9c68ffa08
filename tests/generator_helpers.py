"""A tiny generator checkpoint with random weights, shared by the tests of the sampling paths
(distillation, int8): random rather than zero-initialised, so every layer and condition matters."""

import torch

AE = {"base_channels": 8, "channel_mult": [1, 2, 2], "spatial_down": [True, False], "temporal_down": [True, True],
      "patch_size": 2, "latent_channels": 4}


def random_generator_checkpoint(path, prompts, hidden_size: int = 32) -> str:
    from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder
    from videoforge.models.pipeline import FORMAT, VideoGenerator
    from videoforge.models.stdit import STDiTConfig
    from videoforge.models.text import TinyTextEncoder

    torch.manual_seed(0)
    ae = CausalVideoAutoencoder(AutoencoderConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in AE.items()}))
    spec = {"kind": "tiny", "dim": 16, "depth": 1, "heads": 2, "vocab": TinyTextEncoder.build_vocab(prompts)}
    gen = VideoGenerator(STDiTConfig(in_channels=4, hidden_size=hidden_size, depth=2, num_heads=4, text_dim=16,
                                     metrics=("motion",)), spec)
    with torch.no_grad():
        for p in gen.stdit.parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.05)
    ck = {"format": FORMAT, "autoencoder": {"config": ae.cfg.to_dict(), "state": ae.state_dict(), "latent_scale": 1.0},
          "stdit": {"config": gen.stdit.cfg.to_dict(), "state": gen.stdit.state_dict()},
          "text_encoder": {"spec": gen.text_encoder.spec(), "state": gen.text_encoder.state_dict()},
          "metrics": {"names": ["motion"], "lo": [0.0], "hi": [2.0]}, "video": {"height": 32, "width": 32, "fps": 8.0}}
    torch.save(ck, path)
    return str(path)
