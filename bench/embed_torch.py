"""Benchmark helper for bench/embed.sh: the PyTorch sentence-transformers side.

Subcommands:
  texts CORPUS N OUT        write the first N BEIR corpus records as {"text": title + "\n" + text} lines
  torch MODEL_DIR IN OUT    embed IN (JSONL) with sentence-transformers (fp32, 2 threads), write
                            f32 rows to OUT, print "texts_per_s=... capability=..." on stdout
                            (ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA in the environment restrict
                            the instruction set)
  compare A B DIM           print the minimum cosine between two f32 row files
"""
import gzip
import json
import sys
import time


def write_texts(corpus, count, out):
    with gzip.open(corpus, "rt", encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for written, line in enumerate(src):
            if written == count:
                break
            record = json.loads(line)
            dst.write(json.dumps({"text": record.get("title", "") + "\n" + record["text"]}) + "\n")


def run_torch(model_dir, path, out):
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    texts = [json.loads(line)["text"] for line in open(path, encoding="utf-8") if line.strip()]
    model = SentenceTransformer(model_dir, device="cpu")
    model.encode(texts[:16], normalize_embeddings=True)  # warm-up
    started = time.perf_counter()
    cpu_started = time.process_time()
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    np.asarray(vectors, dtype="<f4").tofile(out)
    # What ATen dispatches to: AVX512 normally, AVX2 under ATEN_CPU_CAPABILITY=avx2.
    capability = torch.backends.cpu.get_cpu_capability()
    print(
        f"texts_per_s={len(texts) / seconds:.2f} seconds={seconds:.2f} cpu_s={cpu:.2f} "
        f"threads={torch.get_num_threads()} capability={capability}"
    )


def compare(a, b, dim):
    import numpy as np

    x = np.fromfile(a, dtype="<f4").reshape(-1, dim)
    y = np.fromfile(b, dtype="<f4").reshape(-1, dim)
    assert x.shape == y.shape, (x.shape, y.shape)
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    print(f"{cos.min():.6f}")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "texts":
        write_texts(args[0], int(args[1]), args[2])
    elif command == "torch":
        run_torch(*args)
    elif command == "compare":
        compare(args[0], args[1], int(args[2]))
    else:
        sys.exit(f"unknown command {command}")
