"""The ratings page: the contestants ranked by the votes (Bradley–Terry), each with its
number of votes and a 95% interval; the votes export to JSON or CSV."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QLocale, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.session.compare import BOOTSTRAP_ROUNDS, Rating, export_votes, rate
from desktop_app.store import Store
from desktop_app.ui.status import StatusReporter, reports_problems


class RatingsWidget(QWidget):
    def __init__(self, store: Store, reporter: StatusReporter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.reporter = reporter
        self.ratings: list[Rating] = []
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("compare-ratings")
        self.table.setAccessibleName(self.tr("Ratings"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Rank"),
                self.tr("Model and settings"),
                self.tr("Score"),
                self.tr("95% interval"),
                self.tr("Votes"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.note = QLabel(
            self.tr(
                "Ranked by a Bradley–Terry model of the votes, on the Elo scale (1000 is average; 400 points "
                "more means ten times the odds of being preferred). A tie or “both bad” counts as half a win "
                "for each. The interval comes from {rounds} resamples of the votes."
            ).format(rounds=BOOTSTRAP_ROUNDS)
        )
        self.note.setWordWrap(True)
        self.export_json_button = QPushButton(self.tr("Export as JSON…"))
        self.export_csv_button = QPushButton(self.tr("Export as CSV…"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.export_json_button)
        buttons.addWidget(self.export_csv_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.export_json_button.clicked.connect(lambda: self.export("json"))
        self.export_csv_button.clicked.connect(lambda: self.export("csv"))

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not rank the votes"))
    def refresh(self) -> None:
        voted = self.store.votes.all(voted_only=True)
        self.ratings = rate(voted)
        locale, scores = QLocale(), QLocale()
        scores.setNumberOptions(QLocale.NumberOption.OmitGroupSeparator)  # Elo scores read "1280"
        self.table.setRowCount(len(self.ratings))
        for row, rating in enumerate(self.ratings):
            votes = self.tr("{votes} ({wins} won, {ties} tied, {losses} lost)").format(
                votes=locale.toString(rating.votes),
                wins=locale.toString(rating.wins),
                ties=locale.toString(rating.ties),
                losses=locale.toString(rating.losses),
            )
            cells = [
                locale.toString(row + 1),
                rating.label,
                scores.toString(round(rating.score)),
                f"{scores.toString(round(rating.low))} – {scores.toString(round(rating.high))}",
                votes,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column != 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        if not voted:
            self.summary.setText(self.tr("No votes yet: compare two answers and say which is better."))
        elif len(voted) == 1:
            self.summary.setText(self.tr("1 vote so far."))
        else:
            self.summary.setText(self.tr("{count} votes so far.").format(count=locale.toString(len(voted))))
        self.export_json_button.setEnabled(bool(voted))
        self.export_csv_button.setEnabled(bool(voted))

    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not export the votes"))
    def export(self, fmt: str) -> None:
        path = self.ask_save_path(fmt)
        if path is None:
            return
        if not path.suffix:
            path = path.with_suffix(f".{fmt}")
        count = export_votes(self.store, path, fmt)
        done = self.tr("Exported 1 vote to {path}.") if count == 1 else self.tr("Exported {count} votes to {path}.")
        self.reporter.show(done.format(count=QLocale().toString(count), path=path), 6000)

    def ask_save_path(self, fmt: str) -> Path | None:
        """The Save dialog (tests replace it)."""
        name = self.tr("Votes (*.{format})").format(format=fmt)
        chosen, _ = QFileDialog.getSaveFileName(self, self.tr("Export the votes"), f"inkwell-votes.{fmt}", name)
        return Path(chosen) if chosen else None
