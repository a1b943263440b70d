"""The tools the window offers in its chats: the built-ins the user turned on and the tools
of the user's MCP servers, listed in the background (each server is started to ask), less
the tools the user set to Never. Also the rounds of calls of a reply: the consent asked on
the GUI thread, then the calls run on a thread of their own."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_app.core.chat import ToolCall
from desktop_app.core.records import ToolUse
from desktop_app.session.chat import Turn
from desktop_app.session.retrieval import Retriever, passages_text
from desktop_app.session.tools import Catalog, ToolRunner, ToolSettings, catalog
from desktop_app.store import Store
from desktop_app.store.db import another_connection
from desktop_app.tools.toolbox import Toolbox, ToolEntry

log = logging.getLogger(__name__)


def _tell(signal: Any, *values: object) -> None:
    """Emit from a worker thread; the window may have closed meanwhile (then no one listens)."""
    try:
        signal.emit(*values)
    except RuntimeError:  # "Signal source has been deleted": the catalog went with the window
        log.info("A tool thread finished after its window closed")


class ToolCatalog(QObject):
    """What the chats may call, kept up to date; `toolbox()` is ChatSession's `tools`."""

    changed = Signal(object)  # Catalog: listed again (its problems are the servers that failed)
    calls_done = Signal(object, object)  # Turn, list[ToolUse]: a round of calls ran
    _listed = Signal(object, int)
    _ran = Signal(object, object)

    def __init__(self, store: Store, library: Retriever, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = ToolSettings(store)
        self.library = library
        self.current = Catalog((), ())
        self._generation = 0
        self._listed.connect(self._on_listed)
        self._ran.connect(self._on_ran)

    def refresh(self) -> None:
        """List the servers' tools again, in the background; `changed` follows."""
        self._generation += 1
        generation, servers, builtins = self._generation, self.settings.servers(), self.settings.builtins()
        self.current = catalog([], builtins)  # the built-ins at once: they need no listing
        if not servers:
            self.changed.emit(self.current)
            return
        threading.Thread(
            target=lambda: _tell(self._listed, catalog(servers, builtins), generation), name="tool-listing", daemon=True
        ).start()

    @Slot(object, int)
    def _on_listed(self, found: Catalog, generation: int) -> None:
        if generation == self._generation:  # an older listing is old news
            self.current = found
            for problem in found.problems:
                log.warning("Tools: %s", problem)
            self.changed.emit(found)

    def toolbox(self) -> Toolbox | None:
        """The tools a new reply is offered (none set to Never); None when there are none."""
        offered = [t for t in self.current.tools if self.settings.permission(f"{t.server}/{t.name}") != "deny"]
        toolbox = Toolbox(offered, self.current.servers, self._search)
        return toolbox or None

    def _search(self, query: str) -> str:
        """The documents search tool, on the calls' thread: its own connection to the store."""
        store = another_connection(self.store)
        try:
            return passages_text(Retriever(store, self.library.registry).search(query, limit=5))
        finally:
            store.close()

    # ---- a round of calls ----

    def run_calls(self, turn: Turn, parent: QWidget) -> None:
        """Ask for the calls that need it, then run them off the GUI thread; `calls_done`
        follows (the reply goes on with the results, refusals included)."""
        assert turn.toolbox is not None
        # The store is the GUI thread's: the permissions and the answers are read here, first.
        permissions = {entry.key: self.settings.permission(entry.key) for entry in turn.toolbox.entries}
        allowed: dict[str, bool] = {}
        for call in turn.calls:
            entry = turn.toolbox.entry(call.name)
            if entry is not None and permissions[entry.key] == "ask" and call.id not in allowed:
                allowed[call.id] = self._ask(entry, call, parent)
                permissions = {e.key: self.settings.permission(e.key) for e in turn.toolbox.entries}  # "always"
        runner = ToolRunner(turn.toolbox, permissions.__getitem__, lambda _entry, call: allowed.get(call.id, False))
        calls, round_ = turn.calls, turn.round

        def work() -> None:
            try:
                uses = runner.run(calls, round_)
            except Exception as exc:  # (the toolbox reports a tool's failure itself: this is a bug)
                log.exception("Running the tool calls failed")
                uses = [ToolUse(call, f"The call could not be made: {exc}", True, "", round_) for call in calls]
            _tell(self._ran, turn, uses)  # always: the reply waits for it

        threading.Thread(target=work, name="tool-calls", daemon=True).start()

    @Slot(object, object)
    def _on_ran(self, turn: Turn, uses: Sequence[ToolUse]) -> None:
        self.calls_done.emit(turn, list(uses))

    def _ask(self, entry: ToolEntry, call: ToolCall, parent: QWidget) -> bool:
        """The user's consent to one call: Allow, Always allow (kept), or Don't allow."""
        where = (
            self.tr("a built-in tool")
            if entry.server is None
            else self.tr("the tool server {name}").format(name=entry.info.server)
        )
        try:
            arguments = json.dumps(json.loads(call.arguments or "{}"), ensure_ascii=False, indent=2)
        except ValueError:
            arguments = call.arguments
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Allow this tool?"))
        box.setText(self.tr("The model wants to call {tool} ({where}).").format(tool=entry.info.name, where=where))
        box.setInformativeText(self.tr("With these arguments:") + "\n" + arguments[:1500])
        once = box.addButton(self.tr("Allow"), QMessageBox.ButtonRole.AcceptRole)
        always = box.addButton(self.tr("Always allow"), QMessageBox.ButtonRole.AcceptRole)
        refuse = box.addButton(self.tr("Don't allow"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(refuse)
        box.exec()
        clicked = box.clickedButton()
        if clicked is always:
            self.settings.set_permission(entry.key, "allow")
        return clicked in (once, always)
