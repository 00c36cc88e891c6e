"""Posts as Markdown with YAML front matter (kexue-md), with the conversion oddities of that collection undone."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from ingest.post import Post, SourceError, archive_url
from ingest.sources._text import outside_code, simplify_images, split_sections, tidy, unwrap_blockquotes

FRONT_RE = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n---[ \t]*(?:\n|\Z)", re.S)
ARCHIVE_RE = re.compile(r"/archives/(\d+)")
SCRIPT_RE = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/?>", re.S | re.I)
TABLE_RE = re.compile(r"<table\b.*?</table>", re.S | re.I)
ROW_RE = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S | re.I)
CELL_RE = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.S | re.I)
HTML_HEADING_RE = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.S | re.I)
ATTRS = r"(?:\s+[A-Za-z-]+(?:=(?:\"[^\"]*\"|'[^']*'))?)*\s*/?>"
BLOCK_TAG_RE = re.compile(r"</?(?:p|div|blockquote|center|tbody|thead)" + ATTRS, re.I)
INLINE_TAG_RE = re.compile(r"</?(?:span|a|em|i|u|font|sup|sub)" + ATTRS, re.I)
EMBED_RE = re.compile(r"\[嵌入内容\]\(//")


def detect(text: str, path: Path) -> bool:
    return text.startswith("---")


def detect_by_name(text: str, path: Path) -> bool:
    """A ``.md`` file no other loader took: loading it reports its missing front matter."""
    return path.suffix.lower() in (".md", ".markdown")


def _bad(path: Path, reason: str) -> SourceError:
    return SourceError(str(path), f"malformed front matter: {reason}")


def front_matter(text: str, path: Path) -> tuple[dict, str]:
    """The front matter as a dict and the body after it; SourceError naming the problem otherwise."""
    if not text.startswith("---"):
        raise _bad(path, "missing (the file does not start with a '---' line)")
    m = FRONT_RE.match(text)
    if not m:
        raise _bad(path, "not closed (no second '---' line)")
    try:
        data = yaml.safe_load(m.group("yaml"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise _bad(path, f"invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise _bad(path, f"expected key: value pairs, got {type(data).__name__}")
    return data, text[m.end():]


def _field_str(data: dict, key: str, path: Path, required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise _bad(path, f"field '{key}' is missing or empty")
        return ""
    if not isinstance(value, str | int | float):
        raise _bad(path, f"field '{key}' must be text, got {type(value).__name__}")
    return str(value).strip()


def _date(data: dict, path: Path) -> str:
    value = data.get("date")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _field_str(data, "date", path, required=True)
    m = re.match(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$", text)
    try:
        return dt.date(*map(int, m.groups())).isoformat() if m else dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise _bad(path, f"field 'date' is not a date: {text!r}") from None


def _tags(data: dict, path: Path) -> list[str]:
    value = data.get("tags")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [t.strip() for t in re.split(r"[,，]", value) if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str | int | float) for t in value):
        return [str(t).strip() for t in value if str(t).strip()]
    raise _bad(path, "field 'tags' must be a list of words")


def _table_text(table: str) -> str:
    rows = []
    for row in ROW_RE.findall(table):
        cells = [re.sub(r"<[^>]+>", "", c).strip().replace("|", "\\|") for c in CELL_RE.findall(row)]
        rows.append("| " + " | ".join(cells) + " |")
    if rows:
        rows.insert(1, "|" + " --- |" * rows[0].count(" | ") + " --- |")
    return "\n\n" + "\n".join(rows) + "\n\n"


def clean_body(body: str) -> str:
    """Unwrap blockquotes, drop scripts, HTML tables and stray HTML → Markdown; code blocks untouched."""

    def fix(block: str) -> str:
        block = SCRIPT_RE.sub("", block)
        block = TABLE_RE.sub(lambda m: _table_text(m.group()), block)
        block = HTML_HEADING_RE.sub(lambda m: f"\n\n{'#' * int(m.group(1))} "
                                              f"{re.sub(r'<[^>]+>', '', m.group(2))}\n\n", block)
        block = re.sub(r"</?(?:strong|b)>", "**", block, flags=re.I)
        block = re.sub(r"<br\s*/?>", "\n", block, flags=re.I)
        block = re.sub(r"</p>\s*<p\b[^>]*>", "\n\n", block, flags=re.I)
        block = INLINE_TAG_RE.sub("", BLOCK_TAG_RE.sub("\n\n", block))
        block = EMBED_RE.sub("[嵌入内容](https://", block)
        return unwrap_blockquotes(block)

    return tidy(simplify_images(outside_code(body, fix)))


def load(text: str, path: Path) -> list[Post]:
    data, body = front_matter(text, path)
    title = _field_str(data, "title", path, required=True)
    url = _field_str(data, "url", path)
    m = ARCHIVE_RE.search(url)
    post_id = m.group(1) if m else (path.stem if path.stem.isdigit() else "")
    if not post_id:
        raise _bad(path, "no archive id: field 'url' has no /archives/<id> and the file name is not numeric")
    sections = split_sections(clean_body(body))
    if not sections:
        raise SourceError(str(path), "no post body after the front matter")
    return [Post(post_id=post_id, title=title, date=_date(data, path), url=archive_url(post_id),
                 sections=sections, source=str(path), format="markdown",
                 category=_field_str(data, "category", path), tags=_tags(data, path),
                 author=_field_str(data, "author", path) or "苏剑林")]
