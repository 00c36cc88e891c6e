"""A llama-index ``BaseEmbedding`` backed by an :class:`app.models.embedder.Embedder`."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr


class LlamaIndexEmbedding(BaseEmbedding):
    """Queries get the query prefix, texts the passage prefix: the same vectors as the wrapped embedder."""

    _embedder: Any = PrivateAttr()

    @classmethod
    def wrap(cls, embedder: Any) -> LlamaIndexEmbedding:
        obj = cls(model_name=embedder.name, embed_batch_size=64)
        obj._embedder = embedder
        return obj

    @classmethod
    def class_name(cls) -> str:
        return "KexueEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(list(texts)).tolist()
