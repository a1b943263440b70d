"""Errors Inkwell distinguishes: the user's (shown as a message) and bugs (logged with traceback)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a problem in the environment that the user can act on.

    The message is shown as it is, without a traceback; `hint` says what to do next.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ContextOverflowError(UserError):
    """A prompt that cannot fit the model's context window even after trimming."""


class ModelNotFoundError(UserError):
    """The requested model is not installed (or not prepared yet)."""
