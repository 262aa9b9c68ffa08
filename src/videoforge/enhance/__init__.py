"""Media enhancement: video matting (`videoforge matte`) and, later, super-resolution.

Modules: composites (synthetic training/evaluation clips with known alpha), matte_model (the
small recurrent network), train_matte (training script), matte (inference over a video and
the writers for the alpha / RGBA / composite outputs), matte_eval (figures).
"""
