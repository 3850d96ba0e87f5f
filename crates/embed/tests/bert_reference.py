#!/usr/bin/env python3
"""An independent BERT sentence encoder in float64 numpy, the reference for papers-embed.

Written from the BERT paper and the Hugging Face / sentence-transformers module semantics,
sharing nothing with the Rust code: it reads the model directory itself (config.json,
model.safetensors parsed by hand, modules.json, the pooling config) and runs the textbook
forward pass with the exact erf GELU. Token ids come from the caller so that only the
numbers of the encoder are compared.

  bert_reference.py MODEL_DIR IDS_JSONL OUT_F32

IDS_JSONL holds one JSON list of token ids per line; OUT_F32 receives one little-endian
float32 row per line.
"""

import json
import math
import os
import struct
import sys

import numpy as np

try:
    from scipy.special import erf
except ImportError:  # numpy alone: math.erf element by element (slower, same values)
    erf = np.vectorize(math.erf, otypes=[np.float64])

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def load_safetensors(path):
    with open(path, "rb") as handle:
        data = handle.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        # Integer buffers (position_ids) are not weights.
        if name == "__metadata__" or info["dtype"] not in ("BF16", *DTYPES):
            continue
        start, end = info["data_offsets"]
        raw = data[base + start:base + end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        tensors[name] = array.astype(np.float64).reshape(info["shape"])
    # Checkpoints saved from BertModel heads carry a `bert.` prefix.
    if any(name.startswith("bert.") for name in tensors):
        tensors = {name[len("bert."):]: value for name, value in tensors.items() if name.startswith("bert.")}
    return tensors


def layer_norm(x, gain, shift, eps):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * gain + shift


def encode(ids, weights, config):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = config.get("layer_norm_eps", 1e-12)
    w = weights
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][: len(ids)]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."

        def linear(name, value):
            return value @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        def split(value):
            return value.reshape(len(ids), heads, head_dim).transpose(1, 0, 2)

        q = split(linear("attention.self.query", x))
        k = split(linear("attention.self.key", x))
        v = split(linear("attention.self.value", x))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(head_dim)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probabilities = scores / scores.sum(axis=-1, keepdims=True)
        context = (probabilities @ v).transpose(1, 0, 2).reshape(len(ids), hidden)
        x = layer_norm(x + linear("attention.output.dense", context),
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        inner = linear("intermediate.dense", x)
        inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))
        x = layer_norm(x + linear("output.dense", inner),
                       w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return x


def sentence_modules(model_dir):
    """(pooling mode, normalize) from modules.json and the pooling config."""
    pooling, normalize = "mean", False
    modules_path = os.path.join(model_dir, "modules.json")
    if not os.path.exists(modules_path):
        return pooling, normalize
    with open(modules_path) as handle:
        modules = json.load(handle)
    for module in modules:
        kind = module["type"].rsplit(".", 1)[-1]
        if kind == "Pooling":
            with open(os.path.join(model_dir, module["path"], "config.json")) as handle:
                settings = json.load(handle)
            for key, mode in [("pooling_mode_cls_token", "cls"), ("pooling_mode_mean_tokens", "mean"),
                              ("pooling_mode_max_tokens", "max"),
                              ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt")]:
                if settings.get(key):
                    pooling = mode
        elif kind == "Normalize":
            normalize = True
    return pooling, normalize


def pool(states, mode):
    if mode == "cls":
        return states[0]
    if mode == "max":
        return states.max(axis=0)
    if mode == "mean_sqrt":
        return states.sum(axis=0) / math.sqrt(len(states))
    return states.mean(axis=0)


def main():
    model_dir, ids_path, out_path = sys.argv[1:4]
    with open(os.path.join(model_dir, "config.json")) as handle:
        config = json.load(handle)
    weights = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    pooling, normalize = sentence_modules(model_dir)
    rows = []
    with open(ids_path) as handle:
        for line in handle:
            if not line.strip():
                continue
            ids = np.array(json.loads(line), dtype=np.int64)
            vector = pool(encode(ids, weights, config), pooling)
            if normalize:
                vector = vector / max(np.linalg.norm(vector), 1e-12)
            rows.append(vector.astype("<f4"))
    with open(out_path, "wb") as handle:
        for row in rows:
            handle.write(row.tobytes())


if __name__ == "__main__":
    main()
