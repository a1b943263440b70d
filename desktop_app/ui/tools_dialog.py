"""Settings › Tools: the MCP tool servers (a command that starts one, or its URL), what each
of their tools may do, and the built-in tools."""

from __future__ import annotations

import shlex

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import UserError
from desktop_app.session.tools import PERMISSIONS, Catalog
from desktop_app.tools.builtin import BUILTIN_TOOLS
from desktop_app.tools.mcp_host import McpServer
from desktop_app.ui.tool_catalog import ToolCatalog

EXPLANATION = QT_TRANSLATE_NOOP(
    "ToolsDialog",
    "Models can call the tools of the MCP servers you add here. A server is a program Inkwell "
    "starts on this computer exactly as you write it, or an address. No tool runs without your "
    "consent: each one asks every time unless you allow it always, or never offers it at all. "
    "Nothing reaches the network unless you add a server that does.",
)
PERMISSION_LABELS = {
    "ask": QT_TRANSLATE_NOOP("ToolsDialog", "Ask each time"),
    "allow": QT_TRANSLATE_NOOP("ToolsDialog", "Always allow"),
    "deny": QT_TRANSLATE_NOOP("ToolsDialog", "Never"),
}


class ToolsDialog(QDialog):
    def __init__(self, catalog: ToolCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # (closed, it lets go of the catalog's signal)
        self.setWindowTitle(self.tr("Tools"))
        self.resize(640, 560)
        self.catalog = catalog
        self.settings = catalog.settings
        explanation = QLabel(QCoreApplication.translate("ToolsDialog", EXPLANATION))
        explanation.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([self.tr("Server and tool"), self.tr("Permission")])
        self.tree.setAccessibleName(self.tr("Tool servers and their tools"))
        self.tree.setColumnWidth(0, 380)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("files")
        self.name_edit.setAccessibleName(self.tr("Server name"))
        self.where_edit = QLineEdit()
        self.where_edit.setPlaceholderText("npx -y @modelcontextprotocol/server-filesystem ~/Notes")
        self.where_edit.setAccessibleName(self.tr("Command or address"))
        self.where_edit.setToolTip(self.tr("The command that starts the server, or its http(s):// address"))
        self.add_button = QPushButton(self.tr("Add server"))
        self.remove_button = QPushButton(self.tr("Remove server"))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("&Name"), self.name_edit)
        form.addRow(self.tr("&Command or address"), self.where_edit)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        servers = QGroupBox(self.tr("Tool servers"))
        servers_layout = QVBoxLayout(servers)
        servers_layout.addWidget(self.tree, 1)
        servers_layout.addLayout(form)
        servers_layout.addLayout(row)
        servers_layout.addWidget(self.message)
        builtins = QGroupBox(self.tr("Built-in tools"))
        builtins_layout = QVBoxLayout(builtins)
        names = {
            "current_time": self.tr("The date and time"),
            "calculator": self.tr("A calculator"),
            "search_documents": self.tr("Search my documents"),
        }
        self.builtin_boxes: dict[str, QCheckBox] = {}
        for tool in BUILTIN_TOOLS:
            box = QCheckBox(names.get(tool.name, tool.name))
            box.setToolTip(tool.description)
            box.setChecked(tool.name in self.settings.builtins())
            box.toggled.connect(lambda on, name=tool.name: self._on_builtin_toggled(name, on))
            self.builtin_boxes[tool.name] = box
            builtins_layout.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(servers, 1)
        layout.addWidget(builtins)
        layout.addWidget(buttons)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        catalog.changed.connect(self._show)
        self._refresh()

    def _refresh(self) -> None:
        if self.settings.servers():
            self.message.setText(self.tr("Asking the servers for their tools…"))
        self.catalog.refresh()
        self._show(self.catalog.current)

    @Slot(object)
    def _show(self, found: Catalog) -> None:
        self.tree.clear()
        listed = {tool.server for tool in found.tools}
        for server in self.settings.servers():
            item = QTreeWidgetItem([f"{server.name}  ({server.where})", ""])
            item.setData(0, 0x0100, server.name)  # Qt.UserRole: the server's name
            self.tree.addTopLevelItem(item)
            problem = next((p for p in found.problems if f" {server.name} " in p), None)
            if problem:
                QTreeWidgetItem(item, [problem, ""])
            for tool in (t for t in found.tools if t.server == server.name):
                child = QTreeWidgetItem(item, [tool.name, ""])
                child.setToolTip(0, tool.description)
                self.tree.setItemWidget(child, 1, self._permission_box(f"{server.name}/{tool.name}"))
            item.setExpanded(True)
            if not problem and server.name not in listed and found is self.catalog.current and found.servers:
                QTreeWidgetItem(item, [self.tr("No tools"), ""])
        if found.servers or not self.settings.servers():
            self.message.setText("")

    def _permission_box(self, key: str) -> QComboBox:
        box = QComboBox()
        box.setAccessibleName(self.tr("Permission of {tool}").format(tool=key))
        for value in PERMISSIONS:
            box.addItem(QCoreApplication.translate("ToolsDialog", PERMISSION_LABELS[value]), value)
        box.setCurrentIndex(box.findData(self.settings.permission(key)))
        box.currentIndexChanged.connect(lambda _i, b=box: self.settings.set_permission(key, b.currentData()))
        return box

    @Slot()
    def _on_add_clicked(self) -> None:
        where = self.where_edit.text().strip()
        try:
            if where.startswith(("http://", "https://")):
                server = McpServer(self.name_edit.text().strip(), url=where)
            else:
                try:
                    command = tuple(shlex.split(where))
                except ValueError as exc:
                    raise UserError(self.tr("The command cannot be read: {error}.").format(error=exc)) from None
                server = McpServer(self.name_edit.text().strip(), command)
            self.settings.add_server(server)
        except UserError as exc:
            self.message.setText(exc.message)
            return
        self.name_edit.clear()
        self.where_edit.clear()
        self._refresh()

    @Slot()
    def _on_remove_clicked(self) -> None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        if item is None:
            self.message.setText(self.tr("Choose a server in the list first."))
            return
        self.settings.remove_server(item.data(0, 0x0100))
        self._refresh()

    def _on_builtin_toggled(self, name: str, on: bool) -> None:
        self.settings.set_builtin(name, on)
        self.catalog.refresh()
