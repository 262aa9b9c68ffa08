"""Catalog schema and its migrations. Add columns, never rename: other parts rely on the names.

Each migration is a list of SQL statements; `SCHEMA_VERSION` is the number of migrations.
Later stages (curation, search, ...) append migrations here rather than altering tables
elsewhere, so every catalog on disk can be brought forward in one place.
"""

# Metric columns on `shots`, all DOUBLE. Units and ranges are documented in docs/METRICS.md.
METRIC_COLUMNS: list[str] = [
    "motion",            # mean optical-flow magnitude, % of frame diagonal per second
    "motion_peak",       # 99th-percentile optical-flow magnitude, % of frame diagonal per second
    "camera_pan",        # camera velocity, % of frame width per second (signed; + = turns right)
    "camera_tilt",       # camera velocity, % of frame height per second (signed; + = turns up)
    "camera_zoom",       # global scale change, % per second (signed; + = zoom in)
    "camera_shake",      # jitter of global motion around its trend, % of diagonal per frame
    "sharpness",         # variance of the Laplacian of luma at <= 1280 px, levels^2 (higher = sharper)
    "brightness",        # mean luma, 0-1
    "contrast",          # luma standard deviation, 0-1
    "clip_dark",         # fraction of pixels at or below luma 16/255, 0-1
    "clip_bright",       # fraction of pixels at or above luma 235/255, 0-1
    "black_ratio",       # fraction of frames that are black, 0-1
    "frozen_ratio",      # fraction of frames identical to their predecessor, 0-1
    "border_ratio",      # fraction of the frame area covered by letterbox/pillarbox bars, 0-1
    "text_area",         # fraction of the frame area covered by detected text, 0-1
    "audio_rms_db",      # audio loudness, dBFS RMS (NULL without audio)
    "audio_peak_db",     # audio peak, dBFS (NULL without audio)
    "audio_silence_ratio",  # fraction of the shot below -50 dBFS (NULL without audio)
]

MIGRATIONS: list[list[str]] = [
    # 1: the data engine's tables
    [
        """CREATE TABLE IF NOT EXISTS meta (
            name VARCHAR PRIMARY KEY,
            val VARCHAR
        )""",
        """CREATE TABLE IF NOT EXISTS videos (
            video_id VARCHAR PRIMARY KEY,
            path VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            size_bytes BIGINT,
            duration DOUBLE,
            fps DOUBLE,
            vfr BOOLEAN,
            frames BIGINT,
            frames_expected BIGINT,
            decode_errors INTEGER,
            width INTEGER,
            height INTEGER,
            rotation INTEGER,
            codec VARCHAR,
            pix_fmt VARCHAR,
            bit_depth INTEGER,
            has_audio BOOLEAN,
            audio_codec VARCHAR,
            audio_sample_rate INTEGER,
            audio_channels INTEGER,
            num_shots INTEGER,
            analysis_version VARCHAR,
            analysis_params VARCHAR,
            analyzed_at TIMESTAMP
        )""",
        """CREATE TABLE IF NOT EXISTS shots (
            shot_id VARCHAR PRIMARY KEY,
            video_id VARCHAR NOT NULL,
            shot_index INTEGER,
            start_frame BIGINT,
            end_frame BIGINT,
            start_time DOUBLE,
            end_time DOUBLE,
            num_frames BIGINT,
            duration DOUBLE,
            width INTEGER,
            height INTEGER,
            fps DOUBLE,
            camera_move VARCHAR,
            """
        + ",\n            ".join(f"{c} DOUBLE" for c in METRIC_COLUMNS)
        + """,
            ocr_text VARCHAR
        )""",
        "CREATE INDEX IF NOT EXISTS shots_video ON shots(video_id)",
        """CREATE TABLE IF NOT EXISTS transitions (
            video_id VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            start_frame BIGINT,
            end_frame BIGINT,
            start_time DOUBLE,
            end_time DOUBLE,
            confidence DOUBLE
        )""",
        """CREATE TABLE IF NOT EXISTS keyframes (
            shot_id VARCHAR NOT NULL,
            video_id VARCHAR NOT NULL,
            frame BIGINT,
            pts_time DOUBLE,
            path VARCHAR,
            width INTEGER,
            height INTEGER
        )""",
        """CREATE TABLE IF NOT EXISTS errors (
            path VARCHAR,
            stage VARCHAR,
            message VARCHAR,
            logged_at TIMESTAMP,
            fingerprint VARCHAR
        )""",
    ],
]

# curation (curate/): learned suitability, near-duplicates, structured captions + their caches
MIGRATIONS.append([
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS suitability DOUBLE",
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS duplicate_of VARCHAR",
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS caption VARCHAR",
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS caption_json VARCHAR",
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS caption_backend VARCHAR",
    """CREATE TABLE IF NOT EXISTS caption_cache (
        cache_key VARCHAR PRIMARY KEY,
        backend VARCHAR,
        model VARCHAR,
        caption_json VARCHAR,
        prompt_tokens BIGINT,
        completion_tokens BIGINT,
        created_at TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS keyframe_hashes (
        path VARCHAR PRIMARY KEY,
        hashes UBIGINT[]
    )""",
])

# 3: `motion_peak` (the speed of the fastest-moving 1 % of the picture) beside `motion`
MIGRATIONS.append([
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS motion_peak DOUBLE",
])

# 4: nothing lost on re-analysis (issue 20). `curation_stale`: re-analysis keeps a surviving
# shot's curation values (suitability, duplicate_of, caption*) and sets this when the shot's
# boundaries or the file's content changed since they were computed (or its duplicate_of
# target vanished or changed). `mtime_ns` + `content_hash` (SHA-256 of every byte, taken
# during the decode pass) catch same-size edits the sampled fingerprint cannot see.
# `errors.kind`: 'input' (a bad file) or 'internal' (a videoforge bug or resource failure).
MIGRATIONS.append([
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS curation_stale BOOLEAN DEFAULT FALSE",
    "ALTER TABLE videos ADD COLUMN IF NOT EXISTS mtime_ns BIGINT",
    "ALTER TABLE videos ADD COLUMN IF NOT EXISTS content_hash VARCHAR",
    "ALTER TABLE errors ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'input'",
])

# 5: the decision center (plan/, issue 25). `stages`: each stage variant's measured cost per
# unit (running averages from `calibrate` and every `run --plan`) and its quality figures with
# their source; `plan_runs`: each executed plan with its predicted and actual cost.
MIGRATIONS.append([
    """CREATE TABLE IF NOT EXISTS stages (
        stage VARCHAR NOT NULL,
        variant VARCHAR NOT NULL,
        unit VARCHAR,
        cpu_seconds DOUBLE,
        fixed_cpu_seconds DOUBLE,
        usd DOUBLE,
        quality_json VARCHAR,
        quality_source VARCHAR,
        cost_source VARCHAR,
        samples INTEGER,
        units_measured DOUBLE,
        updated_at TIMESTAMP,
        PRIMARY KEY (stage, variant)
    )""",
    """CREATE TABLE IF NOT EXISTS plan_runs (
        run_id VARCHAR PRIMARY KEY,
        goal VARCHAR,
        plan_json VARCHAR,
        predicted_cpu_seconds DOUBLE,
        predicted_usd DOUBLE,
        actual_cpu_seconds DOUBLE,
        actual_usd DOUBLE,
        actual_wall_seconds DOUBLE,
        finished_at TIMESTAMP
    )""",
])

# 6: which curation values are stale (leftover of issue 20). `stale_columns` names the carried
# curation columns whose values describe an older version of the shot (its boundaries, the
# file's content or the analysis version changed); writing a column again (score, dedup,
# caption) takes it off the list, and `curation_stale` is TRUE while the list is not empty.
MIGRATIONS.append([
    "ALTER TABLE shots ADD COLUMN IF NOT EXISTS stale_columns VARCHAR[]",
])

# Columns of `shots` that analysis writes (everything else on `shots` is curation, which a
# re-analysis carries over for every shot_id that survives).
ANALYSIS_SHOT_COLUMNS: frozenset[str] = frozenset([
    "shot_id", "video_id", "shot_index", "start_frame", "end_frame", "start_time", "end_time",
    "num_frames", "duration", "width", "height", "fps", "camera_move", "ocr_text", *METRIC_COLUMNS,
])

SCHEMA_VERSION = len(MIGRATIONS)
