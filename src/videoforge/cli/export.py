"""`videoforge export`: selected shots as clips plus an Open-Sora CSV, WebDataset shards or Parquet."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="export shots as clips + an Open-Sora CSV, WebDataset tar shards or a Parquet manifest",
        description=(
            "Cut one MP4 per selected shot and write a manifest for training.\n\n"
            "Clips: stream copy when the shot starts on a keyframe (verified frame-exact), else a\n"
            "frame-accurate H.264 re-encode; audio kept as AAC, trimmed to the shot; transition\n"
            "frames never included; rotation kept.\n"
            "Rows: Open-Sora's columns (path,text,num_frames,height,width,aspect_ratio,fps,resolution),\n"
            "then the shot's metrics, then lineage (source_path, video_id, shot_id, start_time, end_time).\n\n"
            "Layout:\n"
            "  opensora    DIR/manifest.csv + DIR/clips/<video_id>/<shot_id>.mp4 (paths relative to the CSV)\n"
            "  parquet     DIR/manifest.parquet + DIR/clips/<video_id>/<shot_id>.mp4\n"
            "  webdataset  DIR/shard-000000.tar, ... (<shot_id>.mp4 + <shot_id>.json per sample)\n\n"
            "Without --where and --min-seconds every shot is exported."
        ),
        epilog=(
            "examples:\n"
            "  videoforge export cat --out ds --format opensora --min-seconds 2\n"
            "  videoforge export cat --out ds --format webdataset --where \"motion > 1 AND v.height >= 720\"\n"
            "  videoforge export cat --out ds --format parquet --where \"text_area < 0.05\" --limit 100"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder made by `videoforge run`")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--format", required=True, choices=["opensora", "webdataset", "parquet"], help="manifest format")
    p.add_argument("--where", default=None, metavar="SQL",
                   help="SQL boolean over shots columns (e.g. \"duration > 2 AND motion > 0.5\"); the shot's "
                        "video row is reachable as v (e.g. \"v.fps >= 24\", \"v.path LIKE '%%/cam1/%%'\")")
    p.add_argument("--min-seconds", type=float, default=None, metavar="S", help="keep shots at least S seconds long")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="export at most N shots (catalog order)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="parallel source videos (default: CPU cores)")
    p.add_argument("--reencode", action="store_true", help="always re-encode with libx264 (never stream copy)")
    p.add_argument("--absolute-paths", action="store_true",
                   help="write absolute clip paths in the CSV/Parquet (default: relative to the manifest's folder)")
    p.add_argument("--no-audio", action="store_true", help="drop audio from the clips")
    p.add_argument("--shard-size", type=int, default=1000, metavar="N", help="samples per WebDataset shard")
    p.add_argument("--matte", action="store_true",
                   help="also write each shot's alpha matte (the `videoforge matte` network) next to its clip as "
                        "<shot_id>.alpha.mkv (grey FFV1, lossless, 255 = foreground); manifest column matte_path; "
                        "WebDataset samples get a <shot_id>.alpha.mkv member")
    p.add_argument("--json", action="store_true", help="print the export summary as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def main(args) -> int:
    from videoforge.catalog import Catalog, CatalogError
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.export import SelectionError, export_catalog

    for name in ("workers", "shard_size"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must be 0 or more")
    if args.min_seconds is not None and args.min_seconds < 0:
        raise UsageError("--min-seconds must be 0 or more")
    if not Catalog(args.catalog).exists():
        raise CatalogError(f"{args.catalog}: no catalog here (run `videoforge run INPUT --catalog {args.catalog}` first)")
    try:
        summary = export_catalog(args.catalog, args.out, format=args.format, where=args.where,
                                 min_seconds=args.min_seconds, limit=args.limit, workers=args.workers,
                                 reencode=args.reencode, audio=not args.no_audio, shard_size=args.shard_size,
                                 progress=not (args.quiet or args.json), absolute_paths=args.absolute_paths,
                                 matte=args.matte)
    except SelectionError as e:
        raise UsageError(str(e)) from e
    except OSError as e:
        raise CatalogError(f"{args.out}: cannot write the export ({e.strerror or e})") from e
    if args.json:
        print_json(summary.to_dict())
    else:
        print_table(["selected", "exported", "failed", "copied", "re-encoded", "frames", "seconds"],
                    [[summary.selected, summary.exported, summary.failed, summary.copied, summary.reencoded,
                      summary.frames, round(summary.seconds, 1)]])
        for e in summary.errors:
            print(f"  failed [export] {e['message']}")
        where = summary.manifest or (f"{len(summary.shards)} shard(s) in {summary.out_dir}" if summary.shards else summary.out_dir)
        print(f"export: {where}")
    if summary.failed:
        print(f"{summary.failed} shot(s) failed; see the errors table (stage 'export')", file=sys.stderr)
    if summary.selected == 0:
        print("no shots matched the selection", file=sys.stderr)
    return 0
