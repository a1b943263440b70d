"""`inkwell ask`: one prompt answered, streamed or as JSON; from documents (`--docs`), as a
raw continuation (`--raw`), or with tools (`--tools`, whose rounds of calls the session
layer runs); with speculative decoding as `--speculation` and `--draft` say. Naming a server (or a built-in tool) in `--tools` is the user's consent to run
its tools for that one command; the window asks per tool."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.session.tools import ToolRunner, ToolSettings, catalog
from desktop_app.store import Store
from desktop_app.tools.builtin import BUILTIN, BUILTIN_TOOLS
from desktop_app.tools.toolbox import Toolbox


def run(args: argparse.Namespace, settings: GenerationSettings, loader: Callable[[], Any]) -> int:
    """`inkwell ask`: `settings` and `loader` are what the arguments name (cli.py reads them)."""
    from desktop_app.engine import Finished, GenerationRequest, ReasoningChunk, TextChunk

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise UserError("The prompt is empty.")
    engine = loader()
    _speculation(args, engine)
    grounding = None
    if args.docs:
        from desktop_app.models.registry import default_registry
        from desktop_app.session.grounding import ground
        from desktop_app.session.retrieval import Retriever
        from desktop_app.store import open_store

        store = open_store()
        try:
            reserve = engine.count_tokens(prompt) + engine.count_tokens(args.system or "") + settings.max_new_tokens
            library = Retriever(store, default_registry())
            grounding = ground(library, prompt, args.docs, engine.context_length, engine.count_tokens, reserve)
        finally:
            store.close()
    if args.raw:
        if args.system or grounding or args.tools:
            raise UserError("--raw continues the text as it is, so it takes no --system prompt, --docs or --tools.")
        request = GenerationRequest(prompt=prompt, settings=settings)
    else:
        system = "\n\n".join(s for s in (args.system, grounding.system_prompt() if grounding else "") if s)
        messages = ([ChatMessage("system", system)] if system else []) + [ChatMessage("user", prompt)]
        request = GenerationRequest(messages=tuple(messages), settings=settings)
    shown = -1

    def show(event: object) -> None:
        nonlocal shown
        if isinstance(event, TextChunk) and not args.json:
            if settings.num_alternatives > 1 and event.index != shown:
                shown = event.index
                sys.stdout.write(f"--- version {event.index + 1} ---\n")
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif isinstance(event, ReasoningChunk) and not args.json:  # the thinking, apart from the answer
            sys.stderr.write(event.text)
            sys.stderr.flush()
        elif isinstance(event, Finished) and not args.json and (event.text or not event.tool_calls):
            sys.stdout.write("\n")

    uses: list[Any] = []
    if args.tools:
        results, uses = _ask_with_tools(args, engine, request, show)
    else:
        results = []
        for event in engine.generate(request):
            show(event)
            if isinstance(event, Finished):
                results.append(event)
    if args.json:
        payload = [_result_json(engine, r, grounding) for r in results]
        if args.tools:
            payload[0]["tool_calls"] = [use.to_dict() for use in uses]
        print(json.dumps(payload[0] if len(payload) == 1 else {"alternatives": payload}, ensure_ascii=False))
    else:
        last = results[-1].stats
        accepted = (
            f", {100 * last.accepted_tokens / last.proposed_tokens:.0f}% of {last.proposed_tokens} proposed accepted"
            if last.proposed_tokens
            else ""
        )
        print(
            f"[{last.generated_tokens} tokens, {last.tokens_per_s:.1f} tokens/s{accepted}, first token "
            f"{last.ttft_ms:.0f} ms, {engine.provider.label}, {last.finish_reason.value}]",
            file=sys.stderr,
        )
    return 0


def _speculation(args: argparse.Namespace, engine: Any) -> None:
    """--speculation and --draft on the loaded engine (a remote one has none of its own)."""
    if args.draft and args.speculation != "auto":
        raise UserError("--draft proposes tokens with --speculation auto only.")
    if not hasattr(engine, "speculation"):
        if args.draft:
            raise UserError("A draft model works with a model on this computer, not a model server's.")
        return
    from desktop_app.engine.speculation import SpeculationSettings

    if args.speculation != "off" and not engine.model.verifies:
        print("inkwell: this model was prepared before speed-up existed; import it again to use it.", file=sys.stderr)
        engine.speculation = SpeculationSettings("off")
        return
    if args.speculation != "off" and not getattr(engine, "checks_exactly", True):
        print(
            "inkwell: speed-up is off for this model: its checked tokens could come out slightly unlike decoded "
            "ones (weights on ONNX Runtime's kernels, or the GPU).",
            file=sys.stderr,
        )
        engine.speculation = SpeculationSettings("off")
        return
    draft = None
    if args.draft:
        from desktop_app.engine.loading import load_draft
        from desktop_app.models.registry import default_registry

        draft = load_draft(default_registry().get(args.draft).directory, engine, args.threads)
    engine.speculation = SpeculationSettings(args.speculation, draft)


def _ask_with_tools(
    args: argparse.Namespace, engine: Any, request: Any, show: Callable[[object], None]
) -> tuple[list[Any], list[Any]]:
    """`ask --tools`: the rounds of calls until the model answers (tools/, session/tools.py)."""
    from dataclasses import replace

    from desktop_app.models.registry import default_registry
    from desktop_app.session.retrieval import Retriever, passages_text
    from desktop_app.session.tools import answer_with_tools
    from desktop_app.store import open_store

    if request.settings.num_alternatives > 1 or request.settings.beam_search:
        raise UserError("--tools writes one reply: it takes no --alternatives or --num-beams.")
    store = open_store()
    try:
        library = Retriever(store, default_registry())
        names = [name.strip() for name in args.tools.split(",") if name.strip()]
        toolbox, runner, _problems = ask_toolbox(
            store, names, lambda query: passages_text(library.search(query, limit=5))
        )
        if not toolbox:
            raise UserError("None of the tools named could be reached, so there is nothing to call.")
        request = replace(request, tools=toolbox.definitions(), tool_choice=args.tool_choice)

        def report(made: list[Any]) -> None:
            if not args.json:
                for use in made:
                    outcome = "error: " if use.error else ""
                    print(
                        f"[tool {use.call.name}({use.call.arguments}) → {outcome}{use.result[:200]}]", file=sys.stderr
                    )

        finished, uses = answer_with_tools(request, engine.generate, runner, show, report)
    finally:
        store.close()
    if finished is None:
        raise UserError("The model did not answer.")
    return [finished], uses


def _result_json(engine: Any, finished: Any, grounding: Any = None) -> dict[str, Any]:
    stats = finished.stats
    sources = {}
    if grounding is not None:
        from desktop_app.session.grounding import source_json

        sources = {"sources": source_json(grounding, finished.text)}
    reasoning = {"reasoning": finished.reasoning} if finished.reasoning else {}
    return {
        **sources,
        "text": finished.text,
        **reasoning,
        "model": engine.manifest.id,
        "quantization": engine.variant.quantization,
        "provider": engine.provider.name,
        "provider_reason": engine.provider.reason,
        "prompt_tokens": stats.prompt_tokens,
        "generated_tokens": stats.generated_tokens,
        "ttft_ms": round(stats.ttft_ms, 2),
        "tokens_per_s": round(stats.tokens_per_s, 2),
        "finish_reason": stats.finish_reason.value,
        "seed": stats.seed,
        "proposed_tokens": stats.proposed_tokens,
        "accepted_tokens": stats.accepted_tokens,
        **{key: stats.extra[key] for key in ("num_beams", "beam_score") if key in stats.extra},
    }


def ask_toolbox(store: Store, names: list[str], search: Any = None) -> tuple[Toolbox, ToolRunner, list[str]]:
    """The tools `ask --tools NAME,...` names (servers, built-in tools, or "builtin" for all
    of them): naming them is the consent. Also the problems of servers that did not list."""
    settings = ToolSettings(store)
    servers = {server.name: server for server in settings.servers()}
    builtin_names = {tool.name for tool in BUILTIN_TOOLS}
    chosen_servers, chosen_builtins = [], []
    for name in names:
        if name == BUILTIN:
            chosen_builtins += sorted(builtin_names)
        elif name in builtin_names:
            chosen_builtins.append(name)
        elif name in servers:
            chosen_servers.append(servers[name])
        else:
            known = ", ".join([*servers, *sorted(builtin_names), BUILTIN])
            raise UserError(f"There is no tool server or built-in tool named {name}.", hint=f"Known: {known}.")
    found = catalog(chosen_servers, chosen_builtins)
    for problem in found.problems:
        print(f"inkwell: {problem}", file=sys.stderr)
    toolbox = Toolbox(found.tools, found.servers, search)
    return toolbox, ToolRunner(toolbox, lambda _key: "allow"), list(found.problems)
