"""Turn the user's INPUT arguments (files, folders, globs) into a sorted list of video files."""

from __future__ import annotations

import glob
import os

VIDEO_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts",
    ".flv", ".wmv", ".3gp", ".ogv", ".mxf", ".y4m",
}


def discover(inputs: list[str]) -> tuple[list[str], list[str]]:
    """(video paths, inputs that matched nothing). Folders are walked recursively for video
    extensions; a file named explicitly is taken whatever its extension."""
    found: list[str] = []
    missing: list[str] = []
    for item in inputs:
        if os.path.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if os.path.splitext(f)[1].lower() in VIDEO_EXTENSIONS:
                        found.append(os.path.join(root, f))
        elif os.path.exists(item):
            found.append(item)
        else:
            matches = sorted(glob.glob(item, recursive=True))
            files = [m for m in matches if os.path.isfile(m)]
            if files:
                found.extend(files)
            else:
                missing.append(item)
    seen, out = set(), []
    for p in found:
        a = os.path.abspath(p)
        if a not in seen:
            seen.add(a)
            out.append(a)
    return out, missing
