"""Data sets: JSONL and CSV items, their references, and clear errors for bad lines."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.evaluation.datasets import load_dataset


def jsonl(tmp_path: Path, *records: object, name: str = "set.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_jsonl_items_with_their_defaults_and_the_files_digest(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"id": "a", "prompt": "Hi", "reference": "Hello!", "category": "greeting"},
        "",
        {
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
            "references": ["4", "four"],
        },
        {"id": 7, "task": "rewrite", "action": "grammar", "prompt": "Teh cat.", "references": ["The cat."]},
        {"id": "s", "task": "summarise", "prompt": "A long text.", "references": ["Short."]},
        {
            "id": "t",
            "task": "rewrite",
            "action": "translate",
            "language": "French",
            "prompt": "Hi",
            "references": ["Salut"],
        },
        {"id": "c", "task": "continue", "prompt": "Once upon", "references": ["a time"]},
    )
    dataset = load_dataset(path)
    assert dataset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    first, chat, grammar, summary, translation, cont = dataset.items
    assert (first.id, first.task, first.references, first.category, first.line) == (
        "a",
        "chat",
        ("Hello!",),
        "greeting",
        1,
    )
    assert chat.id == "3" and chat.references == ("4", "four") and [m.role for m in chat.messages] == ["system", "user"]
    assert (grammar.id, grammar.task, grammar.action) == ("7", "rewrite", "grammar")
    assert (summary.action, translation.language, cont.action) == ("summarise", "French", "")
    assert json.loads(json.dumps(chat.as_dict()))["messages"][1] == {"role": "user", "content": "2+2?"}
    assert dataset.limited(2).items == dataset.items[:2] and dataset.limited(2).sha256 == dataset.sha256


def test_a_rewrite_without_an_action_is_made_clearer(tmp_path: Path) -> None:
    [item] = load_dataset(jsonl(tmp_path, {"task": "rewrite", "prompt": "x y", "reference": "y"})).items
    assert item.action == "clearer"


def test_csv_with_numbered_references_a_json_list_and_a_multi_line_cell(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(
        "\ufeffid,prompt,reference_1,reference_2,task,category\n"
        'q1,"Say hi",Hello,Hi there,chat,greet\n'
        "\n"
        'q2,"A text\nover two lines",Short,,summarise,\n',
        encoding="utf-8",
    )
    one, two = load_dataset(path).items
    assert one.references == ("Hello", "Hi there") and one.category == "greet" and one.line == 2
    assert two.references == ("Short",) and two.prompt == "A text\nover two lines" and two.task == "summarise"
    assert two.line == 4

    listed = tmp_path / "listed.csv"
    listed.write_text('prompt,reference\nHi,"[""Hello"", ""Hey""]"\nAsk,[not json] is text\n', encoding="utf-8")
    first, second = load_dataset(listed).items
    assert first.references == ("Hello", "Hey") and first.id == "2"
    assert second.references == ("[not json] is text",)


@pytest.mark.parametrize(
    ("lines", "line", "problem"),
    [
        (['{"prompt": "a", "reference": "b"}', "{not json"], 2, "not valid JSON"),
        (['["a list"]'], 1, "expected a JSON object"),
        (['{"prompt": "a"}'], 1, "no reference text"),
        (['{"prompt": "a", "references": []}'], 1, "no reference text"),
        (['{"prompt": "a", "references": ["ok", ""]}'], 1, "not empty"),
        (['{"reference": "b"}'], 1, "no prompt"),
        (['{"prompt": "a", "reference": "b", "task": "translate"}'], 1, "unknown task 'translate'"),
        (['{"prompt": "a", "reference": "b", "task": "rewrite", "action": "dance"}'], 1, "unknown action 'dance'"),
        (['{"prompt": "a", "reference": "b", "task": "rewrite", "action": "translate"}'], 1, "needs a language"),
        (['{"prompt": "a", "reference": "b", "action": "grammar"}'], 1, "an action is for rewrite items"),
        (
            ['{"messages": [{"role": "user", "content": "a"}], "reference": "b", "task": "summarise"}'],
            1,
            "not messages",
        ),
        (['{"messages": [{"role": "bot", "content": "a"}], "reference": "b"}'], 1, "message 1 needs a role"),
        (
            [
                '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "reference": "c"}'
            ],
            1,
            "the last message must be the user's",
        ),
        (
            ['{"id": "x", "prompt": "a", "reference": "b"}', '{"id": "x", "prompt": "c", "reference": "d"}'],
            2,
            "already used on line 1",
        ),
    ],
)
def test_a_bad_line_names_the_file_the_line_and_the_problem(
    tmp_path: Path, lines: list[str], line: int, problem: str
) -> None:
    with pytest.raises(UserError) as caught:
        load_dataset(jsonl(tmp_path, *lines))
    assert caught.value.message.startswith(f"set.jsonl, line {line}: ")
    assert problem in caught.value.message and "Nothing was run" in caught.value.message


def test_bad_csv_and_bad_files(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("prompt,reference\nHi,Hello\nA,B,C\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"ragged.csv, line 3: 3 cells, but the header has 2 columns"):
        load_dataset(ragged)
    both = tmp_path / "both.csv"
    both.write_text("prompt,reference,reference_1\nHi,Hello,Hey\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 2: give the references in one way"):
        load_dataset(both)
    with pytest.raises(UserError, match="has no items"):
        load_dataset(jsonl(tmp_path, "", name="empty.jsonl"))
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"prompt": "a", "reference": "b"}\n{"prompt": "caf\xe9", "reference": "b"}\n')
    with pytest.raises(UserError, match=r"latin\.jsonl, line 2: not UTF-8"):
        load_dataset(latin)
    with pytest.raises(UserError, match=r"Cannot read notes\.txt"):
        load_dataset(tmp_path / "notes.txt")
    with pytest.raises(UserError, match="cannot be read"):
        load_dataset(tmp_path / "missing.jsonl")


def test_a_line_separator_inside_a_json_string_is_text_not_a_line_end(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    record = {"id": "a", "prompt": "one\u2028two\u2029three\x85four", "reference": "x"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\r\n", encoding="utf-8")
    [item] = load_dataset(path).items
    assert item.prompt == "one\u2028two\u2029three\x85four"
