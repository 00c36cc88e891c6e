"""The answering API: retrieval plus generation with citations, shared by every surface."""

from app.answering.answerer import Answerer, QuestionError
from app.answering.types import Answer, Citation, Evidence, Source

__all__ = ["Answer", "Answerer", "Citation", "Evidence", "QuestionError", "Source"]
