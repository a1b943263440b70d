"""The one rule for how much of a model's context a prompt may use, and a quick token
estimate for text too long to count exactly while the user types.

It lives in core so that the engine (which trims conversations to it), the session layer
(which builds the co-writer's requests) and the window (which warns before sending) share
one formula.
"""

from __future__ import annotations

# Characters per token for a quick estimate (English prose with a BPE vocabulary).
CHARS_PER_TOKEN = 4


def prompt_budget(context_length: int, max_new_tokens: int) -> int:
    """Tokens the prompt may use: the context less room for the reply (at most half of it)."""
    return context_length - min(max_new_tokens, context_length // 2)


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is, without a tokenizer."""
    return len(text) // CHARS_PER_TOKEN
