"""HTML pages as the site serves them (synthetic pages with the site's structure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.post import SourceError
from ingest.sources import html_page, load_file

SIDEBAR = """<div id="sidebar"><h3>分类</h3><ul>
<li><a href="https://kexue.fm/category/Everything">千奇百怪</a></li>
<li><a href="https://kexue.fm/category/Big-Data">信息时代</a></li></ul>
<h3>热门标签</h3><a href="https://kexue.fm/tag/python/">python</a>
<h3>最近评论</h3><ul><li><a href="https://kexue.fm/archives/1/comment-page-1#comment-9">某读者: 评论</a></li></ul>
</div>"""

POST = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>测试文章 - 科学空间|Scientific Spaces</title>
<link rel="canonical" href="https://kexue.fm/archives/4242"></head><body>
<div id="nav"><a href="https://kexue.fm/">首页</a> <a href="https://kexue.fm/category/Big-Data">信息时代</a></div>
<div class="Post"><div class="PostHead">
<h1 class="PostTitle"><a href="https://kexue.fm/archives/4242">测试文章：公式与代码</a></h1>
<span class="submitted">By 苏剑林 | 2021-03-04 | 1234位读者 | <a href="#comments">引用</a></span></div>
<div class="PostContent">
<p>开头一段，含行内公式 $a &lt; b$ 与<strong>粗体</strong>，还有<a href="https://example.org/p">链接</a>。</p>
<h2 id="第一节">第一节<a href="#第一节"> #</a></h2>
<p>显示公式：</p>
<p>\\begin{equation}x_1 = \\frac{1}{2}\\label{eq:a}\\end{equation}</p>
<script type="math/tex; mode=display">y = x^2</script>
<h3 id="小节">小节<a href="#小节"> #</a></h3>
<pre><code>for i in range(3):
    print(i &lt; 2)  # 注释
</code></pre>
<ul><li>甲</li><li>乙</li></ul>
<h2 id="第二节">第二节<a href="#第二节"> #</a></h2>
<p>结尾一段。</p>
<p><strong>转载到请包括本文地址：</strong><a href="https://kexue.fm/archives/4242">https://kexue.fm/archives/4242</a></p>
<p><strong>如果您需要引用本文，请参考：</strong></p><p>苏剑林. (Mar. 04, 2021). 《测试文章》[Blog post].</p>
</div>
<div class="PostFoot">分类：<a href="https://kexue.fm/category/Big-Data">信息时代</a>
 标签：<a href="https://kexue.fm/tag/a/">公式</a>, <a href="https://kexue.fm/tag/b/">代码</a>
 <a href="https://kexue.fm/archives/4242#comments">3 评论</a></div>
</div>""" + SIDEBAR + """<div id="comments"><p>读者评论，不应进入正文</p></div></body></html>"""

LISTING = """<!DOCTYPE html><html><body>""" + "".join(
    f"""<div class="Post"><h2><a href="/archives/{n}">第{n}篇</a></h2>
<span class="submitted">By 苏剑林 | 2020-0{n}-0{n} | 10位读者</span>
<div class="PostContent"><p>第{n}篇的开头。</p><p><a href="/archives/{n}">点击阅读全文...</a></p></div></div>"""
    for n in (3, 2, 1)) + """<div class="pagination"><a href="/page/2">»</a></div></body></html>"""


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_post_page(tmp_path):
    (post,) = load_file(write(tmp_path, POST, "saved.html"))
    assert (post.post_id, post.format, post.excerpt) == ("4242", "html", False)
    assert post.title == "测试文章：公式与代码"
    assert post.date == "2021-03-04"
    assert post.url == "https://kexue.fm/archives/4242"
    assert post.category == "信息时代" and post.tags == ["公式", "代码"]
    assert [s.path for s in post.sections] == [(), ("第一节",), ("第一节", "小节"), ("第二节",)]
    body = post.body
    assert "$a < b$" in body and "**粗体**" in body and "[链接](https://example.org/p)" in body
    assert "\\begin{equation}x_1 = \\frac{1}{2}\\label{eq:a}\\end{equation}" in body
    assert "$$y = x^2$$" in body
    assert "```\nfor i in range(3):\n    print(i < 2)  # 注释\n```" in body
    assert "- 甲\n- 乙" in body
    for chrome in ("转载到请包括本文地址", "如果您需要引用本文", "读者评论", "最近评论", "千奇百怪", "#"):
        assert chrome not in body.replace("# 注释", ""), chrome


def test_listing_page(tmp_path):
    posts = load_file(write(tmp_path, LISTING, "page1.html"))
    assert [p.post_id for p in posts] == ["3", "2", "1"]
    assert all(p.excerpt and p.format == "listing" for p in posts)
    assert posts[0].title == "第3篇" and posts[0].date == "2020-03-03"
    assert posts[0].body == "第3篇的开头。"


def test_page_without_post_body(tmp_path):
    path = write(tmp_path, "<!DOCTYPE html><html><body>" + SIDEBAR + "</body></html>", "chrome.html")
    assert html_page.detect(path.read_text(encoding="utf-8"), path)
    with pytest.raises(SourceError, match="no post body found"):
        load_file(path)


def test_id_from_file_name_when_the_page_has_no_link(tmp_path):
    text = "<html><head><title>某篇 - 科学空间</title></head><body><div class='PostContent'><p>正文。</p>" \
           "</div></body></html>"
    (post,) = load_file(write(tmp_path, text, "77.html"))
    assert (post.post_id, post.title, post.date) == ("77", "某篇", "")
