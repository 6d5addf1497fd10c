"""Rebuild founding-documents/declaration-of-independence.pdf: a real text PDF (not a scan) for the ingest demo.

Run from the repository root:  python data/own_docs/make_pdf.py

The text is the opening of the Declaration of Independence (public domain), following the U.S. National
Archives transcription: the heading and the first two paragraphs, through "let Facts be submitted to a
candid world." The PDF is byte-reproducible: TrueType (Type 42) fonts so the text layer extracts cleanly,
one text() call per wrapped line, and no creation date in the metadata.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["pdf.fonttype"] = 42  # embed TrueType: pypdf then extracts words with their spaces

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

OUT = Path(__file__).resolve().parent / "founding-documents" / "declaration-of-independence.pdf"
TITLE = "The Declaration of Independence"

HEADING = [
    "IN CONGRESS, July 4, 1776.",
    "The unanimous Declaration of the thirteen united States of America,",
]

PARAGRAPHS = [
    "When in the Course of human events, it becomes necessary for one people to dissolve the political "
    "bands which have connected them with another, and to assume among the powers of the earth, the "
    "separate and equal station to which the Laws of Nature and of Nature's God entitle them, a decent "
    "respect to the opinions of mankind requires that they should declare the causes which impel them "
    "to the separation.",
    "We hold these truths to be self-evident, that all men are created equal, that they are endowed by "
    "their Creator with certain unalienable Rights, that among these are Life, Liberty and the pursuit "
    "of Happiness.--That to secure these rights, Governments are instituted among Men, deriving their "
    "just powers from the consent of the governed, --That whenever any Form of Government becomes "
    "destructive of these ends, it is the Right of the People to alter or to abolish it, and to "
    "institute new Government, laying its foundation on such principles and organizing its powers in "
    "such form, as to them shall seem most likely to effect their Safety and Happiness. Prudence, "
    "indeed, will dictate that Governments long established should not be changed for light and "
    "transient causes; and accordingly all experience hath shewn, that mankind are more disposed to "
    "suffer, while evils are sufferable, than to right themselves by abolishing the forms to which "
    "they are accustomed. But when a long train of abuses and usurpations, pursuing invariably the "
    "same Object evinces a design to reduce them under absolute Despotism, it is their right, it is "
    "their duty, to throw off such Government, and to provide new Guards for their future security."
    "--Such has been the patient sufferance of these Colonies; and such is now the necessity which "
    "constrains them to alter their former Systems of Government. The history of the present King of "
    "Great Britain is a history of repeated injuries and usurpations, all having in direct object the "
    "establishment of an absolute Tyranny over these States. To prove this, let Facts be submitted to "
    "a candid world.",
]

A4 = (8.27, 11.69)  # inches
WIDTH = 90  # characters per wrapped line
LEFT, TOP, LINE = 0.08, 0.93, 0.0185  # figure fractions


def text_lines() -> list[tuple[str, dict]]:
    """(line, text() keyword arguments) in page order; an empty line is a gap."""
    out = [(TITLE, {"fontsize": 16, "weight": "bold"}), ("", {})]
    out += [(h, {"fontsize": 11, "style": "italic"}) for h in HEADING]
    for para in PARAGRAPHS:
        out.append(("", {}))
        out += [(line, {"fontsize": 10}) for line in textwrap.wrap(para, WIDTH, break_on_hyphens=False)]
    return out


def main() -> Path:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig = plt.figure(figsize=A4)
    y = TOP
    for line, kw in text_lines():
        if line:
            fig.text(LEFT, y, line, family="DejaVu Sans", va="top", **kw)
        y -= LINE * (1.6 if kw.get("fontsize", 10) > 12 else 1.0)
    meta = {"Title": TITLE, "Author": "Second Continental Congress", "Subject": "Public-domain text, "
            "U.S. National Archives transcription", "CreationDate": None, "ModDate": None}
    with PdfPages(OUT, metadata=meta) as pdf:
        pdf.savefig(fig)
    plt.close(fig)
    return OUT


if __name__ == "__main__":
    print(main())
