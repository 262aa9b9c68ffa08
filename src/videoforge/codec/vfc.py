"""The .vfc bitstream: encode a video with a codec model, decode it back to a lossless file.

Layout (little-endian), everything a decoder needs besides the model:

    "VFC1" | model key (8 bytes: the first 16 hex digits of the model file's SHA-256)
    | width, height (u16) | fps numerator, denominator (u32) | frames (u32)
    | model width, height, clip frames (u16) | planes (u8) | chunks (u16) | latent T, H, W (u16)
    | per chunk: CRC-32 of its tokens (u32) | payload bytes (u32) | payload (range-coder words)

A file that leaves bit planes out (the rate knob: `codec encode --drop-planes 5,7`) starts
with "VFC2" and has one more field after the latent shape: the mask of planes sent (u32, bit k
= plane k). A plane not sent costs no bits: encoder and decoder both set each of its bits to
the prior's more probable value given what is already known (so a codebook of 2**K of the 2**C
tokens per context), and stay in step.

The video is cut into chunks of the model's clip length (the last one padded by repeating
its final frame; `frames` trims it) and resized to the model's resolution when it differs
(decoding resizes back). The chunks' LFQ tokens are range-coded (constriction) into one
stream, so the coder's flush costs a few bytes per file, not per chunk, plane by plane under
the learned prior (codec/prior.py) with probabilities rounded to 12 bits, so the
encoder and the decoder use exactly the same numbers. The CRC lets a decoder that computed a
different prior (another CPU or library build) say so instead of writing a wrong video.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from videoforge.codec.model import CodecModel, find_model, load_codec_model, register
from videoforge.codec.prior import token_bits
from videoforge.io.errors import VideoError

MAGIC = b"VFC1"
MAGIC2 = b"VFC2"   # VFC1's header + the mask of planes sent (u32): the others inferred, not sent
_HEAD = struct.Struct("<4s8sHHIIIHHHBHHHH")
_HEAD2 = struct.Struct("<4s8sHHIIIHHHBHHHHI")
_U32 = struct.Struct("<I")
PROB_BITS = 12


class VfcError(ValueError):
    """A .vfc file that cannot be decoded (the message names the file and why)."""


@dataclass
class CodeStats:
    path: str
    frames: int
    width: int
    height: int
    fps: str
    bytes: int              # the whole .vfc file
    payload_bytes: int      # range-coder words only
    ideal_bits: float       # sum of -log2 p under the (rounded) prior: the code length to approach
    bits_per_pixel: float   # whole file, per input pixel
    model: str
    planes_coded: int = 0   # bit planes sent per token (the rest inferred); the model's planes when all
    planes_sent: tuple = ()  # which planes were sent

    @property
    def overhead(self) -> float:
        """Payload size over the ideal code length, minus 1."""
        return self.payload_bytes * 8 / self.ideal_bits - 1 if self.ideal_bits else float("nan")


def _probs(logits: torch.Tensor) -> np.ndarray:
    q = 1 << PROB_BITS
    p = np.rint(torch.sigmoid(logits.double()).numpy().ravel() * q)
    return np.clip(p, 1, q - 1) / q


def _plane_probs(model: CodecModel, bits: torch.Tensor):
    """Yield (t, k, probabilities) in coding order; `bits` (C, T, H, W) known up to what is used
    (a caller may overwrite bits[k, t] after its plane is yielded: the later contexts see that)."""
    C, T, H, W = bits.shape
    for t in range(T):
        prev = bits[:, t - 1][None] if t else None
        for k in range(C):
            with torch.no_grad():
                yield t, k, _probs(model.prior.logits(prev, bits[:, t][None], k))


def _inferred(p: np.ndarray, shape) -> torch.Tensor:
    """A plane that is not sent: the more probable bit under the (rounded) prior, the same
    number on both sides."""
    return torch.from_numpy((p >= 0.5).astype(np.int64)).view(shape)


def _rgb_frames(path: str):
    from videoforge.io.decode import decode_frames

    for f in decode_frames(path, width=16, prefetch=0):
        yield f.bgr()[:, :, ::-1]


def _rate(path: str, frames: int, duration: float) -> Fraction:
    import av

    try:
        with av.open(path) as c:
            s = c.streams.video[0]
            r = s.guessed_rate or s.average_rate
            if r:
                return Fraction(r.numerator, r.denominator)
    except Exception:  # noqa: BLE001 - the decode above already named real problems
        pass
    return Fraction(frames / duration).limit_denominator(1001) if duration > 0 else Fraction(25)


def _to_model(frame: np.ndarray, model: CodecModel) -> np.ndarray:
    import cv2

    if frame.shape[:2] == (model.height, model.width):
        return frame
    return cv2.resize(frame, (model.width, model.height), interpolation=cv2.INTER_AREA)


def _padded_chunks(frames, L: int):
    """Lists of L frames from an iterable; the last one padded by repeating its final frame."""
    part = []
    for f in frames:
        part.append(f)
        if len(part) == L:
            yield part
            part = []
    if part:
        yield part + [part[-1]] * (L - len(part))


def _clip_tensor(part: list[np.ndarray]) -> torch.Tensor:
    """(L, H, W, 3) uint8 frames -> (1, 3, L, H, W) in [-1, 1], the autoencoder's input."""
    return torch.from_numpy(np.stack(part)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1


def _clip_frames(video: torch.Tensor) -> np.ndarray:
    """(3, L, H, W) in [-1, 1] -> (L, H, W, 3) uint8."""
    return ((video.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 3, 0).numpy()


def encode_video(src: str, model_path: str, out: str, drop_planes=()) -> CodeStats:
    """Encode `src` (any video the data engine reads) with the codec model at `model_path`.
    `drop_planes`: bit planes (0..planes-1) not sent; their bits are inferred from the prior on
    both sides (a lower rate, more distortion)."""
    import constriction

    model = load_codec_model(model_path)
    drop = {int(k) for k in drop_planes}
    bad = sorted(k for k in drop if not 0 <= k < model.planes)
    if bad:
        raise VfcError(f"--drop-planes {bad}: the model {model_path} has bit planes 0..{model.planes - 1}")
    sent = [k for k in range(model.planes) if k not in drop]
    mask = sum(1 << k for k in sent)
    register(model_path, model.sha256)
    seen = {"n": 0}

    def model_frames():   # streamed: one chunk in memory at a time
        for f in _rgb_frames(src):   # upright (rotation applied), full resolution
            seen.setdefault("hw", f.shape[:2])
            seen["n"] += 1
            yield _to_model(f, model)

    L = model.frames
    family = constriction.stream.model.Bernoulli(perfect=False)
    enc = constriction.stream.queue.RangeEncoder()
    crcs, ideal, lat = [], 0.0, None
    for part in _padded_chunks(model_frames(), L):
        with torch.no_grad():
            tokens = model.ae.tokens(_clip_tensor(part))[0]                 # (T', H', W')
        lat = tuple(tokens.shape)
        bits = token_bits(tokens[None], model.planes)[0].clone()            # (C, T', H', W')
        for t, k, p in _plane_probs(model, bits):
            if k in drop:   # not sent: what the decoder will infer, so later contexts agree
                bits[k, t] = _inferred(p, bits.shape[2:])
                continue
            sym = bits[k, t].numpy().ravel().astype(np.int32)
            enc.encode(sym, family, p)
            ideal -= float(np.sum(np.log2(np.where(sym == 1, p, 1 - p))))
        if drop:
            tokens = (bits * (2 ** torch.arange(model.planes)).view(-1, 1, 1, 1)).sum(0)
        crcs.append(zlib.crc32(tokens.numpy().astype("<i4").tobytes()))
    (h0, w0), n, chunks = seen["hw"], seen["n"], len(crcs)
    if h0 > 65535 or w0 > 65535:
        raise VideoError(src, f"{w0}x{h0} is larger than a .vfc file can state", stage="codec")
    from videoforge.io.probe import probe

    rate = _rate(src, n, probe(src).duration)
    payload = enc.get_compressed().astype("<u4").tobytes()
    fields = (bytes.fromhex(model.key), w0, h0, rate.numerator, rate.denominator, n,
              model.width, model.height, L, model.planes, chunks, *lat)
    # all planes sent: the VFC1 layout, byte for byte as before; fewer: VFC2 (+ the mask of planes sent)
    head = _HEAD.pack(MAGIC, *fields) if not drop else _HEAD2.pack(MAGIC2, *fields, mask)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".part"
    with open(tmp, "wb") as f:
        f.write(head)
        for crc in crcs:
            f.write(_U32.pack(crc))
        f.write(_U32.pack(len(payload)))
        f.write(payload)
    os.replace(tmp, out)
    size = os.path.getsize(out)
    return CodeStats(out, n, w0, h0, f"{rate.numerator}/{rate.denominator}", size, len(payload), ideal,
                     size * 8 / (n * w0 * h0), model.key, len(sent), tuple(sent))


def read_header(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read(_HEAD2.size)
        if len(raw) < _HEAD.size or raw[:4] not in (MAGIC, MAGIC2):
            raise VfcError(f"{path}: not a .vfc file (no VFC1 header)")
        head = _HEAD if raw[:4] == MAGIC else _HEAD2
        if len(raw) < head.size:
            raise VfcError(f"{path}: truncated header")
        (_, key, w, h, num, den, n, mw, mh, L, planes, chunks, lt, lh, lw, *mask) = head.unpack(raw[: head.size])
        mask = mask[0] if mask else (1 << planes) - 1
        if mask >> planes:
            raise VfcError(f"{path}: plane mask {mask:#x} names planes a {planes}-plane model lacks: damaged header")
        sent = tuple(k for k in range(planes) if mask >> k & 1)
        f.seek(head.size)
        table = f.read(4 * chunks + 4)
        if len(table) != 4 * chunks + 4:
            raise VfcError(f"{path}: truncated chunk table")
        crcs = [_U32.unpack_from(table, 4 * i)[0] for i in range(chunks)]
        nbytes = _U32.unpack_from(table, 4 * chunks)[0]
        return {"key": key.hex(), "width": w, "height": h, "fps": Fraction(num, den) if den else Fraction(25),
                "frames": n, "model_width": mw, "model_height": mh, "clip_frames": L, "planes": planes,
                "chunks": chunks, "latent": (lt, lh, lw), "crcs": crcs, "payload_bytes": nbytes,
                "planes_coded": len(sent), "planes_sent": sent, "offset": head.size + 4 * chunks + 4}


def decode_vfc(path: str, out: str, model_path: str | None = None) -> dict:
    """Decode `path` to a lossless video `out` (.mkv/.avi: FFV1 RGB; .mp4/.mov: x264 qp 0, 4:4:4)
    with the input's frame count, size and fps. Without `model_path` the model is looked up by the
    key the file holds."""
    import constriction
    import cv2

    ext = os.path.splitext(out)[1].lower()
    if ext not in (".mkv", ".avi", ".mp4", ".mov"):
        raise VfcError(f"{out}: the output must be .mkv or .avi (FFV1) or .mp4 or .mov (x264 lossless)")
    hd = read_header(path)
    model = load_codec_model(model_path or find_model(hd["key"]))
    if model.key != hd["key"]:
        raise VfcError(f"{path}: encoded with codec model {hd['key']}, not {model.key} ({model_path})")
    if (model.frames, model.height, model.width, model.planes) != (hd["clip_frames"], hd["model_height"],
                                                                   hd["model_width"], hd["planes"]):
        raise VfcError(f"{path}: header does not match the model's clip shape")
    family = constriction.stream.model.Bernoulli(perfect=False)
    T, H, W = hd["latent"]
    C, sent = hd["planes"], set(hd["planes_sent"])
    with open(path, "rb") as f:
        f.seek(hd["offset"])
        raw = f.read(hd["payload_bytes"])
    if len(raw) != hd["payload_bytes"] or len(raw) % 4:
        raise VfcError(f"{path}: truncated payload ({len(raw)} of {hd['payload_bytes']} bytes)")
    dec = constriction.stream.queue.RangeDecoder(np.frombuffer(raw, "<u4").astype(np.uint32))

    def frames():   # streamed into the writer: one chunk in memory at a time
        left = hd["frames"]
        for ci, crc in enumerate(hd["crcs"]):
            bits = torch.zeros(C, T, H, W, dtype=torch.long)
            for t in range(T):
                prev = bits[:, t - 1][None] if t else None
                for k in range(C):
                    with torch.no_grad():
                        p = _probs(model.prior.logits(prev, bits[:, t][None], k))
                    if k not in sent:   # not sent: inferred exactly as the encoder did
                        bits[k, t] = _inferred(p, (H, W))
                        continue
                    try:
                        got = dec.decode(family, p)
                    except Exception as e:  # noqa: BLE001 - constriction reports damaged input its own ways
                        raise VfcError(f"{path}: damaged payload in chunk {ci} ({e})") from None
                    bits[k, t] = torch.from_numpy(got.astype(np.int64)).view(H, W)
            tokens = (bits * (2 ** torch.arange(C)).view(C, 1, 1, 1)).sum(0)
            if zlib.crc32(tokens.numpy().astype("<i4").tobytes()) != crc:
                raise VfcError(f"{path}: chunk {ci} decodes to other tokens than were encoded (its CRC differs): "
                               "the file is damaged, or the prior computed here differs from the encoder's "
                               "(another CPU or library build)")
            with torch.no_grad():
                rgb = _clip_frames(model.ae.decode(model.ae.quantizer.codes(tokens[None]))[0])
            for fr in rgb[:left]:
                if (hd["height"], hd["width"]) != (model.height, model.width):
                    fr = cv2.resize(fr, (hd["width"], hd["height"]), interpolation=cv2.INTER_CUBIC)
                yield fr
            left -= min(left, len(rgb))

    from videoforge.io.encode import write_video

    part = out[: -len(ext)] + ".part" + ext   # written aside: a file that fails half-way leaves nothing under `out`
    try:
        if ext in (".mkv", ".avi"):
            write_video(part, frames(), fps=hd["fps"], codec="ffv1", pix_fmt="bgr0", crf=None)
        else:
            write_video(part, frames(), fps=hd["fps"], codec="libx264", pix_fmt="yuv444p", crf=None,
                        options={"qp": "0", "preset": "veryfast"})
        os.replace(part, out)
    finally:
        if os.path.exists(part):
            os.remove(part)
    return {"out": os.path.abspath(out), "frames": hd["frames"], "width": hd["width"], "height": hd["height"],
            "fps": f"{hd['fps'].numerator}/{hd['fps'].denominator}", "model": hd["key"]}


def reconstruct(model: CodecModel, frames: list[np.ndarray]) -> list[np.ndarray]:
    """What decoding gives for these model-size frames (the autoencoder's round trip per chunk),
    without the entropy coder: for tests and rate-distortion curves."""
    out = []
    for part in _padded_chunks(frames, model.frames):
        with torch.no_grad():
            out += list(_clip_frames(model.ae.decode(model.ae.quantizer.codes(model.ae.tokens(_clip_tensor(part))))[0]))
    return out[: len(frames)]


__all__ = ["encode_video", "decode_vfc", "read_header", "reconstruct", "CodeStats", "VfcError", "VideoError"]
