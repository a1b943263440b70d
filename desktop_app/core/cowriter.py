"""The co-writer's actions and the prompts they send: pure functions, no Qt, no model.

An action works on the selection (or, for Continue, at the cursor). The prompt holds the
selection whole and as much of the text around it as fits the context window, the text
before the cursor first; the selection itself too long is a clear error.

The prompt's own words follow the text it works on, not the window: Chinese text gets
Chinese instructions, so a small model answers in the text's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from desktop_app.core.chat import ChatMessage
from desktop_app.core.citations import replace_citations
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import ENGLISH, is_chinese, marked, translate

CHINESE = "zh_CN"
SYSTEM = (
    "You are a careful writing assistant. You help the user with their own text. "
    "Reply with the requested text only: no preamble, no quotes around it, no notes after it."
)


@dataclass(frozen=True)
class Action:
    id: str
    label: str  # marked for translation: show translate("CoWriter", label)
    instruction: str  # in English; PROMPTS has it in each language
    replaces: bool = True  # the result takes the selection's place; else it is inserted at the cursor
    needs_selection: bool = True
    temperature: float = 0.5  # low for corrections, higher for new writing
    # One best text matters more than variety: beam search runs it when the setting allows.
    precise: bool = False


ACTIONS: dict[str, Action] = {
    a.id: a
    for a in (
        Action(
            "continue",
            marked("CoWriter", "Continue writing"),
            "Continue the text from exactly where it stops, in the same voice and style. "
            "Write the next few sentences only.",
            replaces=False,
            needs_selection=False,
            temperature=0.8,
        ),
        Action(
            "clearer",
            marked("CoWriter", "Rewrite: clearer"),
            "Rewrite the passage so it is clearer and easier to read. Keep its meaning.",
        ),
        Action(
            "shorter",
            marked("CoWriter", "Rewrite: shorter"),
            "Rewrite the passage to be about half as long. Keep the key points.",
            precise=True,
        ),
        Action(
            "longer",
            marked("CoWriter", "Rewrite: longer"),
            "Rewrite the passage with more detail and explanation. Keep its meaning.",
        ),
        Action(
            "formal",
            marked("CoWriter", "Rewrite: more formal"),
            "Rewrite the passage in a more formal, professional tone.",
        ),
        Action(
            "friendly",
            marked("CoWriter", "Rewrite: friendlier"),
            "Rewrite the passage in a warmer, friendlier tone.",
        ),
        Action(
            "grammar",
            marked("CoWriter", "Fix grammar and spelling"),
            "Correct the grammar, spelling and punctuation of the passage. Change nothing else.",
            temperature=0.2,
            precise=True,
        ),
        Action("summarise", marked("CoWriter", "Summarise"), "Summarise the passage in two or three sentences."),
        Action(
            "bullets",
            marked("CoWriter", "Make a bulleted list"),
            "Turn the passage into a Markdown bulleted list of its points.",
        ),
        Action(
            "translate",
            marked("CoWriter", "Translate"),
            "Translate the passage into {language}. Keep its meaning and tone.",
            temperature=0.2,
            precise=True,
        ),
        Action("custom", marked("CoWriter", "Ask about selection"), "{instruction}"),
        Action(
            "docs",
            marked("CoWriter", "Ask about my documents"),
            "{instruction}",
            replaces=False,
            needs_selection=False,
            temperature=0.3,
        ),
    )
}
REWRITES = ("clearer", "shorter", "longer", "formal", "friendly")
# By their English names, what build_messages is given (it also understands the names in
# PROMPTS); marked so the window can show them translated.
LANGUAGES = (
    marked("CoWriter", "English"),
    marked("CoWriter", "French"),
    marked("CoWriter", "German"),
    marked("CoWriter", "Spanish"),
    marked("CoWriter", "Italian"),
    marked("CoWriter", "Portuguese"),
    marked("CoWriter", "Dutch"),
    marked("CoWriter", "Chinese"),
    marked("CoWriter", "Japanese"),
)


@dataclass(frozen=True)
class Prompts:
    """The fixed words of the prompts in one language; the text goes between <<< and >>>."""

    system: str
    instructions: Mapping[str, str]  # by action id
    context: str  # introduces the text around the passage, where `passage_mark` stands for it
    passage_mark: str
    passage: str  # introduces the passage
    so_far: str  # introduces the text Continue goes on from
    clipped: str  # says that text is only the end
    insert_after: str  # introduces the text the documents' answer follows
    languages: Mapping[str, str]  # the names of LANGUAGES in this language


PROMPTS: dict[str, Prompts] = {
    ENGLISH: Prompts(
        system=SYSTEM,
        instructions={a.id: a.instruction for a in ACTIONS.values()},
        context="For context, the text around the passage (do not rewrite it):",
        passage_mark="[PASSAGE]",
        passage="The passage:",
        so_far="The text so far:",
        clipped="(The text starts earlier; this is its end.)",
        insert_after="The answer goes into the user's text after:",
        languages={name: name for name in LANGUAGES},
    ),
    CHINESE: Prompts(
        system=(
            "你是一位细心的写作助手，帮助用户修改和完善他们自己的文字。"
            "只输出所要求的文字：不要开场白，不要给文字加引号，结尾也不要附加任何说明。"
        ),
        instructions={
            "continue": "从文字停下的地方接着往下写，保持原有的语气和文风。只写接下来的几句话。",
            "clearer": "改写选段，让它更清楚、更好读，意思保持不变。",
            "shorter": "改写选段，把篇幅压缩到原来的一半左右，保留要点。",
            "longer": "改写选段，补充更多细节和解释，意思保持不变。",
            "formal": "改写选段，让语气更正式、更专业。",
            "friendly": "改写选段，让语气更亲切、更友好。",
            "grammar": "改正选段中的语法错误、错别字和标点问题，其他内容一律不动。",
            "summarise": "用两三句话概括选段的内容。",
            "bullets": "把选段的要点整理成 Markdown 无序列表。",
            "translate": "把选段翻译成{language}，保留原文的意思和语气。",
            "custom": "{instruction}",
            "docs": "{instruction}",
        },
        context="以下是选段前后的文字，仅供参考，请勿改写：",
        passage_mark="[选段]",
        passage="选段：",
        so_far="目前写好的文字：",
        clipped="（前面还有内容，这里只是结尾部分。）",
        insert_after="你的回答会插在用户文字中以下内容之后：",
        languages={
            "English": "英语",
            "French": "法语",
            "German": "德语",
            "Spanish": "西班牙语",
            "Italian": "意大利语",
            "Portuguese": "葡萄牙语",
            "Dutch": "荷兰语",
            "Chinese": "中文",
            "Japanese": "日语",
        },
    ),
}


def prompts_for(text: str) -> Prompts:
    """The prompts in the language of `text`: Chinese for mainly Chinese text, else English."""
    return PROMPTS[CHINESE if is_chinese(text) else ENGLISH]


def _language_in(prompts: Prompts, name: str) -> str:
    """`name` (as the user picked or typed it: in English or any language of PROMPTS) in the
    prompt's language; a name we do not know as it is."""
    wanted = name.strip().casefold()
    for english in LANGUAGES:
        if wanted in {p.languages.get(english, english).casefold() for p in PROMPTS.values()}:
            return prompts.languages.get(english, english)
    return name.strip()


@dataclass(frozen=True)
class Passage:
    """The part of the draft an action sees: the selection and the text around it."""

    before: str
    selection: str
    after: str
    clipped_before: bool = False  # text before `before` was left out to fit the context
    clipped_after: bool = False


def instruction_for(
    action: Action, language: str = "", instruction: str = "", prompts: Prompts = PROMPTS[ENGLISH]
) -> str:
    if action.id == "translate" and not language.strip():
        raise UserError(translate("CoWriter", "Choose a language to translate into."))
    if action.id == "custom" and not instruction.strip():
        raise UserError(translate("CoWriter", "Write what you want to know or change about the selection."))
    if action.id == "docs" and not instruction.strip():
        raise UserError(translate("CoWriter", "Write what you want to know from your documents."))
    task = prompts.instructions.get(action.id, action.instruction)
    return task.format(language=_language_in(prompts, language), instruction=instruction.strip())


def build_messages(
    action: Action, passage: Passage, language: str = "", instruction: str = "", sources: str = ""
) -> list[ChatMessage]:
    """The chat messages for an action on a passage (`sources`: the numbered passages from the
    user's documents that "Ask about my documents" answers from), worded in the language of
    what the action works on: the question for the documents, else the selection, or for
    Continue the text before the cursor."""
    if action.id == "docs":
        prompts = prompts_for(instruction)
        task = instruction_for(action, language, instruction, prompts)
        lead = passage.before[-1500:].strip()
        where = f"{prompts.insert_after}\n<<<\n{lead}\n>>>\n\n" if lead else ""
        return [
            ChatMessage("system", f"{prompts.system}\n\n{sources}"),
            ChatMessage("user", f"{where}{task}"),
        ]
    if action.id == "continue":
        text = passage.before + passage.selection
        prompts = prompts_for(text)
        task = instruction_for(action, language, instruction, prompts)
        if not text.strip():
            raise UserError(translate("CoWriter", "There is no text before the cursor to continue from."))
        lead = f"{prompts.clipped}\n" if passage.clipped_before else ""
        return [
            ChatMessage("system", prompts.system),
            ChatMessage("user", f"{task}\n\n{prompts.so_far}\n{lead}<<<\n{text}\n>>>"),
        ]
    prompts = prompts_for(passage.selection)
    task = instruction_for(action, language, instruction, prompts)
    if action.needs_selection and not passage.selection.strip():
        raise UserError(translate("CoWriter", "Select the text to work on first."))
    context = ""
    if passage.before.strip() or passage.after.strip():
        context = f"{prompts.context}\n<<<\n{passage.before}{prompts.passage_mark}{passage.after}\n>>>\n\n"
    return [
        ChatMessage("system", prompts.system),
        ChatMessage("user", f"{context}{task}\n\n{prompts.passage}\n<<<\n{passage.selection}\n>>>"),
    ]


def fit_passage(
    text: str,
    start: int,
    end: int,
    count_tokens: Callable[[str], int],
    budget: int,
    before_share: float = 0.7,
) -> Passage:
    """The selection text[start:end] with as much surrounding text as fits `budget` tokens
    (counting the prompt's fixed parts as well): `before_share` of the room goes before."""
    selection = text[start:end]
    # The instruction and the markers, in whichever language the prompt will be worded.
    overhead = max(count_tokens(p.system) for p in PROMPTS.values()) + 120
    needed = count_tokens(selection) + overhead
    if needed > budget:
        message = translate(
            "CoWriter",
            "The selection is too long for the model: it needs about {needed} tokens and "
            "{budget} fit in its context window.",
        )
        raise UserError(
            message.format(needed=f"{needed:,}", budget=f"{budget:,}"),
            hint=translate("CoWriter", "Select a shorter part (a few paragraphs) and try again."),
        )
    room = budget - needed
    before = _tail_fitting(text[:start], count_tokens, int(room * before_share))
    room_after = room - count_tokens(before)
    after = _head_fitting(text[end:], count_tokens, room_after)
    return Passage(before, selection, after, len(before) < start, len(after) < len(text) - end)


def _tail_fitting(text: str, count_tokens: Callable[[str], int], room: int) -> str:
    """The longest end of `text` within `room` tokens (binary search on characters)."""
    if room <= 0 or not text:
        return ""
    if count_tokens(text) <= room:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens(text[len(text) - middle :]) <= room:
            low = middle
        else:
            high = middle - 1
    return text[len(text) - low :]


def _head_fitting(text: str, count_tokens: Callable[[str], int], room: int) -> str:
    reversed_tail = _tail_fitting(text[::-1], lambda t: count_tokens(t[::-1]), room)
    return reversed_tail[::-1]


# Quotes a small model may put around its whole answer: opening -> closing.
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u300c": "\u300d", "\u300e": "\u300f"}


def clean_result(text: str) -> str:
    """Strip what small models add around an answer: the <<< >>> markers, a preamble line
    ("Here is the rewritten passage:", "以下是改写后的段落："), quotes around all of it."""
    cleaned = text.strip()
    for marker in ("<<<", ">>>"):
        cleaned = cleaned.replace(marker, "")
    cleaned = cleaned.strip()
    first, _, rest = cleaned.partition("\n")
    if rest.strip() and first.rstrip().endswith((":", "\uff1a")) and len(first) < 80:
        cleaned = rest.strip()
    opening, closing = cleaned[:1], _QUOTES.get(cleaned[:1])
    inner = cleaned[1:-1]
    # Only quotes around the whole answer: dialogue such as “好，”她说，“走吧。” keeps its own.
    # (A straight single quote inside is an apostrophe: 'It's late' loses its quotes.)
    if len(cleaned) > 1 and cleaned[-1] == closing and (opening == "'" or closing not in inner):
        cleaned = inner.strip()
    return cleaned


_FOOTNOTE = re.compile(r"\[\^(\d+)\]")


def cite_as_footnotes(draft: str, answer: str, labels: Sequence[str]) -> tuple[str, str]:
    """An answer's [n] citations (n naming labels[n - 1]) as Markdown footnotes numbered after
    the draft's own: the answer with [^k] marks, and the definitions to add at the end."""
    start = max((int(n) for n in _FOOTNOTE.findall(draft)), default=0)
    numbers: dict[int, int] = {}

    def mark(n: int) -> str:
        return f"[^{numbers.setdefault(n, start + len(numbers) + 1)}]"

    marked = replace_citations(answer, set(range(1, len(labels) + 1)), mark)
    notes = "\n".join(f"[^{k}]: {labels[n - 1]}" for n, k in numbers.items())
    return marked, notes
