"""Demo data builders for ``seed_demo`` (DESIGN §12): realistic self-assessments and small,
valid evidence files. Deterministic: the same unit and year always get the same values."""

from __future__ import annotations

import random
import unicodedata
from decimal import Decimal

from assessments import scoring
from assessments.models import Criterion


def ascii_text(text: str) -> str:
    """The PDF below uses a standard font without Vietnamese glyphs: drop the diacritics."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF showing ``lines`` (opens in any browser's viewer)."""
    text_ops = ["BT", "/F1 14 Tf", "72 760 Td", "18 TL"]
    for line in lines:
        safe = ascii_text(line).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text_ops.append(f"({safe}) Tj T*")
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def demo_value(criterion: Criterion, rng: random.Random, strength: float) -> str | None:
    """What a unit of the given strength (0–1) would type for this leaf; None for survey."""
    method = criterion.method
    params = scoring.parse_params(method, criterion.params, criterion.max_points)
    good = rng.random() < strength
    penalty = criterion.code.startswith("P")
    if method == scoring.YES_NO:
        if penalty:
            return "có" if not good and rng.random() < 0.4 else "không"
        return "có" if good or rng.random() < 0.5 else "không"
    if method == scoring.CHOICE:
        levels = [label for label, _points in params.levels]  # type: ignore[union-attr]
        return levels[0] if good else rng.choice(levels)
    if method in (scoring.THRESHOLD, scoring.PROPORTIONAL):
        low = 92 if good else 60
        value = Decimal(rng.randint(low * 10, 1000)) / 10
        if rng.random() < 0.3:
            total = rng.randint(20, 400)
            return f"{round(total * float(value) / 100)}/{total}"
        return str(value).replace(".", ",")
    if method == scoring.MANUAL:
        step = params.step  # type: ignore[union-attr]
        steps = int(criterion.max_points / step)
        chosen = (
            (0 if good else rng.randint(0, 2))
            if penalty
            else (steps if good else rng.randint(0, steps))
        )
        return str(chosen * step).replace(".", ",")
    if method == scoring.DEDUCTION:
        return "0" if good else str(rng.randint(1, 3))
    return None
