"""Benchmark of the RAG stages on the real knowledge base (not a test): prints a markdown table and JSON.

    python benchmarks/bench_rag.py [--kinds flat hnsw ivf] [--n 100] [--generate 16]

Measures, one query at a time: p50/p90 of embedding the query and searching the index, for each faiss
index kind, BM25 and the hybrid; batched retrieval throughput; recall@5; and, with ``--generate N``, the
per-query prefill/decode split of RAG generation on N questions. Introduced in 01_rag.ipynb.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import labkit as lk


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", nargs="+", default=["flat", "hnsw", "ivf"])
    ap.add_argument("--n", type=int, default=100, help="single queries to time per retriever")
    ap.add_argument("--generate", type=int, default=0, help="questions to answer with RAG (0: skip)")
    args = ap.parse_args()
    env = lk.setup(seed=0)
    docs, qa = lk.load_kb("v1"), lk.load_qa()
    chunks = lk.chunk_corpus(docs, lk.ChunkConfig(size=120, overlap=30))
    embedder = lk.load_embedder()
    queries = [q.question for q in qa][: args.n]
    retrievers = {f"dense-{k}": lk.DenseIndex.build(chunks, embedder, kind=k) for k in args.kinds}
    bm25 = lk.BM25Index(chunks)
    retrievers["bm25"] = bm25
    retrievers["hybrid"] = lk.HybridIndex(retrievers[f"dense-{args.kinds[0]}"], bm25)
    rows = []
    for name, r in retrievers.items():
        lat = lk.retrieval_latency(r, queries, k=5)
        t0 = time.perf_counter()
        r.search([q.question for q in qa], k=5)
        qps = len(qa) / (time.perf_counter() - t0)
        rec = lk.retrieval_metrics(r, qa, ks=[5])["recall@5"]
        rows.append(
            {
                "retriever": name,
                **{k: round(v, 3) for k, v in lat.items()},
                "batched_qps": round(qps, 1),
                "recall@5": round(rec, 3),
            }
        )
    out = {"device": str(env.device), "threads": env.threads, "chunks": len(chunks), "retrieval": rows}
    if args.generate:
        lm = lk.load_generator()
        rag = lk.RAGPipeline(lm, retrievers[f"dense-{args.kinds[0]}"], lk.RAGConfig(top_k=3))
        recs = lk.run_approach(rag, [q for q in qa if q.answerable][: args.generate], phrasing="question", cache=False)
        out["generation_ms"] = lk.latency_breakdown(recs).round(1).to_dict(orient="records")[0]
        out["generation_tokens"] = {
            "prompt": float(np.mean([r.prompt_tokens for r in recs])),
            "completion": float(np.mean([r.completion_tokens for r in recs])),
        }
    out["peak_rss_mb"] = round(lk.memory.peak_rss_mb())
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in cols) + " |")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
