"""The sources API: file discovery, bad-input checks, format dispatch, loader registry, merging, whole corpus."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from ingest.post import Post, Section, SourceError
from ingest.sources import LOADERS, Loader, iter_source_files, load_file, merge_posts, register_loader

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FOLDERS = ("kexue-pages", "kexue-md", "seeds")
GOOD_MD = '---\ntitle: "T"\ndate: "2020-01-02"\nurl: "https://kexue.fm/archives/5"\n---\n\n正文。\n'


def corpus() -> list[Path]:
    folders = [CORPUS / name for name in FOLDERS]
    if not all(f.is_dir() for f in folders):
        pytest.skip(f"corpus not found at {CORPUS} (the tests read ../shared/corpus beside the project)")
    return folders


def post(post_id: str, text: str, fmt: str = "page", **meta) -> Post:
    return Post(post_id=post_id, title=meta.pop("title", "标题"), date=meta.pop("date", "2020-01-01"),
                url=f"https://kexue.fm/archives/{post_id}" if post_id.isdigit() else "",
                sections=[Section((), text)], source=f"{fmt}.src", format=fmt, **meta)


# --- bad inputs -----------------------------------------------------------------------------------------

def bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    cases = {}
    folder = tmp / "a-folder"
    folder.mkdir()
    cases["directory"] = (folder, "unreadable: is a directory")
    link = tmp / "dangling.md"
    link.symlink_to(tmp / "nowhere.md")
    cases["broken link"] = (link, "unreadable: broken symbolic link")
    cases["missing"] = (tmp / "missing.md", "unreadable: no such file")
    (tmp / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    cases["binary"] = (tmp / "image.md", "binary file")
    (tmp / "controls.txt").write_bytes(bytes(range(1, 9)) * 50 + b"text")
    cases["control characters"] = (tmp / "controls.txt", "binary file")
    (tmp / "empty.md").write_bytes(b"")
    cases["empty"] = (tmp / "empty.md", "empty file")
    (tmp / "blank.md").write_bytes(b" \n\n\t\n")
    cases["blank"] = (tmp / "blank.md", "empty file")
    (tmp / "gbk.md").write_bytes(GOOD_MD.replace("正文", "这是一篇用国标码保存的中文文章").encode("gb18030"))
    cases["gb18030"] = (tmp / "gbk.md", "not UTF-8 (looks like GB18030")
    (tmp / "latin1.txt").write_bytes("café crème brûlée".encode("latin-1"))
    cases["latin-1"] = (tmp / "latin1.txt", "not UTF-8 (invalid byte 0xe9")
    (tmp / "utf16.md").write_bytes(GOOD_MD.encode("utf-16"))
    cases["utf-16"] = (tmp / "utf16.md", "not UTF-8 (UTF-16")
    (tmp / "front.md").write_text('---\ntitle: "T\ndate: x\n---\nbody\n', encoding="utf-8")
    cases["malformed front matter"] = (tmp / "front.md", "malformed front matter: invalid YAML")
    (tmp / "huge.md").write_bytes(GOOD_MD.encode("utf-8") + b"x" * (6 * 2**20))
    cases["6 MB"] = (tmp / "huge.md", "too large: 6.0 MB (limit 5.0 MB)")
    (tmp / "notes.txt").write_text("just some notes, nothing to do with the blog\n", encoding="utf-8")
    cases["unknown format"] = (tmp / "notes.txt", "unrecognised format")
    return cases


def test_bad_inputs_give_one_line_reasons(tmp_path):
    for name, (path, reason) in bad_inputs(tmp_path).items():
        with pytest.raises(SourceError) as err:
            load_file(path, max_bytes=5 * 2**20)
        message = str(err.value)
        assert err.value.source == str(path) and message.startswith(f"{path}: "), name
        assert reason in err.value.reason, (name, err.value.reason)
        assert "\n" not in message, name


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = tmp_path / "locked.md"
    path.write_text(GOOD_MD, encoding="utf-8")
    path.chmod(0)
    with pytest.raises(SourceError, match="unreadable: Permission denied"):
        load_file(path)


def test_size_limit_is_configurable(tmp_path):
    path = tmp_path / "5.md"
    path.write_text(GOOD_MD, encoding="utf-8")
    assert load_file(path)[0].post_id == "5"
    with pytest.raises(SourceError, match="too large"):
        load_file(path, max_bytes=10)


def test_crlf_and_bom_are_accepted(tmp_path):
    path = tmp_path / "5.md"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_MD.replace("\n", "\r\n").encode("utf-8"))
    (loaded,) = load_file(path)
    assert (loaded.title, loaded.body) == ("T", "正文。")


# --- discovery and dispatch -----------------------------------------------------------------------------

def test_iter_source_files(tmp_path):
    for rel in ("b/10.md", "b/9.md", "a.txt", "SOURCE.md", "b/INDEX.md", "README.md", "b/README.txt",
                ".hidden.md", ".git/config", "b/.cache/x.md", "c/d/e.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_source_files([tmp_path])]
    assert found == ["a.txt", "b/9.md", "b/10.md", "c/d/e.html"]
    assert list(iter_source_files([tmp_path / "README.md"])) == [tmp_path / "README.md"]  # named explicitly


def test_formats_are_detected_per_file_in_a_mixed_folder(tmp_path):
    pages, md, seeds = corpus()
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for src in (pages / "7980.txt", pages / "7500.txt", md / "7980.md", sorted(seeds.glob("*.txt"))[0]):
        (mixed / f"{src.parent.name}-{src.name}").write_bytes(src.read_bytes())
    formats = Counter(p.format for f in iter_source_files([mixed]) for p in load_file(f))
    assert formats == {"page": 1, "page-flat": 1, "markdown": 1, "listing": 7}


def test_register_loader(tmp_path):
    path = tmp_path / "x.kexue"
    path.write_text("KEXUE 99 一个标题\n正文\n", encoding="utf-8")

    def load(text: str, p: Path) -> list[Post]:
        head, body = text.split("\n", 1)
        return [post(head.split()[1], body.strip(), "custom", title=head.split()[2])]

    def broken(text: str, p: Path) -> list[Post]:
        raise ValueError("bad luck")

    saved = list(LOADERS)
    try:
        register_loader(Loader("custom", lambda text, p: text.startswith("KEXUE "), load))
        assert LOADERS[0].name == "custom"
        (loaded,) = load_file(path)
        assert (loaded.post_id, loaded.title, loaded.format) == ("99", "一个标题", "custom")
        register_loader(Loader("custom", lambda text, p: text.startswith("KEXUE "), broken))
        assert [x.name for x in LOADERS].count("custom") == 1
        with pytest.raises(SourceError, match="custom loader failed: ValueError: bad luck"):
            load_file(path)
    finally:
        LOADERS[:] = saved


# --- merging --------------------------------------------------------------------------------------------

def test_merge_keeps_the_fuller_copy_and_fills_metadata():
    md = post("7", "公式 $x$ 与正文。" * 20, "markdown", category="", tags=[])
    page = post("7", "公式 x 与正文。" * 20, "page", category="数学研究", tags=["a"])
    longer = post("8", "很长的正文。" * 100, "page-flat", category="信息时代")
    short_md = post("8", "被截断的正文。", "markdown", date="")
    (seven, eight) = merge_posts([page, md, short_md, longer])
    assert (seven.format, seven.category, seven.tags) == ("markdown", "数学研究", ["a"])
    assert eight.format == "page-flat" and eight.date == "2020-01-01"


def test_merge_folds_excerpts_by_title_and_by_text():
    full = post("9", "第一段很长很长的文字，讲了一个故事，写得相当详细。\n\n第二段。", "markdown",
                title="故事：开头（上）", date="2021-02-03")
    by_title = post("title:abc", "别的摘要文字", "listing", title="故事:开头(上)", date="", excerpt=True)
    by_text = post("text:def", "第一段很长很长的文字,讲了一个故事,写得相当详细。", "listing", title="",
                   date="", excerpt=True)
    stranger = post("text:0123", "与任何文章都对不上的一段摘要文字，足够长以便比较。", "listing", title="",
                    date="", excerpt=True)
    merged = merge_posts([by_title, full, by_text, stranger])
    assert [p.post_id for p in merged] == ["9", "text:0123"]
    assert merged[0].body == full.body and not merged[0].excerpt


# --- the whole corpus -----------------------------------------------------------------------------------

def test_whole_corpus_loads_and_merges():
    loaded, errors = [], []
    for path in iter_source_files(corpus()):
        try:
            loaded.extend(load_file(path))
        except SourceError as exc:
            errors.append(str(exc))
    formats = Counter(p.format for p in loaded)
    print("posts per format:", dict(formats), "errors:", errors)
    assert errors == []
    assert formats == {"page": 554, "page-flat": 83, "markdown": 151, "listing": 39}
    for p in loaded:
        if not p.excerpt:
            assert p.post_id.isdigit() and p.title and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.date), p.source
            assert p.url == f"https://kexue.fm/archives/{p.post_id}"
    merged = merge_posts(loaded)
    ids = [p.post_id for p in merged]
    assert len(ids) == len(set(ids)) == len({p.post_id for p in loaded if not p.excerpt})
    assert not any(p.excerpt for p in merged)  # every seed excerpt found its full post
    simsiam = next(p for p in merged if p.post_id == "7980")
    assert simsiam.format == "markdown" and simsiam.title.endswith("为什么SimSiam不退化？")
    assert simsiam.date == "2020-12-11" and simsiam.category == "信息时代"
    flat = next(p for p in merged if p.post_id == "7500")
    assert flat.format == "markdown" and flat.tags  # the flat page has no tags; the Markdown copy does
    only_flat = [p for p in merged if p.format == "page-flat"]
    assert only_flat and all(p.date for p in only_flat)
