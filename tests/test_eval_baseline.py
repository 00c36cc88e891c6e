"""The llama-index baseline variant on a small real index: built once with the app's embedder, then reused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import eval.baseline as baseline
from app.settings import Settings
from eval.variants import EvalContext, make_variant
from ingest.pipeline import ingest

pytestmark = pytest.mark.slow
POSTS = ("104", "7980", "10240")


@pytest.fixture()
def small(model_settings: Settings, md_subset, tmp_path: Path, embedder) -> Settings:
    """An index of three posts, and a cache of its own that shares the prepared models."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(model_settings.models_dir.resolve())
    settings = model_settings.replace(index_dir=tmp_path / "index", cache_dir=cache)
    ingest(settings, [str(md_subset(*POSTS))], progress=False, embedder=embedder)
    return settings


def test_baseline_is_built_once_and_ranks_posts(small: Settings, embedder, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]):
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    from app.answering import Answerer

    answerer = Answerer(small, embedder=embedder)
    variant = make_variant("llamaindex-baseline", EvalContext(small, True, answerer))
    err = capsys.readouterr().err
    assert "llamaindex-baseline: no cached build for this corpus and embedder: re-embedding every post" in err
    estimate = re.search(r"embedding (\d+) chunks \(\d+ tokens\) at \d+ tokens/s: estimated \d+(\.\d)? (s|min|h) more",
                         err)
    assert estimate, err
    chunks = estimate[1]
    assert re.search(rf"baseline embed: 100%.* {chunks}/{chunks} ", err), err  # the progress bar, at its end
    assert err.index("estimated") < err.index("baseline embed:")
    assert isinstance(LlamaSettings.llm, MockLLM)
    assert variant.info["posts"] == 3 and variant.info["chunks"] >= 3
    assert variant.path.parent == small.cache_dir / "eval-baseline"
    ranking = variant.search("正十七边形为什么能用尺规作图？", 2)
    assert ranking.post_ids[0] == "104" and len(ranking.post_ids) == 2 == len(set(ranking.post_ids))
    assert ranking.titles["104"] and ranking.ms > 0

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the cached baseline should have been reused")

    monkeypatch.setattr(baseline, "build", no_rebuild)
    again = make_variant("llamaindex-baseline", EvalContext(small, True, answerer))
    assert again.path == variant.path and "llamaindex-baseline:" not in capsys.readouterr().err
    assert again.search("低糖电饭锅的原理", 1).post_ids == ["10240"]


def test_cache_key_depends_on_embedder_and_posts():
    key = baseline.cache_key("fp", {"1": "h1", "2": "h2"})
    assert key == baseline.cache_key("fp", {"2": "h2", "1": "h1"})
    assert key != baseline.cache_key("other", {"1": "h1", "2": "h2"})
    assert key != baseline.cache_key("fp", {"1": "h1", "2": "changed"})


def test_durations_are_seconds_minutes_or_hours():
    assert [baseline.duration(s) for s in (0.2, 42, 2100, 9000)] == ["1 s", "42 s", "35 min", "2.5 h"]
