#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET/). Standard library only.

Usage: tests/fuzz/make_seeds.py QUICKSTART_DIR
QUICKSTART_DIR is the output of `recipes/quickstart/run.sh` (any scale): its tokenizer folder, manifest,
encoded records, replies and features give the seeds that mirror real files; the rest is built here from
the formats' specifications and the small fixtures in tests/fixtures/. Rerun after a format changes and
commit the result; keep every seed small (a few KiB, the SentencePiece model aside).
"""
import base64, json, os, struct, sys, io, wave, shutil

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))
SEP = b"\n--symp-fuzz-next-file--\n"
qs = sys.argv[1] if len(sys.argv) > 1 else None


def put(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


f32 = lambda *v: struct.pack("<%df" % len(v), *v)
put("safetensors", "f32", safetensors({"w": ("F32", [2, 3], f32(1, 2, 3, 4, 5, 6))}, {"format": "pt"}))
put("safetensors", "mixed", safetensors({
    "a.bf16": ("BF16", [2], b"\x80\x3f\x00\x40"), "b.f16": ("F16", [1, 2], b"\x00\x3c\x00\xc0"),
    "c.i64": ("I64", [2], struct.pack("<2q", -1, 7)), "d.u8": ("U8", [3], b"\x01\x02\x03"),
    "e.bool": ("BOOL", [1], b"\x01"), "f.scalar": ("F64", [], struct.pack("<d", 2.5)),
    "g.empty": ("I32", [0, 4], b"")}))
put("safetensors", "empty", safetensors({}))
shard_a = safetensors({"x": ("F32", [2], f32(1, 2))})
shard_b = safetensors({"y": ("I8", [3], b"\x01\xff\x02")})
index = json.dumps({"metadata": {"total_size": 11}, "weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})
put("safetensors_index", "two_shards", index.encode() + SEP + shard_a + SEP + shard_b)
put("safetensors_index", "one_shard", json.dumps({"weight_map": {"x": "a.safetensors"}}).encode() + SEP + shard_a + SEP)

put("hyperpyyaml", "glm4voice_decoder", open(os.path.join(REPO, "tests/fixtures/glm4voice_decoder/config.yaml"), "rb").read())
put("hyperpyyaml", "tags", "a: !new:torch.nn.Linear\n  in_features: 4\n  out_features: !ref <b>\nb: 2\nc: [1, 2.5e-3, 'x', \"y\"]\nd: {k: v, n: null}\ne: !name:f.g\n# comment\nf: &anchor 3\n")

for name in ("train-lora.toml", "train-lora-4gpu.toml"):
    put("toml", name, open(os.path.join(REPO, "recipes/paper", name), "rb").read())
put("toml", "forms", '# c\n[a]\nx = 1\ny = -2.5e3\nz = "s\\n\\u00e9"\nw = \'lit\'\nv = [1, 2,\n 3]\nt = {p = true, q = false}\n[b.c]\n"quoted key" = 0x1F\nd.e = 1_000\n')

# Model folders' JSON configs (fixtures as transformers and PEFT wrote them); the second file is the
# WhisperVQ preprocessor_config.json.
fixture = lambda rel: open(os.path.join(REPO, "tests/fixtures", rel), "rb").read()
for name in ("glm_chatglm", "glm_hf", "bert", "distilbert"):
    put("model_configs", name, fixture(name + "/config.json") + SEP + fixture("whisper_vq/preprocessor_config.json"))
for name in ("lora_chatglm", "lora_hf_peft"):
    put("model_configs", name, fixture(name + "/adapter_config.json") + SEP)
put("model_configs", "whisper_vq", fixture("whisper_vq/config.json") + SEP + fixture("whisper_vq/preprocessor_config.json"))
# GLM-4-Voice's decoder config.yaml, and the flat flow and hift config.json (JSON is YAML's flow syntax).
put("speech_configs", "glm4voice_decoder", fixture("glm4voice_decoder/config.yaml"))
put("speech_configs", "flow", fixture("flow/config.json"))
put("speech_configs", "hift", fixture("hift/config.json"))

# A byte-level tiktoken table: every single byte, then a few merges, with GLM-4's added tokens.
ranks = [bytes([b]) for b in range(256)] + [b"he", b"ll", b"hello", b" w", b"or", b"ld", b" world", b"\n\n"]
model = b"".join(base64.b64encode(t) + b" " + str(i).encode() + b"\n" for i, t in enumerate(ranks))
added = {str(len(ranks) + i): {"content": c, "special": True} for i, c in enumerate(
    ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>",
     "<|assistant|>", "<|observation|>", "<|begin_of_audio|>", "<|end_of_audio|>", "<|audio_0|>", "<|audio_1|>"])}
put("glm_tokenizer", "small", model + SEP + json.dumps({"added_tokens_decoder": added}).encode())

for name in ("bert", "distilbert"):
    vocab = open(os.path.join(REPO, "tests/fixtures", name, "vocab.txt"), "rb").read()
    put("wordpiece", name, vocab + SEP + "Héllo, WORLD! unbelievable 東京 [MASK]\t x".encode())

if qs:
    tok = os.path.join(qs, "tok")
    put("spm_tokenizer", "quickstart", open(os.path.join(tok, "tokenizer.json"), "rb").read() + SEP +
        open(os.path.join(tok, "text.model"), "rb").read())
    def lines(path, n):
        with open(path, "rb") as f:
            return b"".join(f.readline() for _ in range(n))
    put("records", "manifest", lines(os.path.join(qs, "corpus/manifest.jsonl"), 2))
    put("records", "encoded", lines(os.path.join(qs, "enc/encoded_eval.jsonl"), 1))
    put("records", "responses", lines(os.path.join(qs, "replies/responses.jsonl"), 2))
    put("records", "proxy_items", lines(os.path.join(qs, "judge/proxy_items.jsonl"), 2))
    put("features_csv", "quickstart", lines(os.path.join(qs, "prosody/features.csv"), 3))
put("records", "other_tools", b'{"id": 3, "audio": "a.wav", "text": "hi", "duration": 1.5}\n'
    b'{"id": "x", "wav": "b.wav", "checkpoint": "c", "schema_version": 1, "extra": [1, {"k": null}]}\n{"id": "torn')


def wav(rate, width, frames, channels=1):
    b = io.BytesIO()
    with wave.open(b, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)
    return b.getvalue()


put("audio", "pcm16_16k", wav(16000, 2, struct.pack("<64h", *[(i * 997) % 20000 - 10000 for i in range(64)])))
put("audio", "pcm8_8k_stereo", wav(8000, 1, bytes(range(0, 256, 4))[:64], channels=2))
put("audio", "pcm24_22k", wav(22050, 3, bytes(range(96))))
# IEEE float WAV (format 3), written by hand: the wave module writes PCM only.
samples = f32(*[0.5 * ((i % 16) / 8.0 - 1.0) for i in range(48)])
fmt = struct.pack("<HHIIHH", 3, 1, 24000, 24000 * 4, 4, 32)
put("audio", "float32_24k", b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(samples)) + b"WAVE" +
    b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples)

for i, reply in enumerate(["4 | warm and fitting", "Rating: 3", "I'd say 5|", "none of 0, 6 or 7 here",
                           "2\n|\n", "The reply scores 1 out of 5 | flat"]):
    put("judge_rating", "reply%d" % i, reply)

for name, body in {
        "chat": {"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": "4 | good"}}]},
        "parts": {"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "image_url"}]}}]},
        "transcription": {"text": "hello there"},
        "error": {"error": {"message": "overloaded", "code": 503}}}.items():
    put("openai_reply", name, json.dumps(body))

# symp serve's chat-completion requests: audio parts, every affect form, streaming and sampling fields.
speech = base64.b64encode(wav(16000, 2, struct.pack("<32h", *[(i * 991) % 8000 - 4000 for i in range(32)]))).decode()
audio_part = {"type": "input_audio", "input_audio": {"data": speech, "format": "wav"}}
user = [{"role": "system", "content": "be kind"}, {"role": "user", "content": [{"type": "text", "text": "hi"}, audio_part]}]
for name, extra in {
        "plain": {},
        "va": {"affect": {"valence": 0.25, "arousal": -0.5}, "seed": 7},
        "emotion": {"affect": {"emotion": "happy"}, "stream": True, "audio": {"format": "pcm16", "voice": "x"}},
        "interpolate": {"affect": {"interpolate": ["happy", "sad"], "t": 0.25}, "temperature": 0.7, "top_p": 0.9},
        "taxonomy": {"affect": {"taxonomy": "isear", "probs": {"joy": 0.7, "fear": 0.3}}, "max_tokens": 64},
        "none": {"affect": {"none": True}, "modalities": ["text"], "max_completion_tokens": 10, "n": 1}}.items():
    put("serve_request", name, json.dumps(dict({"model": "lora", "messages": user}, **extra)))
put("serve_request", "text_only", json.dumps({"messages": [{"role": "user", "content": "hello"}]}))
