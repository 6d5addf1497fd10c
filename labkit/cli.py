"""The ``labkit`` command (also ``python -m labkit``): ``prepare``, ``clear-cache`` and ``compare``.

``labkit clear-cache`` removes the converted generator (``make setup`` converts it again); ``--all``
removes the whole labkit cache (indexes, adapters and evaluation records too). Each prints what it removed.

``labkit compare --docs DIR [--questions FILE] [--out report.html] [--generated N]`` runs base, RAG, a fine-tune
and the hybrid on a folder of your documents and writes one HTML report (``--generated``: how many questions
are generated from the documents; the run's time grows with it, not with the folder). A problem with any
input (the folder, the questions file, the price sheet, ``--out``, ``--work-dir``, ``--generated``) is one line
on stderr (exit status 2), found before any model loads, by the same check ``--check`` runs; nothing in the
folder is written. A bare ``labkit`` prints the help (exit status 2): setting up is ``labkit prepare``.

Introduced in 06_your_own_documents.ipynb (``prepare`` is what ``make setup`` runs).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import warnings
from pathlib import Path

from .files import LabkitInputError

__all__: list[str] = []  # a command, not library functions: nothing joins the lk namespace


class InputError(LabkitInputError):
    """A command-line option cannot be used; the message says which, and what to do. (Files and folders raise
    the library's own ``LabkitInputError``s; the command catches the whole family.)"""


def _prepare(args) -> int:
    from .embedder import load_embedder
    from .env import auto_dtype, pick_device
    from .models import prepare_generator

    t0 = time.perf_counter()
    path = prepare_generator()
    prepare_generator(auto_dtype(pick_device().type))  # the copy this machine will load
    load_embedder()
    print(f"offline models ready ({time.perf_counter() - t0:.1f} s): generator cache {path}")
    return 0


def _clear_cache(args) -> int:
    """Remove the converted generator (default) or, with ``--all``, the whole labkit cache; print what went."""
    from .env import cache_dir

    folder = cache_dir()
    targets = [folder] if args.all else _converted_generators()
    if args.all:
        _check_removable(folder)
    removed = [(path, _size_mb(path)) for path in targets if path.exists()]
    for path, mb in removed:
        shutil.rmtree(path)
        print(f"removed {path} ({mb:.0f} MB)")
    if not removed:
        print(f"nothing to remove in {folder}")
    return 0


def _converted_generators() -> list:
    """The converted offline generator's folders, one per dtype (``make setup`` rebuilds them)."""
    import torch

    from .models import generator_cache_path

    return [generator_cache_path(dtype) for dtype in (torch.float32, torch.bfloat16, torch.float16)]


def _check_removable(folder) -> None:
    """Refuse a cache folder whose removal would take more than a cache: home, or one holding the work folder."""
    from pathlib import Path

    folder, cwd = folder.resolve(), Path.cwd().resolve()
    if folder == Path.home().resolve() or folder == cwd or folder in cwd.parents:  # "/" is a parent of any cwd
        raise InputError(f"refusing to remove {folder}: $LABKIT_CACHE points at more than a cache folder")


def _size_mb(path) -> float:
    """MB of the files under ``path``; a linked folder (tests link the converted models) is not followed."""
    import os

    return sum(os.lstat(os.path.join(d, f)).st_size for d, _, files in os.walk(path) for f in files) / 2**20


def _out_folder(out: str) -> None:
    """``--out``'s folder must exist: a mistyped path fails in the check instead of growing new folders (the
    library's ``write_report`` makes them, for the notebooks' ``build/``)."""
    folder = Path(out).absolute().parent
    if not folder.exists():  # a file in its place: check_inputs says so
        raise InputError(f"{out}: --out's folder {folder} does not exist; create it first or choose another --out.")


def _checked(cfg):
    """``check_inputs(cfg)``; each notice it gives (a questions file's ignored fields) becomes one stderr line,
    printed even when a later check fails (an ignored 'Answer' column explains 'no question has an answer')."""
    from .own_docs import check_inputs
    from .user_qa import IgnoredFieldsWarning

    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IgnoredFieldsWarning)
            return check_inputs(cfg)
    finally:
        for w in caught:
            if issubclass(w.category, IgnoredFieldsWarning):
                print(f"labkit compare: warning: {w.message}", file=sys.stderr)
            else:  # not ours: shown as Python would have shown it
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _compare(args) -> int:
    from .env import setup
    from .own_docs import CompareConfig, compare_documents
    from .own_docs_report import report_prices, write_report

    # Every input problem surfaces here, before a model loads, and the same way with --check or without.
    given = {"n_generated": args.generated} if args.generated is not None else {}  # else CompareConfig's default
    cfg = CompareConfig(docs=args.docs, questions=args.questions, out=args.out, corpus=args.corpus,
                        work_dir=args.work_dir, **given)  # fmt: skip
    _out_folder(args.out)
    folder, questions = _checked(cfg)
    print(f"{folder}; {len(questions) if questions else 'no'} questions file entries", file=sys.stderr)
    for s in folder.skipped:
        print(f"  skipped {s.path}: {s.reason}", file=sys.stderr)
    if args.check:
        return 0
    t0 = time.perf_counter()
    setup(seed=0)
    res = compare_documents(cfg, progress=not args.quiet, inputs=(folder, questions))  # read once
    path = write_report(res, cm=report_prices(args.managed_vector_db))
    print(res.table.to_string(), file=sys.stderr)
    print(f"report written to {path} ({time.perf_counter() - t0:.0f} s)")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labkit", description="RAG vs Fine-Tuning Lab helper commands.")
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("prepare", help="convert and cache the offline models (make setup runs it)")
    c = sub.add_parser("clear-cache", help="remove the converted generator (make setup converts it again)")
    c.add_argument("--all", action="store_true", help="remove the whole labkit cache (indexes, adapters, records too)")
    c = sub.add_parser("compare", help="base, RAG, fine-tune and hybrid on a folder of your documents")
    c.add_argument("--docs", required=True, help="folder of .md, .txt, .html and .pdf files (read only)")
    c.add_argument("--questions", help=".jsonl or .csv: question, answer (null: unanswerable), aliases")
    c.add_argument("--out", default="report.html", help="the HTML report to write (default: report.html)")
    c.add_argument("--corpus", help="the corpus's name in prompts (default: the folder's name)")
    c.add_argument("--work-dir", help="where finished stages are kept (default: the labkit cache)")
    c.add_argument("--generated", type=int, metavar="N",
                   help="questions to generate from the documents (fact cards and the dev set; default 120, at "
                        "least 20): the run's time grows with N, not with the folder; fewer is faster, and a dev "
                        "set under 30 makes the report call its choices unreliable")  # fmt: skip
    c.add_argument("--managed-vector-db", action="store_true",
                   help="price a managed vector database at the price sheet's monthly minimum "
                        "(default: the index in the serving process, no hosting fee)")  # fmt: skip
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.add_argument("--check", action="store_true", help="only read the folder and the questions, report, stop")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; input errors become one line on stderr and exit status 2, not a traceback."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.cmd is None:  # a bare `labkit` sets nothing up by surprise (minutes of conversion): it says how
        parser.print_help(sys.stderr)
        return 2
    run = {"prepare": _prepare, "clear-cache": _clear_cache, "compare": _compare}[args.cmd]
    try:
        return run(args)
    except (LabkitInputError, OSError) as e:  # each names its file or option; OSError: e.g. a disk that filled up
        print(f"labkit {args.cmd}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"labkit {args.cmd}: interrupted; run it again to continue from the finished stages.", file=sys.stderr)
        return 130
