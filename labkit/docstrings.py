"""Real passages for the scale experiments: the docstrings of the Python packages installed beside labkit.

Notebook 05 asks whether retrieval stays fast at 10^5 - 10^6 passages. The workbook's own knowledge base has a
few hundred chunks, and random vectors behave unlike real embeddings (they are much harder to index), so the
scale benchmark needs real text in bulk that every learner's machine has offline. The virtual environment
that ``make setup`` builds holds millions of words of English documentation: the docstrings of transformers,
torch, scipy, numpy, pandas, ... (each under its package's licence, named in ``package_licences``; only
their vectors leave this machine, in ``benchmarks/results``).

* ``package_docs``: every module, class and function docstring of at least ``min_words`` words (doctest code
  removed, duplicates dropped) of the packages labkit needs (``labkit_requirements``: its pinned dependencies
  and theirs, not whatever else is installed), in a fixed order: one ``Document`` each.
* ``scale_passages``: those documents cut like the workbook's chunks (60 words, 15 shared), shuffled by
  document with a seed; held-out documents give the queries (their first sentence: short, like a question),
  the others the passages. The same packages give the same passages on any machine.
* ``embed_cached``: MiniLM vectors of many passages, written in shards to the cache as they are made (an
  interrupted run resumes where it stopped), float32 on every CPU so that machines agree.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import importlib.metadata as md
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import Chunk, ChunkConfig, chunk_corpus
from .data import Document, data_dir
from .env import cache_dir

__all__ = [
    "SOURCE",
    "labkit_requirements",
    "package_docs",
    "package_licences",
    "ScalePassages",
    "scale_passages",
    "embed_cached",
    "embed_seconds",
    "shipped_vectors",
]

SOURCE = (
    "module, class and function docstrings of the Python packages labkit installs (doctest code removed, "
    "duplicates dropped), cut into 60-word passages with 15 shared; queries: first sentences of held-out docstrings"
)
SCALE_CHUNKS = ChunkConfig(size=60, overlap=15)  # the workbook's lk.CHUNKS (a test checks they agree)
_DOCTEST = re.compile(r"^\s*(>>>|\.\.\.)(\s|$)")  # doctest code: symbols, not prose
_SENTENCE = re.compile(r"(?<=[.!?])\s")


def clean_docstring(text: str) -> str:
    """A docstring as one line of prose: doctest lines removed, whitespace collapsed.

    >>> clean_docstring('''Add two numbers.
    ...
    ...     >>> add(1, 2)
    ...     3
    ... ''')
    'Add two numbers. 3'
    """
    return " ".join(" ".join(ln for ln in text.splitlines() if not _DOCTEST.match(ln)).split())


def _docstrings(tree: ast.AST, prefix: str):
    """(dotted name, docstring) for the module and every class and function in it, depth first."""
    doc = ast.get_docstring(tree) if isinstance(tree, ast.Module) else None
    if doc:
        yield prefix, doc
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}.{node.name}"
            doc = ast.get_docstring(node)
            if doc:
                yield name, doc
            yield from _docstrings(node, name)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distributions() -> list[md.Distribution]:
    """Installed distributions, one per name (the first on sys.path wins, as for imports), sorted by name."""
    seen: dict[str, md.Distribution] = {}
    for dist in md.distributions():
        name = _norm(dist.metadata["Name"] or "")
        if name and name not in seen:
            seen[name] = dist
    return [seen[k] for k in sorted(seen)]


def labkit_requirements() -> list[str]:
    """The distributions labkit needs to run, directly or through others (no extras, no test tools), sorted.

    The same on every machine that installed labkit's pinned dependencies, whatever else is installed.

    >>> {"torch", "transformers", "faiss-cpu"} <= set(labkit_requirements())
    True

    Introduced in 05_cost_and_scale.ipynb.
    """
    from packaging.requirements import Requirement

    todo, seen = ["labkit"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.distribution(name).requires or []
        except md.PackageNotFoundError:
            continue  # an optional platform package that is not installed here
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_norm(req.name))
    return sorted(seen - {"labkit"})


def package_licences() -> dict[str, str]:
    """Each installed distribution's licence as its metadata states it ("unknown" when it does not).

    >>> package_licences()["numpy"] != ""
    True

    Introduced in 05_cost_and_scale.ipynb.
    """
    out = {}
    for dist in _distributions():
        meta = dist.metadata
        lic = meta["License-Expression"] or ""
        if not lic:
            classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
            short = (meta["License"] or "").strip()
            lic = "; ".join(classifiers) or (short if 0 < len(short) <= 80 else "")
        out[_norm(meta["Name"])] = lic or "unknown"
    return out


def package_docs(min_words: int = 20, packages: list[str] | None = None) -> list[Document]:
    """Docstrings of ``packages`` (default: ``labkit_requirements()``), one ``Document`` each, duplicates dropped.

    Order: distributions by name, files by path, objects in source order. ``type`` holds the distribution's
    name (its licence: ``package_licences``). Files that do not parse are skipped.

    >>> docs = package_docs(packages=["tqdm"])
    >>> docs[0].id.startswith("tqdm:") and len(docs[0].text.split()) >= 20
    True

    Introduced in 05_cost_and_scale.ipynb.
    """
    wanted = {_norm(p) for p in (labkit_requirements() if packages is None else packages)}
    docs, seen = [], set()
    for dist in _distributions():
        name = _norm(dist.metadata["Name"])
        if name not in wanted:
            continue
        for f in sorted((f for f in dist.files or [] if f.suffix == ".py"), key=str):
            path = Path(dist.locate_file(f))
            try:
                tree = ast.parse(path.read_bytes())
            except (OSError, SyntaxError, ValueError):
                continue  # a file missing from the install, or Python this interpreter cannot read
            module = ".".join(f.with_suffix("").parts).removesuffix(".__init__")
            for qual, raw in _docstrings(tree, module):
                text = clean_docstring(raw)
                if len(text.split()) < min_words or text in seen:
                    continue
                seen.add(text)
                docs.append(Document(f"{name}:{qual}", qual, name, text))
    return docs


@dataclass
class ScalePassages:
    """Passages and queries for the scale benchmark (see ``scale_passages``).

    Introduced in 05_cost_and_scale.ipynb.
    """

    passages: list[Chunk]  # in a seeded random document order: the first n are "a corpus of n passages"
    queries: list[str]  # first sentences of held-out documents (none of their chunks is a passage)
    packages: dict[str, int]  # distribution -> passages taken from it
    key: str  # fingerprint of the passages and queries

    def texts(self) -> list[str]:
        """What the embedder reads: each passage's title and text, as the workbook's retrievers see it."""
        return [c.search_text for c in self.passages]


def scale_passages(n: int = 100_000, n_queries: int = 1_000, seed: int = 0, docs: list[Document] | None = None):
    """``n`` real passages (fewer if the packages hold fewer) and ``n_queries`` held-out queries.

    Documents are shuffled with ``seed``; the first ``n_queries`` documents with a sentence of 4-40 words give
    the queries, the rest are chunked like the workbook's knowledge base until ``n`` passages.
    ``docs``: the documents to use (default: ``package_docs()``, cached; parsing every package takes minutes).

    >>> doc = Document("p:f", "p.f", "p", "Return the sum of two numbers. " * 20)
    >>> sp = scale_passages(n=5, n_queries=1, docs=[doc, Document("p:g", "p.g", "p", "Compute a mean. " * 40)])
    >>> len(sp.queries), len(sp.passages) <= 5
    (1, True)

    Introduced in 05_cost_and_scale.ipynb.
    """
    docs = cached_package_docs() if docs is None else docs
    order = np.random.default_rng(seed).permutation(len(docs))
    queries, passages, packages = [], [], {}
    for i in order:
        doc = docs[i]
        if len(queries) < n_queries:
            first = _SENTENCE.split(doc.text, maxsplit=1)[0]
            if 4 <= len(first.split()) <= 40:
                queries.append(first)
                continue
        if len(passages) >= n:
            continue
        chunks = chunk_corpus([doc], SCALE_CHUNKS)[: n - len(passages)]
        passages += chunks
        packages[doc.type] = packages.get(doc.type, 0) + len(chunks)
        if len(passages) >= n and len(queries) >= n_queries:
            break
    h = hashlib.sha256()
    for text in [c.search_text for c in passages] + ["\x02"] + queries:
        h.update(text.encode() + b"\x01")
    return ScalePassages(passages, queries, dict(sorted(packages.items())), h.hexdigest()[:16])


def cached_package_docs() -> list[Document]:
    """``package_docs()``, kept in the cache per set of installed versions (parsing them takes minutes).

    Introduced in 05_cost_and_scale.ipynb.
    """
    wanted = set(labkit_requirements())
    installed = sorted(
        f"{_norm(d.metadata['Name'])}=={d.version}" for d in _distributions() if _norm(d.metadata["Name"]) in wanted
    )
    key = hashlib.sha256("\n".join(installed).encode()).hexdigest()[:16]
    path = cache_dir() / "scale" / f"docstrings-{key}.jsonl.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [Document(*json.loads(line)) for line in f]
    docs = package_docs()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps([d.id, d.title, d.type, d.text]) + "\n")
    tmp.replace(path)
    return docs


def shipped_vectors(path: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The real vectors that ship with the workbook (``data/scale/docstring_vectors.npz``, written by
    ``benchmarks/bench_scale.py``): the first 10^4 passage vectors ``(10_000, 384)``, each one's document
    ``(10_000,)`` and the held-out queries' vectors ``(1_000, 384)``; float32, unit length up to float16 rounding.

    Introduced in 05_cost_and_scale.ipynb.
    """
    path = Path(path) if path is not None else data_dir() / "scale" / "docstring_vectors.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no shipped vectors. Run `python benchmarks/bench_scale.py --embed-only`.")
    with np.load(path) as f:
        return f["vecs"].astype(np.float32), f["groups"], f["queries"].astype(np.float32)


def _cpu() -> str:
    from .own_docs_report import machine_name

    return machine_name()


def embed_seconds(embedder, texts: list[str], shard: int = 2048) -> dict:
    """What ``embed_cached`` spent on ``texts``' shards (from ``times.jsonl``): seconds, CPUs, shards timed.

    Introduced in 05_cost_and_scale.ipynb.
    """
    folder = _vector_folder(embedder)
    log = folder / "times.jsonl"
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    names = {_shard_path(folder, texts, s, shard).name for s in range(0, len(texts), shard)}
    timed = {r["shard"]: r for r in rows if r["shard"] in names}  # the last time each shard was made
    return {
        "seconds": round(sum(r["seconds"] for r in timed.values()), 1),
        "cpus": sorted({r["cpu"] for r in timed.values()}),
        "threads": sorted({r["threads"] for r in timed.values()}),
        "shards_timed": len(timed),
        "shards": len(names),
    }


def _vector_folder(embedder) -> Path:
    who = hashlib.sha256(json.dumps(embedder.fingerprint(), sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir() / "scale" / f"vectors-{who}"


def _shard_path(folder: Path, texts: list[str], start: int, shard: int) -> Path:
    digest = hashlib.sha256("\x01".join(texts[start : start + shard]).encode()).hexdigest()[:12]
    return folder / f"{start:08d}-{digest}.npy"


def embed_cached(embedder, texts: list[str], shard: int = 2048, progress: bool = True) -> np.ndarray:
    """Unit vectors ``(len(texts), dim)`` of ``texts``, made ``shard`` at a time and kept in the cache.

    Each shard is saved as soon as it is embedded, named by its position and a digest of its texts, in a
    folder per embedder (weights, dtype, device): a later call, or a run that was stopped, embeds only the
    shards that are missing, and a longer list that starts with the same texts reuses them. Each shard's
    embedding time, CPU and threads go to ``times.jsonl`` in that folder (``embed_seconds`` sums them).

    Introduced in 05_cost_and_scale.ipynb.
    """
    import torch
    from tqdm.auto import tqdm

    folder = _vector_folder(embedder)
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for s in tqdm(range(0, len(texts), shard), desc="embedding passages", unit="shard", disable=not progress):
        part, path = texts[s : s + shard], _shard_path(folder, texts, s, shard)
        if not path.exists():
            t0 = time.perf_counter()
            vecs = np.asarray(embedder.encode(part, batch_size=64), dtype=np.float32)  # (len(part), dim)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vecs)
            tmp.replace(path)  # a shard is either whole or absent
            took = {"shard": path.name, "texts": len(part), "seconds": round(time.perf_counter() - t0, 2)}
            with open(folder / "times.jsonl", "a", encoding="utf-8") as f:  # what the vectors cost, and where
                f.write(json.dumps(took | {"cpu": _cpu(), "threads": torch.get_num_threads()}) + "\n")
            parts.append(vecs)  # just made: no need to read the file back
        else:
            parts.append(np.load(path))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
