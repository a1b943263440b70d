"""The built-in tools, each off until the user turns it on: the date and time, a
calculator, and a search of the user's documents (given by the session layer, which owns
the library). None of them reaches the network."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

from desktop_app.tools.mcp_host import ToolInfo, ToolResult

BUILTIN = "builtin"

CURRENT_TIME = ToolInfo(
    BUILTIN,
    "current_time",
    "The current local date, time, weekday and time zone of the user's computer.",
    {"type": "object", "properties": {}, "additionalProperties": False},
)
CALCULATOR = ToolInfo(
    BUILTIN,
    "calculator",
    "Evaluates an arithmetic expression exactly as written: + - * / // % ** and parentheses, "
    "numbers, pi and e, and sqrt, log, exp, sin, cos, tan, abs, round, floor, ceil.",
    {
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "for example (17 * 3) / 4"}},
        "required": ["expression"],
        "additionalProperties": False,
    },
)
SEARCH_DOCUMENTS = ToolInfo(
    BUILTIN,
    "search_documents",
    "Searches the user's own documents (the library's collections) and returns the best passages with their sources.",
    {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "what to look for"}},
        "required": ["query"],
        "additionalProperties": False,
    },
)
BUILTIN_TOOLS = (CURRENT_TIME, CALCULATOR, SEARCH_DOCUMENTS)

_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "log": math.log,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_MAX_BITS = 100_000  # a result larger than this (9 ** 9 ** 9, say) would take the computer down


def calculate(expression: str) -> float | int:
    """The value of an arithmetic expression; ValueError says what is wrong with it."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from None
    value = _value(tree.body)
    if not isinstance(value, int | float):
        raise ValueError(f"{expression!r} is not a number")
    return value


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and _bits(left) * abs(right) > _MAX_BITS:
            raise ValueError("the result is too large")
        if isinstance(node.op, ast.Mult) and _bits(left) + _bits(right) > _MAX_BITS:
            raise ValueError("the result is too large")
        try:
            return _OPERATORS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ValueError("division by zero") from None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_value(arg) for arg in node.args))
    raise ValueError(f"{ast.unparse(node)!r} is not arithmetic")


def _bits(value: Any) -> float:
    """About how many bits a number's magnitude takes."""
    if isinstance(value, int):
        return max(abs(value).bit_length(), 1)
    return 64.0  # a float cannot grow past its range (it overflows, which is caught)


def run_builtin(name: str, arguments: dict[str, Any], search: Callable[[str], str] | None = None) -> ToolResult:
    """Run a built-in tool; errors come back as error results."""
    if name == CURRENT_TIME.name:
        now = datetime.now().astimezone()
        return ToolResult(now.strftime("%A %d %B %Y, %H:%M:%S ") + (now.tzname() or "") + f" (UTC{now:%z})")
    if name == CALCULATOR.name:
        try:
            value = calculate(str(arguments.get("expression", "")))
        except (ValueError, TypeError, OverflowError) as exc:
            return ToolResult(f"Cannot calculate: {exc}.", error=True)
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        if isinstance(value, int) and value.bit_length() > 3_000:  # more digits than are worth writing out
            return ToolResult(f"a number of about {int(value.bit_length() * 0.30103) + 1} digits")
        return ToolResult(str(value))
    if name == SEARCH_DOCUMENTS.name and search is not None:
        return ToolResult(search(str(arguments.get("query", ""))) or "Nothing in the user's documents matches.")
    return ToolResult(f"There is no built-in tool {name}.", error=True)
