from videoforge.cli import entry

raise SystemExit(entry())
