"""Turn the user's INPUT arguments (files, folders, globs) into a sorted list of video files."""

from __future__ import annotations

import glob
import os

from videoforge.catalog.markers import is_output_folder

VIDEO_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts",
    ".flv", ".wmv", ".3gp", ".ogv", ".mxf", ".y4m",
}


def discover(inputs: list[str], skip: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(video paths, inputs that matched nothing). Folders are walked recursively for video
    extensions; a file named explicitly is taken whatever its extension. Folders that are
    videoforge output (a catalog or an export, by their marker file) and the folders in
    `skip` are not walked into."""
    found: list[str] = []
    missing: list[str] = []
    skipped = {os.path.abspath(s) for s in skip or []}

    for item in inputs:
        if os.path.isdir(item):
            for root, dirs, files in os.walk(item):
                if os.path.abspath(root) in skipped or is_output_folder(root):
                    dirs[:] = []
                    continue
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
