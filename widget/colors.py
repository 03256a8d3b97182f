"""Colour contrast by WCAG 2.x: the ratio of two colours, the readable text colour on the
site's brand colour, a link shade that stays readable on white, and the warnings the settings
form shows. Plain functions of `#rrggbb` strings (the model validates the format)."""

from __future__ import annotations

AA_TEXT = 4.5  # WCAG 2.x AA for normal-size text
WHITE, BLACK = "#ffffff", "#000000"


def relative_luminance(hex_color: str) -> float:
    """WCAG relative luminance of `#rrggbb` (0 = black, 1 = white)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """The WCAG contrast ratio of two colours, from 1.0 (same) to 21.0 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_text_color(background: str) -> str:
    """Black or white, whichever contrasts more with the background (always ≥ 4.58:1)."""
    return BLACK if contrast_ratio(background, BLACK) > contrast_ratio(background, WHITE) else WHITE


def link_color(brand: str) -> str:
    """The brand colour for links and suggested questions on white, darkened in 5 % steps
    until it reaches AA (4.5:1) if it is too light to read as text there."""
    r, g, b = (int(brand[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        f = 1 - step * 0.05
        # Half up, as JavaScript's Math.round in the admin's live preview (not banker's).
        shade = "#" + "".join(f"{int(c * f + 0.5):02x}" for c in (r, g, b))
        if contrast_ratio(shade, WHITE) >= AA_TEXT:
            return shade
    return BLACK  # pragma: no cover - factor 0 is black, which always passes


def contrast_report(brand: str) -> dict:
    """What the settings form and its live preview show about a brand colour."""
    text = readable_text_color(brand)
    return {
        "text_color": text,
        "text_ratio": round(contrast_ratio(brand, text), 2),
        "link_color": link_color(brand),
        "on_white_ratio": round(contrast_ratio(brand, WHITE), 2),
    }


def contrast_warnings(brand: str) -> list[str]:
    """Warnings (not errors: the colour is saved) for a brand colour under WCAG AA."""
    r = contrast_report(brand)
    out = []
    if r["text_ratio"] < AA_TEXT:  # cannot happen with black/white text, kept as the rule
        out.append(f"Text on {brand} has a contrast of {r['text_ratio']}:1; WCAG AA needs 4.5:1.")
    if r["on_white_ratio"] < AA_TEXT:
        out.append(
            f"{brand} on white has a contrast of only {r['on_white_ratio']}:1 (WCAG AA needs "
            f"4.5:1): links and suggested questions use the darker shade {r['link_color']}, "
            f"and the header text is {'black' if r['text_color'] == BLACK else 'white'}."
        )
    return out
