"""What the links under a message do: one enum member each, decoded from the link once."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class MessageAction(str, Enum):
    COPY = "copy"
    COPY_CODE = "copy-code"
    EDIT = "edit"
    REGENERATE = "regenerate"
    TO_DRAFT = "to-draft"
    DELETE = "delete"
    BRANCH = "branch"  # show another version of the message
    SOURCE = "source"  # show a cited passage (`block` is its number)
    COMPARE = "compare"  # the question goes to Compare mode, for two models to answer

    @property
    def changes_the_chat(self) -> bool:
        """Whether it must wait while a reply in this chat is being written."""
        return self in (MessageAction.EDIT, MessageAction.REGENERATE, MessageAction.DELETE, MessageAction.BRANCH)


@dataclass(frozen=True)
class MessageRequest:
    """An action on a message; `block` is the code block's index for COPY_CODE, the
    source's number for SOURCE."""

    action: MessageAction
    message_id: str
    block: int | None = None

    @classmethod
    def parse(cls, path: str) -> MessageRequest | None:
        """From a link's path, "action/message id" ("copy-code/id/n"); None if unknown."""
        name, _, rest = path.partition("/")
        try:
            action = MessageAction(name)
        except ValueError:
            return None
        message_id, _, block = rest.partition("/")
        if not message_id:
            return None
        return cls(action, message_id, int(block) if block.isdigit() else None)

    def link(self) -> str:
        return f"{self.action.value}/{self.message_id}" + (f"/{self.block}" if self.block is not None else "")
