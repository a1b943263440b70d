"""The co-writer's prompts, the context fitting, the word diff and the draft templates."""

from __future__ import annotations

import string

import pytest

from desktop_app.core.cowriter import (
    ACTIONS,
    LANGUAGES,
    PROMPTS,
    REWRITES,
    Passage,
    build_messages,
    clean_result,
    fit_passage,
)
from desktop_app.core.errors import UserError
from desktop_app.core.presets import draft_templates
from desktop_app.core.textdiff import diff_html, word_diff


def words(text: str) -> int:
    return len(text.split())


PASSAGE = Passage("Dear Sam,\n\n", "your parcel is late, sorry.", "\n\nBest, Ana")


@pytest.mark.parametrize("action_id", [*REWRITES, "grammar", "summarise", "bullets"])
def test_selection_actions_send_the_passage_its_context_and_the_task(action_id: str) -> None:
    system, user = build_messages(ACTIONS[action_id], PASSAGE)
    assert system.role == "system" and "only" in system.content
    assert user.content.endswith("The passage:\n<<<\nyour parcel is late, sorry.\n>>>")
    assert ACTIONS[action_id].instruction in user.content
    assert "Dear Sam,\n\n[PASSAGE]\n\nBest, Ana" in user.content  # where the passage sits


def test_continue_sends_the_text_up_to_the_cursor() -> None:
    _, user = build_messages(ACTIONS["continue"], Passage("Once upon a time", "", " (never sent)"))
    assert "Once upon a time" in user.content and "never sent" not in user.content
    assert user.content.startswith(ACTIONS["continue"].instruction)
    _, clipped = build_messages(ACTIONS["continue"], Passage("the end of it", "", "", clipped_before=True))
    assert "The text starts earlier" in clipped.content


def test_translate_and_custom_need_their_details() -> None:
    _, user = build_messages(ACTIONS["translate"], PASSAGE, language="French")
    assert "Translate the passage into French." in user.content
    with pytest.raises(UserError, match="language"):
        build_messages(ACTIONS["translate"], PASSAGE)
    _, asked = build_messages(ACTIONS["custom"], PASSAGE, instruction="Is this polite enough?")
    assert "Is this polite enough?" in asked.content
    with pytest.raises(UserError, match="Write what you want"):
        build_messages(ACTIONS["custom"], PASSAGE, instruction="  ")


def test_a_selection_is_needed_except_to_continue() -> None:
    with pytest.raises(UserError, match="Select the text"):
        build_messages(ACTIONS["shorter"], Passage("text", "", "more"))
    with pytest.raises(UserError, match="no text before the cursor"):
        build_messages(ACTIONS["continue"], Passage("", "", "after"))


def test_fit_passage_keeps_the_selection_and_fills_the_room_before_first() -> None:
    before = " ".join(f"b{i}" for i in range(1000))
    after = " ".join(f"a{i}" for i in range(1000))
    text = f"{before} SELECTED TEXT {after}"
    start = text.index("SELECTED")
    end = start + len("SELECTED TEXT")
    overhead = words(ACTIONS["continue"].instruction)  # any small number: fit_passage adds its own
    passage = fit_passage(text, start, end, words, budget=400 + overhead)
    assert passage.selection == "SELECTED TEXT"
    assert passage.clipped_before and passage.clipped_after
    assert before.endswith(passage.before.rstrip()) and after.startswith(passage.after.lstrip())
    assert words(passage.before) > words(passage.after) > 0  # 70% of the room goes before
    assert words(passage.before) + words(passage.after) + 2 <= 400 + overhead
    small = fit_passage("one two [three] four", 8, 15, words, budget=10_000)
    assert (small.before, small.selection, small.after) == ("one two ", "[three]", " four")
    assert not small.clipped_before and not small.clipped_after


def test_a_selection_too_long_for_the_context_is_refused_with_a_reason() -> None:
    text = "word " * 5000
    with pytest.raises(UserError, match="selection is too long") as caught:
        fit_passage(text, 0, len(text), words, budget=2000)
    assert "shorter part" in str(caught.value)


def test_clean_result_strips_markers_and_quotes() -> None:
    assert clean_result('  <<<\n"Hello there."\n>>> ') == "Hello there."
    assert clean_result("Plain answer") == "Plain answer"


def test_word_diff_marks_insertions_and_deletions() -> None:
    changes = word_diff("The parcel is late.", "The parcel is very late!")
    assert any(c.kind == "insert" and "very" in c.text for c in changes)
    assert any(c.kind == "delete" and c.text == "." for c in changes)
    rebuilt_old = "".join(c.text for c in changes if c.kind != "insert")
    rebuilt_new = "".join(c.text for c in changes if c.kind != "delete")
    assert (rebuilt_old, rebuilt_new) == ("The parcel is late.", "The parcel is very late!")
    html = diff_html(changes)
    assert "text-decoration:underline'>very" in html and "line-through'>.</span>" in html
    assert diff_html(word_diff("a < b", "a < b")) == "a &lt; b"


def test_the_draft_templates() -> None:
    templates = draft_templates()
    assert [t.name for t in templates] == [
        "Customer-service reply",
        "Email",
        "Article outline",
        "Lesson plan",
        "Social post",
        "Poem",
    ]
    assert all("[" in t.body and t.instruction and t.title for t in templates)


def test_clean_result_drops_a_preamble_line() -> None:
    assert clean_result("Here is the corrected passage:\nThe parcel is late.") == "The parcel is late."
    assert clean_result("Note: keep this.") == "Note: keep this."  # one line is the answer itself


def test_corrections_are_cooler_than_new_writing() -> None:
    assert ACTIONS["grammar"].temperature < ACTIONS["clearer"].temperature < ACTIONS["continue"].temperature


def test_citations_become_footnotes_numbered_after_the_drafts_own() -> None:
    from desktop_app.core.cowriter import cite_as_footnotes

    draft = "Intro with a note.[^1] More.[^2]\n\n[^1]: Old note.\n[^2]: Another."
    labels = ["returns.md, lines 1-3 — Returns", "shipping.md, page 2", "faq.md"]
    answer, notes = cite_as_footnotes(draft, "Within 45 days [2], or 60 [1][2]; see [1, 3]. Not [7].", labels)
    assert answer == "Within 45 days [^3], or 60 [^4][^3]; see [^4][^5]. Not [7]."
    assert notes == "[^3]: shipping.md, page 2\n[^4]: returns.md, lines 1-3 — Returns\n[^5]: faq.md"
    assert cite_as_footnotes("", "No sources used.", labels) == ("No sources used.", "")


CHINESE_PASSAGE = Passage("王女士：\n\n", "您的包裹晚到了，非常抱歉。", "\n\n此致，小李")


def test_every_action_has_a_chinese_instruction_with_the_same_fields() -> None:
    chinese = PROMPTS["zh_CN"]
    assert set(chinese.instructions) == set(ACTIONS) and set(chinese.languages) == set(LANGUAGES)

    def fields(text: str) -> set[str | None]:
        return {name for _, name, _, _ in string.Formatter().parse(text)}

    for action in ACTIONS.values():
        assert fields(chinese.instructions[action.id]) == fields(action.instruction), action.id


@pytest.mark.parametrize("action_id", [*REWRITES, "grammar", "summarise", "bullets"])
def test_a_chinese_passage_gets_chinese_instructions(action_id: str) -> None:
    system, user = build_messages(ACTIONS[action_id], CHINESE_PASSAGE)
    assert system.content == PROMPTS["zh_CN"].system and "只输出" in system.content
    assert PROMPTS["zh_CN"].instructions[action_id] in user.content
    assert "王女士：\n\n[选段]\n\n此致，小李" in user.content
    assert user.content.endswith("选段：\n<<<\n您的包裹晚到了，非常抱歉。\n>>>")
    assert "passage" not in user.content.lower()


def test_the_text_acted_on_chooses_the_language_not_its_surroundings() -> None:
    mixed = Passage("王女士：\n\n", "your parcel is late, sorry.", "\n\n此致")
    system, user = build_messages(ACTIONS["clearer"], mixed)
    assert system.content == PROMPTS["en"].system and "[PASSAGE]" in user.content
    _, chinese = build_messages(ACTIONS["continue"], Passage("很久很久以前，有一座山。", "", "after"))
    assert chinese.content.startswith(PROMPTS["zh_CN"].instructions["continue"])
    assert "目前写好的文字：\n<<<\n很久很久以前" in chinese.content
    _, clipped = build_messages(ACTIONS["continue"], Passage("山里有座庙。", "", "", clipped_before=True))
    assert "（前面还有内容，这里只是结尾部分。）\n<<<" in clipped.content
    system, asked = build_messages(
        ACTIONS["docs"], Passage("The refund policy", "", ""), instruction="退货期限是多久？"
    )
    assert system.content.startswith(PROMPTS["zh_CN"].system)
    assert asked.content == "你的回答会插在用户文字中以下内容之后：\n<<<\nThe refund policy\n>>>\n\n退货期限是多久？"


def test_translate_names_the_language_in_the_prompts_language() -> None:
    _, user = build_messages(ACTIONS["translate"], CHINESE_PASSAGE, language="English")
    assert "把选段翻译成英语，" in user.content and "English" not in user.content
    _, user = build_messages(ACTIONS["translate"], PASSAGE, language="日语")  # picked from the Chinese list
    assert "Translate the passage into Japanese." in user.content
    _, user = build_messages(ACTIONS["translate"], CHINESE_PASSAGE, language=" Klingon ")  # typed in
    assert "把选段翻译成Klingon，" in user.content


def test_clean_result_drops_a_chinese_preamble_and_quotes() -> None:
    assert clean_result("以下是改写后的段落：\n您的包裹晚到了。") == "您的包裹晚到了。"
    assert clean_result("好的，以下是修改后的文字：\n\n“您的包裹晚到了。”") == "您的包裹晚到了。"
    assert clean_result("「包裹到了。」") == "包裹到了。"
    assert clean_result("注意：这一行就是答案。") == "注意：这一行就是答案。"
    dialogue = "“好，”她说，“走吧。”"
    assert clean_result(dialogue) == dialogue  # its own quotes, not ones around the answer
    assert clean_result("'It's late.'") == "It's late."
