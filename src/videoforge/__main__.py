from videoforge.cli import main

raise SystemExit(main())
