"""Listing-page text (seeds/): search/category and home-page layouts → excerpt Posts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.sources import listing, load_file

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def seeds() -> list[Path]:
    folder = CORPUS / "seeds"
    if not folder.is_dir():
        pytest.skip(f"corpus not found at {folder} (the tests read ../shared/corpus beside the project)")
    return sorted(folder.glob("*.txt"))


def test_search_listing_layout():
    posts = load_file(seeds()[0])
    assert len(posts) == 7
    assert all(p.format == "listing" and p.excerpt and p.url == "" for p in posts)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.date) for p in posts)
    simsiam = next(p for p in posts if "SimSiam" in p.title)
    assert simsiam.title == "从动力学角度看优化算法(六):为什么SimSiam不退化?"
    assert simsiam.date == "2020-12-11"
    assert simsiam.post_id == listing.synthetic_id(simsiam.title, "")
    assert re.fullmatch(r"title:[0-9a-f]{10}", simsiam.post_id)
    assert [s.path for s in simsiam.sections] == [()]
    assert not simsiam.body.startswith("By ") and "位读者" not in simsiam.body
    assert all("最近评论" not in p.body for p in posts)  # the sidebar heading after the last entry


def test_entry_without_excerpt_hands_its_glued_title_on():
    """`By ... | 引用<next title>` directly followed by the next meta line: the glued text is a title."""
    posts = load_file(seeds()[0])
    adversarial = [p for p in posts if p.title.startswith("对抗训练浅谈")]
    assert len(adversarial) == 1 and adversarial[0].date == "2020-03-01"
    assert not any(p.title.startswith("By ") for p in posts)


def test_home_listing_layout():
    posts = load_file(seeds()[3])
    assert len(posts) == 8 and all(p.excerpt and p.date == "" for p in posts)
    titled = [p.title for p in posts if p.title]
    assert "AdaX优化器浅析(附开源实现)" in titled and "通过互信息思想来缓解类别不平衡问题" in titled
    untitled = [p for p in posts if not p.title]
    assert len(untitled) == 5  # no title shown, or an image caption (written twice) where it would be
    assert all(re.fullmatch(r"text:[0-9a-f]{10}", p.post_id) for p in untitled)
    assert all("点击阅读全文" not in p.body for p in posts)
    for post in posts:
        paragraphs = post.body.split("\n\n")
        assert all(a != b for a, b in zip(paragraphs, paragraphs[1:], strict=False))


def test_synthetic_ids_are_stable():
    first = [p.post_id for path in seeds() for p in load_file(path)]
    second = [p.post_id for path in seeds() for p in load_file(path)]
    assert first == second
    assert listing.synthetic_id("从动力学角度看优化算法（六）：为什么SimSiam不退化？", "") == \
        listing.synthetic_id("从动力学角度看优化算法(六):为什么SimSiam不退化?", "")


def test_all_seed_files():
    counts = {path.name: len(load_file(path)) for path in seeds()}
    print("listing entries per seed file:", counts)
    assert sum(counts.values()) == 39


def test_synthetic_home_listing(tmp_path):
    text = ("3 Jan\n\n一个标题\n\n第一段。\n\n图注\n\n图注\n\n第二段。\n\n点击阅读全文...\n\n"
            "4 Feb\n\n没有标题的开头一段，写得比较长，以句号结束。\n\n点击阅读全文...\n")
    path = tmp_path / "home.txt"
    path.write_text(text, encoding="utf-8")
    first, second = load_file(path)
    assert (first.title, first.body) == ("一个标题", "第一段。\n\n图注\n\n第二段。")
    assert second.title == "" and second.post_id.startswith("text:")
