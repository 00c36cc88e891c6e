"""The ``local`` backend: a GGUF chat model run in process by llama-cpp-python, in Qwen's ChatML format."""

from __future__ import annotations

import atexit
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.answering.llm.base import LLMUnavailable, one_line
from app.settings import Settings

NAME = "local"
IM_END = "<|im_end|>"
_STOPS = [IM_END, "<|im_start|>", "<|endoftext|>"]
_DONE = object()
# Each request samples from the same seed, so an answer depends on its prompt only, not on how many answers
# the process generated before (llama.cpp otherwise derives each request's seed from the previous one).
SAMPLING_SEED = 20201211
QUEUE_LIMITS = 10  # how many time limits a request may wait for the model while others use it
_MODELS: dict[tuple[str, int, int], tuple[Any, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()


def chatml(messages: list[dict], reply: bool = True) -> str:
    """The messages in ChatML (``<|im_start|>role\\n...<|im_end|>``), opening the assistant's turn when
    ``reply``."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}{IM_END}\n" for m in messages)
    return turns + "<|im_start|>assistant\n" if reply else turns


def model_path(settings: Settings) -> Path:
    """The generator's GGUF file: a packaged model joined into the cache (hash-checked), or a path to one."""
    from app.models.errors import ModelError
    from app.models.gguf import gguf_path

    try:
        return gguf_path(settings, verify=True)
    except ModelError as exc:
        raise LLMUnavailable(one_line(exc)) from exc
    except OSError as exc:
        raise LLMUnavailable(f"cannot read generator model {settings.generator}: {exc.strerror or exc}") from exc


def check_gguf(path: Path) -> None:
    """Refuse a file that is not GGUF before llama.cpp sees it (its own errors are less clear)."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise LLMUnavailable(f"cannot read generator model {path}: {exc.strerror or exc}") from exc
    if magic != b"GGUF":
        raise LLMUnavailable(f"generator model {path} is not a GGUF file (corrupt or wrong file)")


@atexit.register
def _close_models() -> None:
    """Free the models while llama_cpp is still importable (its ``__del__`` fails at interpreter exit)."""
    with _MODELS_LOCK:
        for model, lock in _MODELS.values():
            if lock.acquire(timeout=5):
                model.close()
        _MODELS.clear()


def load_model(path: Path, n_ctx: int, n_threads: int) -> tuple[Any, threading.Lock]:
    """The loaded model and its lock, loaded once per process for each path and size."""
    key = (str(path.resolve()), n_ctx, n_threads)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        check_gguf(path)
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMUnavailable("llama-cpp-python is not installed (pip install llama-cpp-python==0.3.36)") from exc
        try:
            model = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                          verbose=False)
        except Exception as exc:
            raise LLMUnavailable(f"cannot load {path} (damaged or incomplete?): {one_line(exc)}") from exc
        _MODELS[key] = (model, threading.Lock())
        return _MODELS[key]


class LocalBackend:
    """A GGUF model in this process; one generation at a time per model, pieces streamed per token."""

    name = NAME

    def __init__(self, path: Path, n_ctx: int = 4096, n_threads: int = 0, timeout_s: float = 120.0):
        self.path = path
        self.n_ctx = n_ctx
        self.timeout_s = timeout_s
        self.model, self._lock = load_model(path, n_ctx, n_threads or os.cpu_count() or 1)
        self.reading_rate: float | None = None  # prompt tokens read per second, measured on this machine
        self.last: dict[str, float] = {}  # the last request: new prompt tokens, reading and writing rates

    def _prompt_tokens(self, messages: list[dict]) -> list[int]:
        return self.model.tokenize(chatml(messages).encode("utf-8"), add_bos=True, special=True)

    def count_new_tokens(self, messages: list[dict]) -> int:
        """How many prompt tokens the model must read for ``messages`` (it reuses the prefix it has evaluated)."""
        return self.count_new_tokens_of(self._prompt_tokens(messages))

    def count_new_tokens_of(self, tokens: list[int]) -> int:
        cached = list(self.model.eval_tokens)
        common = 0
        for a, b in zip(tokens, cached, strict=False):
            if a != b:
                break
            common += 1
        return len(tokens) - common

    def _measured(self, tokens: int, seconds: float) -> None:
        if tokens >= 32 and seconds > 0:
            rate = tokens / seconds
            self.reading_rate = rate if self.reading_rate is None else 0.5 * self.reading_rate + 0.5 * rate

    def prime(self, prefix: list[dict]) -> None:
        """Evaluate a prompt prefix (the fixed system prompt) now, so that later prompts starting with it only
        pay for the rest: llama.cpp keeps the evaluated tokens and reuses the longest common prefix."""
        tokens = self.model.tokenize(chatml(prefix, reply=False).encode("utf-8"), add_bos=True, special=True)
        with self._lock:
            if list(self.model.eval_tokens)[: len(tokens)] != tokens:
                self.model.reset()
                start = time.perf_counter()
                self.model.eval(tokens)
                self._measured(len(tokens), time.perf_counter() - start)

    def stream(self, messages: list[dict], *, max_tokens: int, temperature: float,
               stop: list[str] | None = None) -> Iterator[str]:
        from llama_cpp import StoppingCriteriaList

        tokens = self._prompt_tokens(messages)
        room = self.n_ctx - len(tokens)
        if room < 16:
            raise LLMUnavailable(f"the prompt has {len(tokens)} tokens; the local model's context is {self.n_ctx}")
        pieces: queue.Queue = queue.Queue()
        cancel = threading.Event()
        options = {"max_tokens": min(max_tokens, room), "temperature": temperature, "seed": SAMPLING_SEED,
                   "stop": _STOPS + (stop or []),
                   "stream": True, "stopping_criteria": StoppingCriteriaList([lambda _ids, _lg: cancel.is_set()])}
        running = threading.Event()
        threading.Thread(target=self._generate, args=(tokens, options, pieces, cancel, running), daemon=True).start()
        yield from self._drain(pieces, cancel, running)

    def _generate(self, tokens: list[int], options: dict, pieces: queue.Queue, cancel: threading.Event,
                  running: threading.Event) -> None:
        """Run in a worker thread so that the consumer can give up after the time limit."""
        try:
            with self._lock:
                if cancel.is_set():
                    return
                running.set()
                new = self.count_new_tokens_of(tokens)
                start = first = time.perf_counter()
                count = 0
                for count, chunk in enumerate(self.model.create_completion(tokens, **options), start=1):
                    if count == 1:
                        first = time.perf_counter()
                        self._measured(new, first - start)
                    pieces.put(chunk["choices"][0]["text"])
                done = time.perf_counter()
                self.last = {"prompt_tokens": new, "read_tokens_per_s": round(new / (first - start), 1),
                             "generated_tokens": count,
                             "write_tokens_per_s": round((count - 1) / (done - first), 1) if count > 1 else 0.0}
        except Exception as exc:
            pieces.put(exc)
        finally:
            pieces.put(_DONE)

    def _drain(self, pieces: queue.Queue, cancel: threading.Event, running: threading.Event) -> Iterator[str]:
        """Hand on the worker's pieces until it is done, or raise when the time limit passes. The limit counts
        from when the model takes this request; waiting for other requests to finish is allowed up to
        ``QUEUE_LIMITS`` times as long."""
        queued_until = time.monotonic() + QUEUE_LIMITS * self.timeout_s
        deadline = None
        started = False
        try:
            while True:
                if deadline is None and running.is_set():
                    deadline = time.monotonic() + self.timeout_s
                until = deadline if deadline is not None else queued_until
                try:
                    item = pieces.get(timeout=min(max(until - time.monotonic(), 0.0), 0.5))
                except queue.Empty:
                    if time.monotonic() < until:
                        continue
                    if deadline is None:
                        raise LLMUnavailable("the local model is busy with other questions; try again") from None
                    what = "finish its answer" if started else "start answering"
                    raise LLMUnavailable(f"the local model did not {what} within {self.timeout_s:g} s") from None
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise LLMUnavailable(f"the local model failed: {one_line(item)}") from item
                if item:
                    started = True
                    yield item
        finally:
            cancel.set()


def load_local(settings: Settings) -> LocalBackend:
    return LocalBackend(model_path(settings), settings.llm_context, settings.threads, settings.llm_timeout_s)
