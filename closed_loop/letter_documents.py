"""The outcome letter as a PDF, from the same template as its page's letter, by WeasyPrint
(a maintained HTML-to-PDF library; it needs Debian's Pango, which `make install` checks)."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.document import Document

from closed_loop.models import OutcomeLetter


def laid_out(letter: OutcomeLetter, *, person=None) -> Document:
    """The letter laid out on A4 pages (one, unless what was recorded runs long), naming
    the person as given (the record, unless the reader may only see what they sent)."""
    html = render_to_string(
        "closed_loop/letter_document.html", {"letter": letter, "person": person or letter.patient}
    )
    return HTML(string=html).render(stylesheets=[CSS(filename=finders.find("css/letter.css"))])


def pdf_of(letter: OutcomeLetter, *, person=None) -> bytes:
    return laid_out(letter, person=person).write_pdf()
