"""The small corpus the document tests write: a product manual, customer policies and a
support team's notes, with questions whose answers each sit in one passage."""

from __future__ import annotations

import io
from pathlib import Path

import docx

MANUAL = """# Aurora X2 router: user manual

## In the box

The box holds the Aurora X2 router, a 12 V power adapter, a flat network cable and this manual.

## Setting up

Place the router in an open spot, away from microwaves and thick walls.
Connect the yellow WAN port to your modem with the flat network cable.
Wait until the status light turns solid green; this takes about two minutes.

## Wi-Fi

The default network name is printed on the label under the router, as AURORA-followed by six letters.
The default Wi-Fi password is the eight-digit PIN on the same label.
To change the password, open http://192.168.8.1 in a browser and choose Wireless settings.

## Factory reset

Hold the recessed reset button with a paper clip for fifteen seconds.
The status light blinks amber while the router restores its factory settings.

## Lights

A blinking red light means the router has no internet connection: check the modem.
A solid blue light means a firmware update is being installed; do not unplug the router.

## Specifications

Wi-Fi 6 (802.11ax), dual band 2.4 and 5 GHz, four gigabit LAN ports, power draw 9 watts.
"""

POLICIES = """# Customer policies

## Returns

Customers may return unused products within 45 days of delivery for a full refund.
Opened software and gift cards cannot be returned.

## Refund timing

Refunds go back to the original payment method within 7 business days of the return arriving at our warehouse.

## Warranty

All routers carry a three-year limited warranty covering manufacturing defects.
Damage from power surges or liquids is not covered.

## Shipping

Standard shipping is free on orders over 60 euros and takes 3 to 5 working days.
Express shipping costs 12 euros and arrives the next working day when ordered before 2 pm.

## Privacy

We keep order records for six years, as tax law requires, and never sell customer data.
"""


NOTES = [
    ("Escalation", "Escalate to the second line after two failed remote sessions with the same customer."),
    ("Opening hours", "The phone line is open Monday to Friday from 8 am to 6 pm, and Saturday morning."),
    ("Tone", "Greet customers by name and never promise a delivery date we cannot check."),
]


def notes_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Support team notes", level=1)
    for heading, paragraph in NOTES:
        document.add_heading(heading, level=2)
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# (question, a phrase found only in the passage that answers it)
QUESTIONS = [
    ("What comes in the box with the router?", "12 V power adapter"),
    ("Which port do I connect to the modem?", "yellow WAN port"),
    ("How long until the status light turns green?", "about two minutes"),
    ("Where do I find the default network name?", "label under the router"),
    ("What is the default Wi-Fi password?", "eight-digit PIN"),
    ("How do I change the Wi-Fi password?", "Wireless settings"),
    ("How do I do a factory reset?", "paper clip for fifteen seconds"),
    ("What does a blinking red light mean?", "no internet connection"),
    ("Can I unplug the router when the light is blue?", "firmware update"),
    ("How much power does the router use?", "9 watts"),
    ("How many days do customers have to return a product?", "within 45 days"),
    ("Can gift cards be returned?", "gift cards cannot be returned"),
    ("How long does a refund take?", "7 business days"),
    ("How long is the warranty on routers?", "three-year limited warranty"),
    ("Are power surges covered by the warranty?", "power surges or liquids"),
    ("Is shipping free?", "free on orders over 60 euros"),
    ("How much does express shipping cost?", "Express shipping costs 12 euros"),
    ("How long do you keep order records?", "six years"),
    ("When should I escalate to the second line?", "two failed remote sessions"),
    ("When is the phone line open?", "Monday to Friday"),
    ("How should I greet customers?", "Greet customers by name"),
]


def write_corpus(folder: Path) -> Path:
    """The three documents, a file of a type the library does not read, and a hidden folder."""
    (folder / "policies").mkdir(parents=True)
    (folder / "manual.md").write_text(MANUAL, encoding="utf-8")
    (folder / "policies" / "customer-policies.md").write_text(POLICIES, encoding="utf-8")
    (folder / "notes.docx").write_bytes(notes_docx())
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n")  # a type the library does not read
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "secret.md").write_text("# Hidden\n\nnot for the library", encoding="utf-8")
    return folder


def corpus_texts() -> list[str]:
    """Every text of the corpus and its questions (the tiny embedding model's vocabulary)."""
    return [MANUAL, POLICIES, "Support team notes", *(f"{h} {p}" for h, p in NOTES), *(q for q, _a in QUESTIONS)]
