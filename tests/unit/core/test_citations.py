"""Citations are read and rewritten in prose only, never inside code."""

from __future__ import annotations

from desktop_app.core.citations import cited_numbers, replace_citations

REPLY = """Returns take 45 days [2], see also [1, 3] and [9].

```python
value = arr[1]  # not a citation
```

Use `items[2]` in code, but cite [3][1] here.
~~~
x[3]
~~~
"""


def test_citations_in_code_are_not_citations() -> None:
    assert cited_numbers(REPLY, 3) == [2, 1, 3]
    assert cited_numbers("`a[1]` and\n```\nb[2]\n```", 3) == []


def test_rewriting_leaves_code_alone() -> None:
    out = replace_citations(REPLY, {1, 2, 3}, lambda n: f"<{n}>")
    assert "45 days <2>, see also <1><3> and [9]." in out  # [9] names no source: kept
    assert "value = arr[1]" in out and "`items[2]`" in out and "x[3]" in out
    assert "cite <3><1> here" in out


def test_an_unclosed_fence_runs_to_the_end() -> None:
    assert cited_numbers("See [1].\n```\ncode[2]", 2) == [1]
