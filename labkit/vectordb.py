"""A vector database behind the same ``Retriever`` protocol as faiss: Milvus, through its client API.

``MilvusServer`` starts Milvus Lite (PyPI ``milvus-lite``) as its own server process on this machine and
gives its URI; ``MilvusIndex`` stores the chunks' MiniLM vectors in a collection and searches it with
``pymilvus.MilvusClient``, the same client a Milvus cluster answers. Pointing the code at a cluster is a
change of URI (and a token): ``MilvusIndex.build(chunks, emb, uri="http://milvus.example:19530")``.

>>> with MilvusServer() as server:                                        # doctest: +SKIP
...     index = MilvusIndex.build(chunks, lk.load_embedder(), uri=server.uri)
...     index.search(["How long is the refund window?"], k=3).chunk_ids

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .chunking import Chunk, chunk_hash
from .embedder import Embedder
from .retrieval import Hits, check_embedder, check_k, check_queries, embed_texts

__all__ = ["MilvusServer", "MilvusIndex"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MilvusServer:
    """Milvus Lite as a separate server process (``milvus-lite server``), stopped on ``stop()`` or exit.

    ``data_dir`` holds the database (a fresh temporary folder by default, deleted on stop). The server is
    ready when it answers a client; ``rss_mb()`` is its resident memory, for comparison with faiss.

    Introduced in 05_cost_and_scale.ipynb.
    """

    def __init__(self, data_dir: str | Path | None = None, port: int | None = None, timeout_s: float = 60.0):
        self._tmp = None if data_dir is not None else tempfile.mkdtemp(prefix="labkit-milvus-")
        self.data_dir = Path(data_dir if data_dir is not None else self._tmp)
        self.port = port or _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.data_dir)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t0 = time.perf_counter()
        self._wait_ready(timeout_s)
        self.start_s = time.perf_counter() - t0  # seconds from launch to the first answer

    def _wait_ready(self, timeout_s: float) -> None:
        from pymilvus import MilvusClient

        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read()[-2000:] if self.proc.stderr else ""
                self._cleanup()
                raise RuntimeError(f"the Milvus Lite server exited with code {self.proc.returncode}:\n{err}")
            try:
                MilvusClient(uri=self.uri, timeout=2).close()
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(
                        f"the Milvus Lite server did not answer at {self.uri} in {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.2)

    def rss_mb(self) -> float:
        """Resident memory of the server process, MB."""
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        """Stop the server (SIGINT: it drains requests and closes the database) and delete a temporary folder."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> MilvusServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):
        if getattr(self, "proc", None) is not None and self.proc.poll() is None:
            self.stop()

    def __repr__(self) -> str:
        state = "running" if self.proc.poll() is None else f"stopped ({self.proc.returncode})"
        return f"MilvusServer({self.uri}, {state})"


class MilvusIndex:
    """Chunks' unit vectors in a Milvus collection, searched by inner product (= cosine): a ``Retriever``.

    ``index_type`` is Milvus's: ``"FLAT"`` (exact, comparable with ``lk.DenseIndex`` kind "flat") or
    ``"HNSW"``. Row ids are the chunks' positions; the chunk texts stay in this process.

    Introduced in 05_cost_and_scale.ipynb.
    """

    def __init__(self, chunks: list[Chunk], embedder: Embedder, client, collection: str, index_type: str):
        self.chunks, self.embedder, self.client = list(chunks), embedder, client
        self.collection, self.index_type = collection, index_type
        self.t_build = 0.0

    @classmethod
    def build(
        cls,
        chunks: list[Chunk],
        embedder: Embedder,
        uri: str,
        collection: str = "chunks",
        index_type: str = "FLAT",
        token: str = "",
        vecs: np.ndarray | None = None,
    ) -> MilvusIndex:
        """Embed ``chunks`` (or take their ``vecs`` ``(n, dim)``), (re)create ``collection`` at ``uri``, insert."""
        from pymilvus import DataType, MilvusClient

        check_embedder(embedder)
        if not chunks:
            raise ValueError("MilvusIndex.build got no chunks: the corpus is empty.")
        if index_type not in ("FLAT", "HNSW"):
            raise ValueError(f"index_type must be 'FLAT' or 'HNSW', got {index_type!r}")
        t0 = time.perf_counter()
        if vecs is None:
            vecs = embed_texts(embedder, [c.search_text for c in chunks])  # (n, dim), unit length
        if len(vecs) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(vecs)} vectors")
        client = MilvusClient(uri=uri, token=token)
        if client.has_collection(collection):
            client.drop_collection(collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=int(vecs.shape[1]))
        params = client.prepare_index_params()
        extra = {"M": 32, "efConstruction": 80} if index_type == "HNSW" else {}
        params.add_index(field_name="vec", index_type=index_type, metric_type="IP", params=extra)
        client.create_collection(collection, schema=schema, index_params=params)
        for start in range(0, len(vecs), 1000):  # batches: one gRPC message per 1,000 rows
            rows = [{"id": i, "vec": vecs[i].tolist()} for i in range(start, min(start + 1000, len(vecs)))]
            client.insert(collection, rows)
        client.load_collection(collection)
        out = cls(chunks, embedder, client, collection, index_type)
        out.t_build = time.perf_counter() - t0
        return out

    def fingerprint(self) -> dict:
        return {
            "kind": "milvus",
            "index": self.index_type,
            "chunks": chunk_hash(self.chunks),
            "embedder": self.embedder.fingerprint(),
        }

    def search(self, queries: list[str], k: int) -> Hits:
        """Top-``k`` chunks per query by cosine similarity, from the server."""
        check_k(k)
        queries = check_queries(queries)
        t0 = time.perf_counter()
        q = embed_texts(self.embedder, queries)  # (n_queries, dim)
        t1 = time.perf_counter()
        params = {"metric_type": "IP", "params": {"ef": max(64, k)} if self.index_type == "HNSW" else {}}
        res = self.client.search(
            self.collection, data=q.tolist(), limit=min(k, len(self.chunks)), search_params=params, output_fields=["id"]
        )
        t2 = time.perf_counter()
        ids = [[self.chunks[hit["id"]].id for hit in row] for row in res]
        scores = np.array([[hit["distance"] for hit in row] for row in res], dtype=np.float32)  # (n_queries, k)
        n = len(queries)
        return Hits(ids, scores, scores[:, 0].copy(), (t1 - t0) / n, (t2 - t1) / n)

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"MilvusIndex({len(self.chunks)} chunks, {self.index_type}, collection {self.collection!r})"
