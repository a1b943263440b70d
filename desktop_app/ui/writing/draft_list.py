"""The writing mode's left side: New draft (blank or from a template), search, and the
drafts with their menu (rename, duplicate, export, delete to the trash with Undo)."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QMenu, QToolButton, QVBoxLayout, QWidget

from desktop_app.core.errors import UserError
from desktop_app.core.presets import DraftTemplate
from desktop_app.store import Store
from desktop_app.ui.status import StatusReporter


class OpenDraft(Protocol):
    """The draft open in the editor: the list acts on it, and has it saved before it
    changes the store (a copy or the trash keeps the latest text)."""

    @property
    def draft_id(self) -> str | None: ...

    def save(self) -> None: ...


class DraftListPane(QWidget):
    """Lists the drafts (or search hits), makes new ones, and acts on the open one."""

    open_requested = Signal(str)  # show this draft: picked in the list, a copy, or back from the trash
    created = Signal(str, str)  # a new draft's id, its template's instruction ("" for a blank one)
    removed = Signal(str)  # the open draft went to the trash
    rename_requested = Signal()
    export_requested = Signal()

    def __init__(
        self,
        store: Store,
        templates: tuple[DraftTemplate, ...],
        reporter: StatusReporter,
        open_draft: OpenDraft,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.templates = templates
        self.reporter = reporter
        self.open_draft = open_draft
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText(self.tr("Search drafts"))
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName(self.tr("Search drafts"))
        self.new_button = QToolButton()
        self.new_button.setText(self.tr("New draft"))
        self.new_button.setAccessibleName(self.tr("New draft"))
        self.new_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.template_menu = QMenu(self.new_button)
        for template in self.templates:
            label = self.tr("From template: {name}").format(name=template.name)
            self.template_menu.addAction(label).setData(template.id)
        self.new_button.setMenu(self.template_menu)
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Drafts"))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        layout = QVBoxLayout(self)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search_box)
        layout.addWidget(self.list)
        self.rename_action = QAction(self.tr("Rename"), self.list)
        self.duplicate_action = QAction(self.tr("Duplicate"), self.list)
        self.export_action = QAction(self.tr("Export…"), self.list)
        self.delete_action = QAction(self.tr("Delete"), self.list)
        self.delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.list.addAction(self.delete_action)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.new_button.clicked.connect(lambda: self.new_draft())
        self.template_menu.triggered.connect(self._on_template_menu_triggered)
        self.search_box.textChanged.connect(self.refresh)
        self.list.currentItemChanged.connect(self._on_list_current_changed)
        self.list.customContextMenuRequested.connect(self._on_list_context_menu)
        self.rename_action.triggered.connect(self.rename_requested)
        self.duplicate_action.triggered.connect(self.duplicate_current)
        self.export_action.triggered.connect(self.export_requested)
        self.delete_action.triggered.connect(self.delete_current)

    @Slot()
    def refresh(self) -> None:
        """The drafts, or the search hits while the search box has text; the open one current."""
        self.list.blockSignals(True)
        self.list.clear()
        query = self.search_box.text().strip()
        if query:
            try:
                hits = [h for h in self.store.search.search(query) if h.draft_id]
            except UserError:
                hits = []
            drafts = [(h.draft_id, f"{h.title}\n   {h.plain_snippet('', '')}") for h in hits]
        else:
            drafts = [(d.id, d.title) for d in self.store.drafts.all()]
        for draft_id, text in drafts:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, draft_id)
            self.list.addItem(item)
            if draft_id == self.open_draft.draft_id:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_list_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.open_requested.emit(current.data(Qt.ItemDataRole.UserRole))

    @Slot(QPoint)
    def _on_list_context_menu(self, position: QPoint) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        self.list.setCurrentItem(item)
        menu = QMenu(self.list)
        menu.addActions([self.rename_action, self.duplicate_action, self.export_action, self.delete_action])
        menu.exec(self.list.viewport().mapToGlobal(position))

    @Slot(QAction)
    def _on_template_menu_triggered(self, action: QAction) -> None:
        self.new_draft(action.data())

    def new_draft(self, template_id: str | None = None) -> None:
        self.open_draft.save()
        template = next((t for t in self.templates if t.id == template_id), None)
        draft = self.store.drafts.create(template.title, template.body) if template else self.store.drafts.create()
        self.created.emit(draft.id, template.instruction if template is not None else "")
        self.refresh()
        if template is not None:
            self.reporter.show(
                self.tr("Fill in the [brackets], or ask the co-writer: “{instruction}”").format(
                    instruction=template.instruction
                ),
                10_000,
            )

    @Slot()
    def duplicate_current(self) -> None:
        draft_id = self.open_draft.draft_id
        if draft_id is not None:
            self.open_draft.save()
            copy = self.store.drafts.duplicate(draft_id)
            self.open_requested.emit(copy.id)
            self.refresh()

    @Slot()
    def delete_current(self) -> None:
        """To the trash, with Undo in the status bar for a few seconds."""
        draft_id = self.open_draft.draft_id
        if draft_id is None:
            return
        self.open_draft.save()
        self.store.drafts.delete(draft_id)
        self.removed.emit(draft_id)
        self.refresh()
        self.reporter.offer_undo(self.tr("Draft moved to the trash."), lambda: self._restore(draft_id))

    def _restore(self, draft_id: str) -> None:
        self.store.drafts.restore(draft_id)
        self.open_requested.emit(draft_id)
        self.refresh()
