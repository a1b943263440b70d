"""Words for full-text search in scripts written without spaces between words.

SQLite's unicode61 tokenizer splits text at spaces and punctuation, so a Chinese or
Japanese sentence is a single token and no word inside it can be found. Runs of such
characters are indexed, and searched, as overlapping pairs of characters, as Lucene's CJK
analyzer does: 退货政策 becomes 退货 货政 政策 (a lone character stays itself). Most Chinese
words are one or two characters, so a question's pairs meet the passage's.

The index calls `spaced` through the SQL function `inkwell_words`, which every connection
registers (open_store) before it writes passages.
"""

from __future__ import annotations

import re
import sqlite3

SQL_FUNCTION = "inkwell_words"
# Han (with extension A and compatibility ideographs), kana, Hangul syllables
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def _pairs(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def spaced(text: str | None) -> str | None:
    """`text` with each run of CJK characters written as its overlapping pairs, spaced."""
    if not text or not CJK.search(text):
        return text
    return CJK.sub(_pairs, text)


# Words too common to tell passages apart; questions are full of them. Chinese question
# words are listed as the character pairs a question is searched by.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "before",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "什么",
        "怎么",
        "如何",
        "为什",
        "哪里",
        "多少",
        "多久",
        "可以",
        "吗",
        "的",
        "是",
        "我",
        "我们",
    ]
)


def query_words(text: str) -> list[str]:
    """A question's telling words, lower-cased, each once, in order (runs of CJK characters
    as the pairs the index holds them as)."""
    found = re.findall(r"\w+", spaced(text.lower()) or "", flags=re.UNICODE)
    return list(dict.fromkeys(w for w in found if w not in STOPWORDS))


def register(conn: sqlite3.Connection) -> None:
    conn.create_function(SQL_FUNCTION, 1, spaced, deterministic=True)
