"""The time a text hit reports: where its word is on screen, also across a cut inside the shot.

A word shown over a cut the shot detector made inside one real shot (a second caption
appearing mid-shot, a ticker bar sliding in), or over a few frames the catalog leaves between
two shots, is in the `ocr_text` of two or more adjacent shots. The hit is the best-scoring of
them; its `start_time`/`end_time` widen over the directly adjacent shots of the same video
(at most `MAX_GAP` s apart) whose text holds a word the hit's own text matched, so the span
covers the time the word is on screen. `shot_start_time`/`shot_end_time` keep the shot's own.
"""

from __future__ import annotations

from videoforge.search.sources import text_sql
from videoforge.search.text_index import words_of

MAX_GAP = 0.5   # s between two shots that still count as adjacent (a few frames left out of any shot)


def widen_text_spans(con, hits: list, query_words: set[str]) -> None:
    """Widen in place the spans of `hits` (query.Hit) that matched `query_words` in their own text."""
    todo = [h for h in hits if "bm25" in h.branches]
    if not todo or not query_words:
        return
    cols = {d[0] for d in con.execute("SELECT * FROM shots LIMIT 0").description}
    vids = sorted({h.video_id for h in todo})
    ph = ",".join("?" * len(vids))
    rows = con.execute(f"""SELECT s.video_id, s.shot_id, s.start_time, s.end_time, {text_sql(cols)}
                           FROM shots s WHERE s.video_id IN ({ph}) ORDER BY s.video_id, s.start_time""", vids).fetchall()
    by_video: dict[str, list[tuple]] = {}
    for r in rows:
        by_video.setdefault(r[0], []).append(r[1:])
    for h in todo:
        shots = by_video.get(h.video_id, [])
        pos = next((i for i, s in enumerate(shots) if s[0] == h.shot_id), None)
        if pos is None:
            continue
        matched = set(words_of(shots[pos][3])) & query_words
        if not matched:
            continue
        lo = hi = pos
        while lo > 0 and shots[lo][1] - shots[lo - 1][2] <= MAX_GAP and matched & set(words_of(shots[lo - 1][3])):
            lo -= 1
        while hi + 1 < len(shots) and shots[hi + 1][1] - shots[hi][2] <= MAX_GAP and \
                matched & set(words_of(shots[hi + 1][3])):
            hi += 1
        h.start_time, h.end_time = float(shots[lo][1]), float(shots[hi][2])
