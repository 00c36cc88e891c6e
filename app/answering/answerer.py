"""The one answering API that the CLI, the chat UI and the eval harness call."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

from app.answering import extractive
from app.answering.citations import check_citations, locate
from app.answering.evidence import select_evidence
from app.answering.language import detect_language
from app.answering.llm import ChatBackend, LLMUnavailable, load_backend
from app.answering.prompt import REFUSAL, SYSTEM, answer_messages, quote_block, rewrite_messages, says_not_covered
from app.answering.refusal import is_clearly_covered, is_covered
from app.answering.retriever import Retrieval, Retriever
from app.answering.support import check_sentences
from app.answering.tool_use import tool_round
from app.answering.translate import translate_question
from app.answering.types import Answer, Evidence, Source
from app.index_store import build_progress
from app.settings import Settings

MAX_QUESTION_CHARS = 2000
LLM_CHOICES = ("local", "openai", "extractive")
HEAD_CHARS = {"zh": 12, "en": 40}  # enough of an answer to tell whether the model is refusing
OVERRULED = ("the language model found no answer in its short excerpts, but retrieval matched strongly: "
             "quoting the best-matching sentences instead")
TRANSLATIONS_KEPT = 512
CLOSE_SHARE = 0.5  # prompt only the posts whose fused score is at least this share of the best one


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long)."""


def check_question(question: str) -> str:
    text = (question or "").strip()
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


class Answerer:
    """Retrieval plus an answer backend; build once, then call :meth:`answer` or :meth:`stream`."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None, embedder: Any = None):
        self.settings = settings
        self.retriever = retriever or Retriever(settings, embedder)
        self._backends: dict[str, ChatBackend] = {}
        self._backends_lock = threading.Lock()
        self._translations: dict[tuple[str, str], str | None] = {}  # (backend, question) -> its Chinese search

    def backend(self, name: str) -> ChatBackend:
        """The generation backend ``name``, loaded once; raises ``LLMUnavailable``."""
        with self._backends_lock:
            if name not in self._backends:
                backend = load_backend(self.settings, name)
                if hasattr(backend, "prime"):
                    backend.prime([{"role": "system", "content": SYSTEM}])
                self._backends[name] = backend
            return self._backends[name]

    def _complete(self, llm: str, messages: list[dict], max_tokens: int) -> str:
        return "".join(self.backend(llm).stream(messages, max_tokens=max_tokens, temperature=0.0))

    def standalone_question(self, question: str, history: list[str] | None, llm: str,
                            lang: str | None = None) -> str:
        """Rewrite a follow-up into a standalone question from the earlier user turns (by the LLM if one
        can run, else by prefixing the last turn, which is enough for retrieval)."""
        if not history:
            return question
        if llm != extractive.NAME:
            lang = lang or detect_language(question)
            try:
                rewritten = self._complete(llm, rewrite_messages(history, question, lang), 96).strip().strip("\"“”")
            except LLMUnavailable:
                rewritten = ""
            # a rewrite in another language, or an answer instead of a question, would mislead retrieval
            if 2 <= len(rewritten) <= 2 * len(question) + 80 and detect_language(rewritten) == lang:
                return rewritten
        return f"{history[-1]} {question}"

    def stream(self, question: str, k: int | None = None, history: list[str] | None = None,
               llm: str | None = None, mode: str = "hybrid") -> Iterator[str | Evidence | Answer]:
        """Yield the :class:`Evidence` (before any text, so its sources can be shown at once), then answer text
        pieces as they are produced, then the finished :class:`Answer`."""
        question = check_question(question)
        llm = llm or self.settings.llm
        if llm not in LLM_CHOICES:
            raise QuestionError(f"unknown llm {llm!r}; choose one of {', '.join(LLM_CHOICES)}")
        lang = detect_language(question)
        start = time.perf_counter()
        standalone = self.standalone_question(question, history, llm, lang)
        retrieval = self.retriever.retrieve(standalone, k or self.settings.top_k, mode=mode)
        generate_start = time.perf_counter()
        timings: dict[str, float] = {"retrieve_ms": round(retrieval.ms, 1)}
        notice, used, refused = "", llm, not is_covered(retrieval, lang, self.settings)
        trace: dict = {"tool_calls": []}
        given: list[Source] = []
        if refused:
            yield Evidence([], "")
            text = REFUSAL[lang]
            yield text
        else:
            translating = self.translates(lang)
            given = self.evidence(standalone, retrieval, llm)
            yield self._evidence_event(standalone, lang, given, llm, pending=translating)
            timings["sources_ms"] = round((time.perf_counter() - start) * 1000, 1)
            focus = standalone
            if translating:
                translation = self.translation(standalone, llm, timings)
                if translation:
                    trace["searched_as"] = translation
                    retrieval = self.retriever.retrieve(standalone, k or self.settings.top_k, mode, also=translation,
                                                        vector=retrieval.query_vector)
                    focus = f"{standalone} {translation}"
                    given = self.evidence(focus, retrieval, llm)
                yield self._evidence_event(focus, lang, given, llm, searched_as=translation or "")
            strong = is_clearly_covered(retrieval, self.settings)
            text, used, notice = yield from self._generate(standalone, lang, given, llm, timings, trace, strong,
                                                           focus)
            refused = trace.get("model_refused", False)
        sources = retrieval.sources
        if refused:
            text, citations = REFUSAL[lang], []
        else:
            given_posts = {g.post_id for g in given}
            others = [s for s in retrieval.sources if s.post_id not in given_posts]
            sources = given + [dataclasses.replace(s, rank=len(given) + i) for i, s in enumerate(others, start=1)]
            checked = check_citations(text, given)
            if checked.attached:
                notice = (notice + "; " if notice else "") + "the answer cited no source: its best-supported " \
                                                              "source was attached"
            support = check_sentences(checked.text, given)
            text, citations = support.text, check_citations(support.text, given).citations
            citations = locate(citations, given, support.sentences)
            trace.update(sentences=[c.as_json() for c in support.sentences], supported_share=support.supported_share,
                         renumbered=support.renumbered)
        building = build_progress(self.retriever.index.manifest)
        if building:
            notice = f"{notice}; {building}" if notice else building
        now = time.perf_counter()
        timings.update(generate_ms=round((now - generate_start) * 1000, 1), total_ms=round((now - start) * 1000, 1))
        yield Answer(question, text, lang, refused, citations, sources, timings, used, notice,
                     extra={"standalone_question": standalone, "dense_top": retrieval.dense_top,
                            "bm25_top": retrieval.bm25_top, **trace})

    def translates(self, lang: str) -> bool:
        """Whether a question in ``lang`` is also searched in Chinese (setting ``translate_english``)."""
        return lang == "en" and self.settings.translate_english

    def translation(self, question: str, llm: str, timings: dict[str, float] | None = None) -> str | None:
        """``question`` in Chinese by the answering model (the local one for extractive answers), or None when no
        model can run or its reply is not a Chinese question."""
        start = time.perf_counter()
        name = "local" if llm == extractive.NAME else llm
        if (name, question) in self._translations:
            result = self._translations[name, question]
        else:
            try:
                result = translate_question(self.backend(name), question)
            except LLMUnavailable:
                result = None
            if len(self._translations) >= TRANSLATIONS_KEPT:
                self._translations.clear()
            self._translations[name, question] = result
        if timings is not None:
            timings["translate_ms"] = round((time.perf_counter() - start) * 1000, 1)
        return result

    def search(self, question: str, k: int, mode: str = "hybrid", llm: str | None = None) -> Retrieval:
        """What an answer to ``question`` (standalone) is written from, the Chinese search of an English question
        included (the retrieval-only evaluation measures this)."""
        return self.retriever.retrieve(question, k, mode, also=self.searched_as(question, llm))

    def searched_as(self, question: str, llm: str | None = None) -> str | None:
        """The Chinese search of an English question (None for a Chinese one or with ``translate_english`` off)."""
        llm = llm or self.settings.llm
        return self.translation(question, llm) if self.translates(detect_language(question)) else None

    def evidence(self, question: str, retrieval: Retrieval, llm: str) -> list[Source]:
        """The excerpts the answer is written from, numbered 1..n: the posts whose fused score is at least half
        the best one, each represented by its sentences that bear on the question (see ``evidence``)."""
        ranked = retrieval.sources[: self.settings.prompt_sources]
        close = [s for s in ranked if s.score >= CLOSE_SHARE * ranked[0].score]
        budget = {"openai": self.settings.openai_prompt_chars,
                  extractive.NAME: self.settings.extractive_chars}.get(llm, self.settings.prompt_chars)
        embedder = self.retriever.embedder if self.settings.sentence_similarity else None
        return select_evidence(question, close, self.retriever.index, retrieval.query_vector, budget, embedder)

    def _evidence_event(self, question: str, lang: str, given: list[Source], llm: str, pending: bool = False,
                        searched_as: str = "") -> Evidence:
        """The evidence with its gist and, for the local model, its prompt size and estimated reading time."""
        gist = extractive.extract(question, given, self.settings.quote_chars)
        if llm != "local" or pending:
            return Evidence(given, gist, pending_search=pending, searched_as=searched_as)
        try:
            backend = self.backend(llm)
        except LLMUnavailable:
            return Evidence(given, gist, searched_as=searched_as)
        tokens = backend.count_new_tokens(answer_messages(question, lang, given))
        rate = backend.reading_rate
        return Evidence(given, gist, tokens, round(tokens / rate, 1) if rate else None, searched_as=searched_as)

    def _generate(self, question: str, lang: str, sources: list[Source], llm: str,
                  timings: dict[str, float], trace: dict, strong: bool = False, focus: str = "") -> Iterator[str]:
        """Stream the answer: with ``answer_style`` quote-explain, first the best sentences quoted (at once), then
        the model's explanation; on ``LLMUnavailable`` fall back to the extractive answer with a notice. With
        ``strong`` retrieval the model's first characters are held back until they show whether it refuses; such a
        refusal is replaced by the extractive answer (see ``is_clearly_covered``). Quoted sentences are chosen for
        ``focus`` (the question and its Chinese translation), the model is asked ``question``."""
        focus = focus or question
        if llm != extractive.NAME:
            pieces: list[str] = []
            prefix = ""
            try:
                backend = self.backend(llm)
                messages = answer_messages(question, lang, sources)
                if self.settings.answer_style == "quote-explain":
                    prefix = quote_block(extractive.extract(focus, sources, self.settings.quote_chars), lang)
                    yield prefix
                start = time.perf_counter()
                tools = tool_round(backend, messages, self.settings)
                trace["tool_calls"] = [{k: c[k] for k in ("name", "arguments", "ok", "result")} for c in tools.calls]
                replies = [tools.reply] if tools.reply else backend.stream(
                    tools.messages, max_tokens=self.settings.llm_max_tokens, temperature=self.settings.llm_temperature)
                held, head_chars = strong, HEAD_CHARS[lang]
                for piece in replies:
                    if not pieces:
                        timings["first_token_ms"] = round((time.perf_counter() - start) * 1000, 1)
                    pieces.append(piece)
                    if not held:
                        yield piece
                        continue
                    head = "".join(pieces)
                    if len(head) >= head_chars:
                        if says_not_covered(head):
                            break
                        held = False
                        yield head
                text = "".join(pieces)
                timings.update(getattr(backend, "last", {}))
                if not (held and says_not_covered(text)):
                    if held:
                        yield text
                    trace["model_refused"] = says_not_covered(text)
                    return prefix + text, llm, ""
                notice = OVERRULED
                trace["overruled_refusal"] = True
            except LLMUnavailable as exc:
                notice = f"{exc}: answered extractively instead"
            if pieces or prefix:
                yield "\n\n"
        else:
            notice = "extractive answer: sentences quoted from the posts, no language model used"
        text = extractive.extract(focus, sources, self.settings.extractive_chars)
        yield text
        return text, extractive.NAME, notice

    def answer(self, question: str, k: int | None = None, history: list[str] | None = None,
               llm: str | None = None, mode: str = "hybrid") -> Answer:
        result = None
        for item in self.stream(question, k, history, llm, mode):
            result = item
        assert isinstance(result, Answer)
        return result
