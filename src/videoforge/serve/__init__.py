"""HTTP service over a catalog: JSON API, web page, shot media; see `create_app`."""


def create_app(*args, **kwargs):
    """Build the FastAPI app (imported lazily so `import videoforge.serve` stays light)."""
    from videoforge.serve.app import create_app as _create

    return _create(*args, **kwargs)
