"""Text colours in the style sheets meet WCAG 2.1 AA (1.4.3, ГОСТ Р 52872-2019): 4.5:1 for
the small text of status tags and flags («Госуслуги», «ожидает ответа», «просрочено»,
«черновик», …), computed from the CSS values themselves, variables resolved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "static"
AA = 4.5


def _rules() -> list[tuple[str, dict[str, str]]]:
    """Every innermost rule of every style sheet (``@media`` blocks included): selector and
    declarations."""
    found: list[tuple[str, dict[str, str]]] = []
    for sheet in sorted(STATIC.glob("*.css")):
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
            declarations = {}
            for part in body.split(";"):
                name, _, value = part.partition(":")
                if value:
                    declarations[name.strip()] = value.strip()
            found.append((" ".join(selector.split()), declarations))
    return found


def _variables() -> dict[str, str]:
    return {
        k: v
        for selector, d in _rules()
        if selector == ":root"
        for k, v in d.items()
        if k[:2] == "--"
    }


def _colour(value: str) -> str | None:
    """A declared colour as ``#rrggbb`` (variables resolved); ``None`` if not a plain colour."""
    value = value.strip()
    found = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if found:
        return _colour(_variables()[found.group(1)])
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        return "#" + "".join(c * 2 for c in value[1:])
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else None


def contrast(foreground: str, background: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _declared(selector: str, prop: str) -> str:
    values = [
        d[prop] for s, d in _rules() if selector in (p.strip() for p in s.split(",")) and prop in d
    ]
    assert values, f"no {prop} for {selector} in {STATIC}"
    colour = _colour(values[-1])
    assert colour is not None, f"{selector} {prop}: {values[-1]}"
    return colour


def _root(spec: str) -> str:
    colour = _colour(_variables()[spec.split()[1]])
    assert colour is not None, spec
    return colour


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert round(contrast("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast("#1b7f3b", "#e6f4ea"), 2) == 4.46  # the old «Госуслуги» tag: too low
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54


def test_every_rule_with_its_own_text_and_background_colour_meets_aa() -> None:
    checked, low = 0, []
    for selector, d in _rules():
        fg = _colour(d.get("color", ""))
        bg = _colour(d.get("background", d.get("background-color", "")))
        if fg is None or bg is None:
            continue
        checked += 1
        if contrast(fg, bg) < AA:
            low.append(f"{selector}: {fg} on {bg} = {contrast(fg, bg):.2f}:1")
    assert checked >= 10
    assert not low, "\n".join(low)


@pytest.mark.parametrize(
    ("text", "selector", "background"),
    [
        # a status tag's colour over its family's background where it has none of its own
        ("Госуслуги, логин (console)", ".tag.ok", ".tag.ok"),
        ("нет доступа, отменён (console)", ".tag.bad", ".tag.bad"),
        ("просрочено (admin)", ".overdue-tag", ".overdue-tag"),
        ("ожидает ответа", ".flag.awaiting", ".flag.awaiting"),
        ("просрочено (messages)", ".flag.overdue", ".flag.overdue"),
        ("черновик (admin timetable)", ".draft", ":root --card"),
        ("опубликовано", ".published", ":root --card"),
        ("черновик, замена: a plain tag, the page's text colour", ":root --fg", ".tag"),
    ],
)
def test_status_tags_meet_aa(text: str, selector: str, background: str) -> None:
    fg = _root(selector) if selector.startswith(":root") else _declared(selector, "color")
    if background.startswith(":root"):
        bg = _root(background)
    else:
        bg = _declared(background, "background")
    assert contrast(fg, bg) >= AA, f"{text}: {fg} on {bg} = {contrast(fg, bg):.2f}:1"
