from __future__ import annotations

import pytest

from desktop_app.store import Store


@pytest.fixture
def filled(store: Store) -> Store:
    """Two conversations with branches, metadata, Markdown, code and risky HTML."""
    a = store.conversations.create(
        system_prompt="You are a friendly support agent.", model_id="smollm2", settings={"temperature": 0.3}
    )
    q = store.conversations.add_message(a.id, "user", "How do I say sorry <script>alert(1)</script> nicely?")
    store.conversations.add_message(
        a.id,
        "assistant",
        "## A reply\n\n- Start with **thanks**\n- Then *apologise*\n\n```python\nprint('sorry')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        model_id="smollm2",
        provider="cpu",
        settings={"temperature": 0.3},
        seed=42,
        prompt_tokens=30,
        generated_tokens=50,
        ttft_ms=12.5,
        tokens_per_s=99.9,
        finish_reason="stop_token",
    )
    store.conversations.add_message(a.id, "assistant", "Another version 🙂", parent_id=q.id, seed=43)
    store.conversations.set_pinned(a.id, True)
    b = store.conversations.create("Second chat")
    store.conversations.add_message(b.id, "user", "日本語のテキスト")
    store.drafts.create(
        "Letter to Anna", "# Dear Anna\n\nThank you for **your** order.\n\n- one\n- two\n\n```\ncode here\n```\n"
    )
    return store
