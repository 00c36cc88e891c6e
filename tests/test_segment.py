"""BM25 segmentation, version 2: normalisation on crafted terms, and the user dictionary built from named posts."""

from __future__ import annotations

import pytest

from app.bm25 import Tokenizer, jieba_module
from app.segment import Segmenter, normalise
from app.terms import TermTable
from ingest import userdict
from ingest.sources import load_file
from tests.conftest import corpus_path


@pytest.fixture(scope="module")
def plain() -> Tokenizer:
    return Tokenizer()


def _post_text(folder: str, name: str) -> str:
    post = load_file(corpus_path(folder, name), max_bytes=5 * 2**20)[0]
    return "\n\n".join(section.text for section in post.sections)


@pytest.mark.parametrize(("one", "other"), [
    ("μP", "muP"), ("ＲｏＰＥ", "RoPE"), ("ＧＰＴ－２", "gpt-2"), ("Adam的β2", "adam的beta 2"),
    ("σ(x)", "sigma(x)"), ("ＢＥＲＴ４ｋｅｒａｓ", "bert4keras"),
])
def test_spellings_of_one_term_give_the_same_tokens(plain, one, other):
    assert plain(one) == plain(other)


def test_normalisation(plain):
    assert normalise("ＲｏＰＥ，μP、Σ") == "rope,mup、 sigma "
    assert plain("μP") == ["mup"] and plain("β2") == ["beta", "2"]


def test_english_glued_to_chinese_is_split_and_names_stay_whole(plain):
    assert plain("用RoPE编码") == ["用", "rope", "编码"]
    assert plain("word2vec与bert4keras、T5") == ["word2vec", "bert4keras", "t5"]
    assert plain("GPT-2") == ["gpt", "2", "gpt2"]
    assert plain("0.999和3.14") == ["0.999", "3.14"]


def test_hyphen_variants_share_tokens(plain):
    hyphen, joined, spaced = plain("pre-norm"), plain("prenorm"), plain("pre norm")
    assert set(joined) <= set(hyphen) and set(spaced) <= set(hyphen)
    assert plain("keep_tokens") == ["keep", "tokens", "keeptokens"]


def test_the_user_dictionary_keeps_named_corpus_terms_whole(plain):
    posts = [_post_text("kexue-pages", f"{post_id}.txt") for post_id in ("8265", "10040", "10862", "10648")]
    posts.append(_post_text("kexue-md", "11736.md"))
    words = userdict.build(posts, TermTable.mine(posts))
    assert {"旋转位置编码", "谱范数", "幂迭代"} <= set(words)
    assert all(len(jieba_module().lcut(word, HMM=False)) > 1 for word in words), "only words jieba would cut"
    tokenizer = Tokenizer(segmenter=Segmenter(words))
    for sentence, term in (("苏剑林提出的旋转位置编码（RoPE）", "旋转位置编码"), ("用幂迭代估计矩阵的谱范数", "谱范数"),
                           ("用幂迭代估计矩阵的谱范数", "幂迭代")):
        assert term in tokenizer(sentence) and term not in plain(sentence)
    assert {"旋转", "位置", "编码"} <= set(tokenizer("旋转位置编码")), "search mode keeps the pieces too"
    assert jieba_module().lcut("旋转位置编码") == ["旋转", "位置", "编码"], "the global jieba is left alone"


def test_a_term_needs_two_posts(plain):
    post = _post_text("kexue-md", "11736.md")
    assert "谱范数" not in userdict.build([post], TermTable.mine([post]))


def test_chinese_proper_names_are_found_and_the_blogs_terms_are_not_names():
    segmenter = Segmenter({"旋转位置编码": 50})
    assert segmenter.names_of("博弈论里纳什均衡怎么证明？卡尔曼滤波呢？") == ["纳什", "卡尔曼滤波"]
    assert segmenter.names_of("费曼和薛定谔，费曼") == ["费曼", "薛定谔"], "each name once"
    assert segmenter.names_of("苏剑林提出的旋转位置编码（RoPE）") == ["苏剑林"], "a user-dictionary term is no name"
    assert segmenter.names_of("为什么梯度会消失？") == []
