"""Ask the app's ``Answerer`` one question and score its answer (key points, citations, refusal, language)."""

from __future__ import annotations

import inspect
import re
from dataclasses import asdict
from typing import Any

from app.answering.language import detect_language
from eval.judge import LLMJudge, MatcherJudge
from eval.metrics import citation_precision, citation_recall, mean
from eval.questions import Question
from eval.variants import retrieval_query

_NOT_PROSE = re.compile(r"```.*?```|\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\[\d+\]|https?://\S+|(?m:^>.*$)", re.S)


def answer_language(text: str) -> str | None:
    """Language of the answer's prose (code, formulas, citation marks, URLs and quoted lines removed); None when
    empty."""
    prose = _NOT_PROSE.sub(" ", text or "").strip()
    return detect_language(prose) if prose else None


def ask(answerer: Any, question: Question, llm: str | None, mode: str) -> Any:
    """Call ``answerer.answer`` with the keywords it accepts (history, llm, mode).

    An answerer without ``history`` gets the earlier turns and the question joined, as retrieval-only runs search.
    """
    params = inspect.signature(answerer.answer).parameters
    kwargs: dict[str, Any] = {}
    text = question.question
    if question.history:
        if "history" in params:
            kwargs["history"] = question.history
        else:
            text = retrieval_query(answerer, question.question, question.history)
    if llm and "llm" in params:
        kwargs["llm"] = llm
    if "mode" in params:
        kwargs["mode"] = mode
    return answerer.answer(text, **kwargs)


def score_answer(question: Question, answer: Any, judge: MatcherJudge | LLMJudge,
                 matcher: MatcherJudge) -> dict[str, Any]:
    """The per-question answer record: the answer itself and its scores."""
    text = answer.answer or ""
    cited = [c.post_id for c in answer.citations]
    lang = answer_language(text)
    record: dict[str, Any] = {
        "answer": text, "refused": bool(answer.refused), "llm": answer.llm, "notice": answer.notice,
        "citations": [asdict(c) for c in answer.citations], "answer_lang": lang,
        "language_match": lang == question.lang,
        "timings": dict(answer.timings), "citation_precision": citation_precision(cited, question.relevant),
    }
    if not question.answerable:
        record["refusal_correct"] = bool(answer.refused)
        return record
    by_matcher = matcher.verdicts(question.question, text, question.key_points)
    by_judge = judge.verdicts(question.question, text, question.key_points) if judge is not matcher else None
    verdicts = by_judge if by_judge is not None else by_matcher
    record["key_points"] = [{"point": p, "present": v, "matcher": m, "judge": None if by_judge is None else j}
                            for p, v, m, j in zip(question.key_points, verdicts, by_matcher,
                                                  by_judge or by_matcher, strict=True)]
    record["key_point_coverage"] = mean(float(v) for v in verdicts)
    record["citation_recall"] = citation_recall(cited, question.relevant)
    record["false_refusal"] = bool(answer.refused)
    return record
