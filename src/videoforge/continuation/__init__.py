"""Long-video continuation (issue 23 part 2): a generator with context-frame conditioning
continues a video chunk by chunk, each chunk conditioned on the latent frames before it."""
