"""Decision center (issue 25), session 9: the cheaper OCR variant `ocr/lowres` (OCR reads its crops
at <= 640 px instead of 960) reaches the engine, reads smaller pictures, and is in the registry
with a measured search recall and a cost relative to `ocr/on`."""

from __future__ import annotations

from videoforge.engine.config import AnalysisConfig
from videoforge.io.decode import decode_frames
from videoforge.metrics.text import TextScorer
from videoforge.plan.registry import OCR_PARAMS, apply_to_config, available, shipped_registry


def test_ocr_variants_set_the_text_scorers_existing_options():
    on = apply_to_config(AnalysisConfig(), {"shots": "videoforge", "metrics": "full", "ocr": "on"})
    assert on.ocr and "text" not in on.scorer_params          # the scorer's defaults, untouched
    low = apply_to_config(AnalysisConfig(), {"shots": "videoforge", "metrics": "half", "ocr": "lowres"})
    assert low.ocr and low.scorer_params["text"] == {"ocr_side": 640}
    assert "motion" in low.scorer_params                       # the metric rates are kept alongside
    lean = apply_to_config(AnalysisConfig(), {"shots": "videoforge", "metrics": "none", "ocr": "lean"})
    assert lean.ocr and lean.scorer_params["text"] == {"frames_per_ocr": 250} and lean.scorers == ["text"]
    off = apply_to_config(AnalysisConfig(), {"shots": "none", "metrics": "none", "ocr": "off"})
    assert not off.ocr and off.scorers == []
    assert set(OCR_PARAMS) == {"lean", "lowres"}


def test_lowres_reads_smaller_pictures_of_a_real_clip():
    path = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi"   # 720 px wide, text-like texture
    sizes = {}
    for name, kw in (("on", {}), ("lowres", OCR_PARAMS["lowres"])):
        sc = TextScorer(**kw)
        for fr in decode_frames(path):
            sc.process(fr)
            if fr.index >= 30:
                break
        assert sc.sampled >= 2 and sc.cands   # the same gate: the same samples pass
        sizes[name] = [c.frame_size for c in sc.cands]
        sc.close()
    assert len(sizes["on"]) == len(sizes["lowres"])
    assert max(w for w, h in sizes["on"]) > 640 >= max(max(w, h) for w, h in sizes["lowres"])


def test_lowres_ocr_is_registered_with_a_measured_recall_and_cost():
    reg = shipped_registry()
    sp, on, lean = reg["ocr/lowres"], reg["ocr/on"], reg["ocr/lean"]
    assert available(sp) and sp.unit == "second"
    assert 0.0 < sp.quality["text_recall"] < on.quality["text_recall"]
    assert "plan_ocr_variant.py" in sp.quality_source and "seeds 9500" in sp.quality_source
    assert 0.0 < sp.cpu_seconds < lean.cpu_seconds and sp.cost_source.startswith("shipped")


def test_lowres_costs_what_ocr_on_costs_on_footage_no_larger_than_its_pictures():
    from videoforge.plan.costs import InputInfo, chain_cost

    reg = shipped_registry()
    small = InputInfo("/s.mp4", 10.0, 250, 640, 360)    # <= 640 px: the very pictures ocr/on reads
    big = InputInfo("/b.mp4", 10.0, 250, 1280, 720)
    ch = {"shots": "videoforge", "metrics": "full"}
    for info, same in ((small, True), (big, False)):
        on, low = chain_cost(info, {**ch, "ocr": "on"}, reg), chain_cost(info, {**ch, "ocr": "lowres"}, reg)
        assert (abs(on - low) < 1e-12) if same else (low < on)
