"""Chinese (and Japanese, Korean) passages are found by their words: the full-text index
holds runs of CJK characters as overlapping pairs, and questions are searched the same way."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_app.core.records import SearchHit
from desktop_app.session.documents import DocumentIndexer
from desktop_app.store import Store, open_store
from desktop_app.store.migrations import MIGRATIONS
from desktop_app.store.words import query_words, register, spaced

POLICY_ZH = """# 客户政策

## 退货

客户可以在收货后四十五天内退回未使用的商品，并获得全额退款。已拆封的软件和礼品卡不能退货。

## 退款时间

退款在退货到达仓库后七个工作日内退回原支付方式。

## 保修

所有路由器享有三年有限保修，涵盖制造缺陷。电涌或液体造成的损坏不在保修范围内。

## 运费

订单满六十欧元免运费，标准配送需要三到五个工作日。加急配送费用为十二欧元，下午两点前下单次日送达。

## 营业时间

客服电话周一至周五上午八点到下午六点开放，周六上午也开放。
"""

# (question, a phrase found only in the passage that answers it)
QUESTIONS_ZH = [
    ("礼品卡可以退货吗？", "礼品卡不能退货"),
    ("退款需要多久？", "七个工作日"),
    ("路由器的保修期是多长？", "三年有限保修"),
    ("加急配送多少钱？", "十二欧元"),
    ("客服电话什么时候开放？", "周一至周五"),
    ("电涌造成的损坏保修吗？", "电涌或液体"),
]


def test_cjk_runs_become_overlapping_pairs_and_other_text_stays() -> None:
    assert spaced("退货政策") == " 退货 货政 政策 "
    assert spaced("a 字 b") == "a  字  b"
    assert spaced("plain English, unchanged") == "plain English, unchanged"
    assert query_words("礼品卡可以退货吗？") == ["礼品", "品卡", "卡可", "以退", "退货", "货吗"]
    assert query_words("Return the router") == ["return", "router"]


def test_chinese_questions_find_their_passages_by_words(store: Store, tmp_path: Path) -> None:
    (tmp_path / "policy.md").write_text(POLICY_ZH, encoding="utf-8")
    DocumentIndexer(store).add([tmp_path / "policy.md"], "政策")
    found = 0
    for question, answer in QUESTIONS_ZH:
        passages = store.documents.search(question, ["政策"], limit=5)
        found += any(answer in p.text for p in passages)
        assert answer in store.documents.search(question, ["政策"], limit=2)[0].text or found
    assert found == len(QUESTIONS_ZH)
    store.documents.remove(str((tmp_path / "policy.md").resolve()))  # the delete trigger finds its pairs
    assert store.documents.search("退款需要多久") == []
    assert store.conn.execute("INSERT INTO doc_chunks_fts (doc_chunks_fts) VALUES ('integrity-check')")


def test_passages_saved_before_the_migration_are_indexed_again(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for migration in MIGRATIONS[:3]:  # a library from before m004, whose index holds CJK runs whole
        migration(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01')", (migration.__name__,))
    conn.execute("INSERT INTO doc_collections (id, name, created) VALUES ('c', 'Old', '2026-01-01')")
    conn.execute(
        "INSERT INTO documents (id, collection_id, path, kind, size, mtime, sha256, status, chunks, added, indexed)"
        " VALUES ('d', 'c', '/old.md', 'markdown', 1, 0, 'x', 'indexed', 1, '2026-01-01', '2026-01-01')"
    )
    conn.execute(
        "INSERT INTO doc_chunks (document_id, ord, heading, text) VALUES ('d', 0, '退款', '退款在七个工作日内退回')"
    )
    assert conn.execute("SELECT COUNT(*) FROM doc_chunks_fts WHERE doc_chunks_fts MATCH '\"退款\"'").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM doc_chunks_fts WHERE doc_chunks_fts MATCH '\"工作\"'").fetchone()[0] == 0
    conn.close()
    store = open_store(path)  # m004: a backup first, then the passages indexed again
    try:
        assert [p.path for p in store.documents.search("退款需要多久")] == ["/old.md"]
        assert [p.path for p in store.documents.search("几个工作日")] == ["/old.md"]
        assert list((tmp_path / "backups").glob("*before-m004_cjk_words.db"))
    finally:
        store.close()


def test_chats_and_drafts_in_chinese_are_found_by_the_words_inside_their_sentences(tmp_path: Path) -> None:
    store = open_store(tmp_path / "inkwell.db")
    try:
        chat = store.conversations.create("客户投诉")
        store.conversations.add_message(chat.id, "user", "我想了解你们的退货政策，包裹已经寄出三天了。")
        store.conversations.add_message(chat.id, "assistant", "Our returns policy allows 45 days.")
        draft = store.drafts.create("回复王先生", "尊敬的王先生：感谢您的耐心等待，退款将在七个工作日内到账。")
        kinds = {(h.kind, h.conversation_id or h.draft_id) for h in store.search.search("退货政策")}
        assert ("message", chat.id) in kinds
        assert [h.draft_id for h in store.search.search("工作日")] == [draft.id]
        assert [h.conversation_id for h in store.search.search("投诉")] == [chat.id]  # a title
        assert store.search.search("退") and store.search.search("寄出")  # one character: a prefix
        assert store.search.search("退款政策") == []  # every pair must be there
        hit = next(h for h in store.search.search("寄出") if h.kind == "message")
        assert "寄出" in hit.snippet and hit.snippet.count(SearchHit.MARK_START) == 1
        assert store.search.search("returns policy")  # English as before
        store.drafts.save(draft.id, body="内容已改")  # the update trigger takes the old pairs out
        assert store.search.search("工作日") == []
        for table in ("conversations_fts", "messages_fts", "drafts_fts"):
            store.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    finally:
        store.close()


def test_chats_saved_before_the_migration_are_indexed_again(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    register(conn)
    for migration in MIGRATIONS[:4]:  # before m005: the chat indexes hold CJK runs whole
        migration(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01')", (migration.__name__,))
    conn.execute("INSERT INTO conversations (id, title, created, updated) VALUES ('c', '旧对话', '2026', '2026')")
    conn.execute(
        "INSERT INTO messages (id, conversation_id, role, content, created) VALUES ('m', 'c', 'user', '请问退货政策是什么', '2026')"
    )
    conn.close()
    store = open_store(path)
    try:
        assert [h.message_id for h in store.search.search("退货政策") if h.kind == "message"] == ["m"]
    finally:
        store.close()
