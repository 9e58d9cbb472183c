"""Server-rendered SVG charts — bars, columns, lines and a dot map of the Gers — each with a text alternative.

Pure functions: plain values in, an SVG string out (no Flask, no database, no script). The
Content-Security-Policy forbids inline styles, so only presentation attributes are used. Every
chart is `role="img"` with a <title> and a <desc> that give its figures in words; the page shows
the same figures in a table. Colours reach 3:1 against white for shapes and 4.5:1 for text
(WCAG 2.1 AA), and two series never differ by colour alone (shape, dash or position too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

TEXT = "#1b1b1b"  # 17.4:1 on white
MUTED = "#4a4a4a"  # 8.9:1
AXIS = "#767676"  # 4.5:1
GRID = "#d4cfc6"  # decorative lines only
GREEN = "#1e4d43"  # 9.9:1
ARMAGNAC = "#8a4512"  # 7.0:1 — demandes
BLUE = "#0b5394"  # 7.6:1 — tutors' places
PURPLE = "#5a2d82"  # 9.4:1
BACKGROUND_DOT = "#a39e96"  # a commune without figures: decorative
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"
WIDTH = 400  # bar charts: BAR_WIDTH; the text stays readable on a 360 px screen
BAR_WIDTH = 360
FONT_SIZE = 14
# The projection of the map: x = lon · cos(43.7°), y = −lat (equirectangular, true at the Gers).
GERS_LATITUDE = 43.7
KM_PER_DEGREE = 111.2
DASHES = (None, "7 4", "2 3", "9 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]
    colour: str = GREEN


@dataclass(frozen=True)
class MapPoint:
    """A commune at its centroid, with the two counts the map shows."""

    name: str
    lat: float
    lon: float
    population: int = 0
    demand: int = 0
    supply: int = 0


def number(value: float) -> str:
    """A figure in French: 1 234 and 2,5."""
    if type(value) is int and -1000 < value < 1000:  # most figures: no thousands separator
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:.1f}".replace(".", ",")


@lru_cache(maxsize=4096)
def _escaped(text: str) -> str:
    return str(escape(text))


def _e(text: object) -> str:
    """`text` escaped for SVG (the charts' few labels repeat: each escaped once per process)."""
    return _escaped(str(text))


def _f(value: float) -> str:
    """A coordinate, short."""
    if value % 1:
        return f"{value:.1f}".removesuffix(".0")
    return str(int(value))


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    return 0.56 * size * len(text)


def _open(chart_id: str, width: float, height: float, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}" '
        f'width="{_f(width)}" height="{_f(height)}" role="img" '
        f'aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc" class="chart__svg" '
        f'font-family="{FONT}" font-size="{FONT_SIZE}" fill="{TEXT}">',
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-desc">{_e(desc)}</desc>',
    ]


def _close(parts: list[str]) -> Markup:
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _marker(kind: str, x: float, y: float, colour: str, size: float = 4.5) -> str:
    if kind == "square":
        s = size * 0.9
        return f'<rect x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" height="{_f(2 * s)}" fill="{colour}"/>'
    if kind == "triangle":
        s = size * 1.2
        pts = f"{_f(x)},{_f(y - s)} {_f(x + s)},{_f(y + s * 0.8)} {_f(x - s)},{_f(y + s * 0.8)}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if kind == "diamond":
        s = size * 1.2
        pts = f"{_f(x)},{_f(y - s)} {_f(x + s)},{_f(y)} {_f(x)},{_f(y + s)} {_f(x - s)},{_f(y)}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(size)}" fill="{colour}"/>'


def _legend(
    series: Sequence[Series], x0: float, y0: float, width: float, *, lines: bool = False
) -> tuple[list[str], float]:
    """Legend items flowing left to right; returns the parts and the height used."""
    parts, x, y = [], x0, y0
    for i, s in enumerate(series):
        item_w = 22 + _text_width(s.label) + 18
        if x > x0 and x + item_w > width:
            x, y = x0, y + 22
        if lines:
            dash = (
                f' stroke-dasharray="{DASHES[i % len(DASHES)]}"' if DASHES[i % len(DASHES)] else ""
            )
            parts.append(
                f'<line x1="{_f(x)}" y1="{_f(y + 7)}" x2="{_f(x + 16)}" y2="{_f(y + 7)}" '
                f'stroke="{s.colour}" stroke-width="2.5"{dash}/>'
            )
            parts.append(_marker(MARKERS[i % len(MARKERS)], x + 8, y + 7, s.colour, 3.5))
        else:
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(y)}" width="14" height="14" fill="{s.colour}"/>'
            )
        parts.append(f'<text x="{_f(x + 22)}" y="{_f(y + 12)}">{_e(s.label)}</text>')
        x += item_w
    return parts, (y - y0) + 22


def _nice_ticks(max_value: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least `max_value` (steps of 1, 2 or 5 × 10ⁿ)."""
    if max_value <= 0:
        return [0, 1]
    raw = max_value / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    top = step * math.ceil(max_value / step)
    return [step * i for i in range(round(top / step) + 1)]


def _wrap(text: str, max_chars: int, max_lines: int = 3) -> list[str]:
    """Words on lines of at most `max_chars` characters; the last line cut with … if needed."""
    words = text.split()
    if len(text) <= max_chars and " ".join(words) == text:
        return [text]  # one line, single spaces only: nothing to wrap or cut
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [line if len(line) <= max_chars else line[: max_chars - 1] + "…" for line in lines] or [
        ""
    ]


def _describe(
    categories: Sequence[str], labels: Sequence[str], texts: Sequence[Sequence[str]]
) -> str:
    """`describe` from the series' labels in lower case and their figures already written."""
    if not categories:
        return "Aucune donnée."
    pairs = list(zip(labels, texts, strict=True))
    return (
        " ; ".join(
            f"{category} — " + ", ".join(f"{label} : {t[i]}" for label, t in pairs)
            for i, category in enumerate(categories)
        )
        + "."
    )


def describe(categories: Sequence[str], series: Sequence[Series]) -> str:
    """The figures of a chart in words, for its <desc>."""
    return _describe(
        categories,
        [s.label.lower() for s in series],
        [[number(v) for v in s.values[: len(categories)]] for s in series],
    )


def bar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    desc: str | None = None,
    width: float = BAR_WIDTH,
) -> Markup:
    """Horizontal bars, one group per category, its label above the bars (long labels fit)."""
    pad, label_h, bar_h, bar_gap, group_gap = 6, 19, 15, 3, 12
    values = [v for s in series for v in s.values]
    max_value = max(values, default=0) or 1
    value_room = _text_width(number(max(values, default=0)), 13) + 10
    plot_w = width - 2 * pad - value_room
    # Each figure written once (bar title, bar text, description); each label escaped once.
    labels = [s.label.lower() for s in series]
    texts = [[number(v) for v in s.values[: len(categories)]] for s in series]
    drawn = [
        (s.colour, _e(label), s.values, t)
        for s, label, t in zip(series, labels, texts, strict=True)
    ]
    parts: list[str] = []
    append = parts.append
    top = 4
    if len(series) > 1:
        legend, h = _legend(series, pad, top, width - pad)
        parts += legend
        top += int(h) + 6  # rows of 22: a whole number
    y = top  # whole numbers: written as they are
    max_chars = int((width - 2 * pad) / _text_width("x"))
    for i, category in enumerate(categories):
        for line in _wrap(category, max_chars):
            append(f'<text x="{pad}" y="{y + 14}">{_e(line)}</text>')
            y += label_h
        y += 2
        escaped = _e(category)
        for colour, label, vals, t in drawn:
            w = plot_w * vals[i] / max_value
            append(
                f'<rect x="{pad}" y="{y}" width="{_f(w)}" height="{bar_h}" fill="{colour}">'
                f"<title>{escaped} — {label} : {t[i]}</title></rect>"
            )
            append(f'<text x="{_f(pad + w + 5)}" y="{y + bar_h - 3}" font-size="13">{t[i]}</text>')
            y += bar_h + bar_gap
        y += group_gap
    height = y + 2
    parts.insert(
        0,
        f'<line x1="{pad}" y1="{top}" x2="{pad}" y2="{height - group_gap}" stroke="{AXIS}" stroke-width="1"/>',
    )
    head = _open(chart_id, width, height, title, desc or _describe(categories, labels, texts))
    return _close(head + parts)


def _x_labels(labels: Sequence[str], xs: Sequence[str], y: float, every: int = 1) -> list[str]:
    """The labels under the x axis, at the abscissas `xs` (already written by `_f`)."""
    parts = []
    fy = _f(y)
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if i % every:
            continue
        if "\n" in label:
            first, *rest = label.split("\n")
            tspans = f'<tspan x="{x}" dy="0">{_e(first)}</tspan>' + "".join(
                f'<tspan x="{x}" dy="15">{_e(line)}</tspan>' for line in rest
            )
        else:
            tspans = f'<tspan x="{x}" dy="0">{_e(label)}</tspan>'
        parts.append(f'<text x="{x}" y="{fy}" text-anchor="middle" font-size="13">{tspans}</text>')
    return parts


def _y_axis(ticks: Sequence[float], left: float, right: float, y_of) -> list[str]:
    parts = []
    fl, fr, ft = _f(left), _f(right), _f(left - 6)
    for t in ticks:
        y = y_of(t)
        colour = AXIS if t == 0 else GRID
        parts.append(
            f'<line x1="{fl}" y1="{_f(y)}" x2="{fr}" y2="{_f(y)}" stroke="{colour}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{ft}" y="{_f(y + 4)}" text-anchor="end" font-size="12" fill="{MUTED}">{number(t)}</text>'
        )
    return parts


def column_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    desc: str | None = None,
    width: float = WIDTH,
    height: float = 270,
) -> Markup:
    """Vertical columns (a histogram when the categories are ranges); labels may hold a line break."""
    parts: list[str] = []
    append = parts.append
    top: float = 6
    if len(series) > 1:
        legend, h = _legend(series, 8, top, width - 8)
        parts += legend
        top += h + 8
    line_count = max((c.count("\n") + 1 for c in categories), default=1)
    left, right, bottom = 40, width - 8, height - 14 - 15 * line_count
    values = [v for s in series for v in s.values]
    ticks = _nice_ticks(max(values, default=0))
    top_value = ticks[-1] or 1
    plot_top = top + 14

    def y_of(v: float) -> float:
        return bottom - (bottom - plot_top) * v / top_value

    parts += _y_axis(ticks, left, right, y_of)
    n = max(len(categories), 1)
    band = (right - left) / n
    group_w = band * 0.76
    col_w = group_w / max(len(series), 1)
    col_text = _f(col_w - 2)
    one_line = [c.replace("\n", " ") for c in categories]
    labels = [s.label.lower() for s in series]
    texts = [[number(v) for v in s.values[: len(categories)]] for s in series]
    drawn = [
        (s.colour, _e(label), s.values, t)
        for s, label, t in zip(series, labels, texts, strict=True)
    ]
    centres = []
    for i, label in enumerate(one_line):
        x0 = left + band * i + (band - group_w) / 2
        centres.append(_f(left + band * i + band / 2))
        escaped = _e(label)
        for k, (colour, series_label, vals, t) in enumerate(drawn):
            v = vals[i]
            x, y = x0 + k * col_w, y_of(v)
            fy = _f(y)
            append(
                f'<rect x="{_f(x + 1)}" y="{fy}" width="{col_text}" height="{_f(bottom - y)}" '
                f'fill="{colour}"><title>{escaped} — {series_label} : {t[i]}</title></rect>'
            )
            append(
                f'<text x="{_f(x + col_w / 2)}" y="{_f(y - 4)}" text-anchor="middle" font-size="12">{t[i]}</text>'
            )
    parts += _x_labels(categories, centres, bottom + 17)
    head = _open(chart_id, width, height, title, desc or _describe(one_line, labels, texts))
    return _close(head + parts)


def line_chart(
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    desc: str | None = None,
    width: float = WIDTH,
    height: float = 280,
) -> Markup:
    """Lines over time; each series has its own colour, dash pattern and marker shape."""
    parts: list[str] = []
    append = parts.append
    top: float = 6
    legend, h = _legend(series, 8, top, width - 8, lines=True)
    parts += legend
    top += h + 8
    line_count = max((c.count("\n") + 1 for c in x_labels), default=1)
    left, right, bottom = 40, width - 14, height - 14 - 15 * line_count
    values = [v for s in series for v in s.values]
    ticks = _nice_ticks(max(values, default=0))
    top_value = ticks[-1] or 1
    plot_top = top + 10

    def y_of(v: float) -> float:
        return bottom - (bottom - plot_top) * v / top_value

    parts += _y_axis(ticks, left, right, y_of)
    n = len(x_labels)
    step = (right - left - 20) / max(n - 1, 1)
    xs = [left + 10 + step * i for i in range(n)] if n > 1 else [(left + right) / 2] * n
    fxs = [_f(x) for x in xs]
    one_line = [_e(label.replace("\n", " ")) for label in x_labels]
    labels = [s.label.lower() for s in series]
    texts = [[number(v) for v in s.values[:n]] for s in series]
    for k, s in enumerate(series):
        ys = [y_of(v) for v in s.values]
        points = " ".join(f"{x},{_f(y)}" for x, y in zip(fxs, ys, strict=True))
        dash = DASHES[k % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if n > 1:
            append(
                f'<polyline points="{points}" fill="none" stroke="{s.colour}" stroke-width="2.5" '
                f'stroke-linejoin="round"{dash_attr}/>'
            )
        marker = MARKERS[k % len(MARKERS)]
        label = _e(labels[k])
        for x, y, text, escaped in zip(xs, ys, texts[k], one_line, strict=True):
            append(
                f"<g>{_marker(marker, x, y, s.colour)}"
                f"<title>{escaped} — {label} : {text}</title></g>"
            )
    every = max(1, math.ceil(n / max(1, int((right - left) / 44))))
    parts += _x_labels(x_labels, fxs, bottom + 17, every)
    head = _open(
        chart_id,
        width,
        height,
        title,
        desc or _describe([c.replace("\n", " ") for c in x_labels], labels, texts),
    )
    return _close(head + parts)


def dot_map(
    chart_id: str,
    title: str,
    points: Sequence[MapPoint],
    *,
    demand_label: str = "Demandes ouvertes",
    supply_label: str = "Places libres de tuteurs",
    desc: str | None = None,
    width: float = WIDTH,
    town_labels: int = 9,
) -> Markup:
    """The communes at their centroids: a filled disc for demand, a ring for supply, areas ∝ counts.

    No map tiles: the 458 communes drawn as small dots give the shape of the département.
    """
    k = math.cos(math.radians(GERS_LATITUDE))
    margin = 14
    if not points:
        return _close(_open(chart_id, width, 60, title, desc or "Aucune commune."))
    xs = [p.lon * k for p in points]
    ys = [-p.lat for p in points]
    x_min, x_max, y_min, y_max = min(xs), max(xs), min(ys), max(ys)
    scale = (width - 2 * margin) / max(x_max - x_min, 1e-6)
    map_h = (y_max - y_min) * scale + 2 * margin

    def project(p: MapPoint) -> tuple[float, float]:
        return margin + (p.lon * k - x_min) * scale, margin + (-p.lat - y_min) * scale

    biggest = max([p.demand for p in points] + [p.supply for p in points] + [1])
    r_max = 17.0

    def radius(n: int) -> float:
        return max(2.6, r_max * math.sqrt(n / biggest)) if n > 0 else 0.0

    parts: list[str] = ['<g aria-hidden="true">']
    for p in points:
        x, y = project(p)
        parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="1.4" fill="{BACKGROUND_DOT}"/>')
    parts.append("</g>")

    def counts(p: MapPoint) -> str:
        return f"{p.name} : {number(p.demand)} {demand_label.lower()}, {number(p.supply)} {supply_label.lower()}"

    for p in sorted((p for p in points if p.demand), key=lambda p: -p.demand):
        x, y = project(p)
        parts.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(radius(p.demand))}" fill="{ARMAGNAC}" fill-opacity="0.72" '
            f'stroke="#ffffff" stroke-width="0.8"><title>{_e(counts(p))}</title></circle>'
        )
    for p in sorted((p for p in points if p.supply), key=lambda p: -p.supply):
        x, y = project(p)
        parts.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(radius(p.supply))}" fill="none" stroke="{BLUE}" '
            f'stroke-width="2.4"><title>{_e(counts(p))}</title></circle>'
        )

    # The largest towns, for orientation; a label overlapping an earlier one is left out.
    placed: list[tuple[float, float, float, float]] = []
    for p in sorted(points, key=lambda p: -p.population)[:town_labels]:
        x, y = project(p)
        w = _text_width(p.name, 12)
        tx = x + 5 if x + 5 + w < width - 2 else x - 5 - w
        box = (tx - 2, y - 16, tx + w + 2, y - 2)
        if any(
            not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in placed
        ):
            continue
        placed.append(box)
        parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2" fill="{TEXT}"/>')
        parts.append(
            f'<text x="{_f(tx)}" y="{_f(y - 5)}" font-size="12" font-weight="600" stroke="#ffffff" '
            f'stroke-width="3" stroke-linejoin="round" paint-order="stroke">{_e(p.name)}</text>'
        )

    # Scale bar: 20 km.
    km20 = 20 / KM_PER_DEGREE * scale
    sy = map_h - 4
    parts.append(
        f'<g><line x1="{margin}" y1="{_f(sy)}" x2="{_f(margin + km20)}" y2="{_f(sy)}" stroke="{TEXT}" stroke-width="2"/>'
        f'<line x1="{margin}" y1="{_f(sy - 4)}" x2="{margin}" y2="{_f(sy + 1)}" stroke="{TEXT}" stroke-width="2"/>'
        f'<line x1="{_f(margin + km20)}" y1="{_f(sy - 4)}" x2="{_f(margin + km20)}" y2="{_f(sy + 1)}" '
        f'stroke="{TEXT}" stroke-width="2"/>'
        f'<text x="{_f(margin + km20 + 6)}" y="{_f(sy + 4)}" font-size="12">20 km</text></g>'
    )

    # Legend: the two marks, then the sizes.
    ly = map_h + 14
    parts.append(
        f'<circle cx="{margin + 8}" cy="{_f(ly)}" r="7" fill="{ARMAGNAC}" fill-opacity="0.72"/>'
        f'<text x="{margin + 22}" y="{_f(ly + 5)}">{_e(demand_label)} (disque plein)</text>'
    )
    ly += 24
    parts.append(
        f'<circle cx="{margin + 8}" cy="{_f(ly)}" r="7" fill="none" stroke="{BLUE}" stroke-width="2.4"/>'
        f'<text x="{margin + 22}" y="{_f(ly + 5)}">{_e(supply_label)} (cercle)</text>'
    )
    ly += 20
    sizes = sorted({1, max(1, round(biggest / 4)), biggest})
    base = ly + 2 + 2 * r_max
    parts.append(
        f'<text x="{margin}" y="{_f(base - 2)}" font-size="13">Taille selon le nombre :</text>'
    )
    sx = margin + _text_width("Taille selon le nombre :", 13) + 10
    for n in sizes:
        r = radius(n)
        parts.append(
            f'<circle cx="{_f(sx + r)}" cy="{_f(base - r)}" r="{_f(r)}" fill="none" stroke="{MUTED}" stroke-width="1.2"/>'
            f'<text x="{_f(sx + 2 * r + 4)}" y="{_f(base - 2)}" font-size="13">{number(n)}</text>'
        )
        sx += 2 * r + 12 + _text_width(number(n), 13)
    height = base + 8

    if desc is None:
        with_demand = sorted((p for p in points if p.demand), key=lambda p: (-p.demand, p.name))
        with_supply = [p for p in points if p.supply]
        top = ", ".join(f"{p.name} ({number(p.demand)})" for p in with_demand[:5])
        desc = (
            f"Carte du Gers : chaque point est une commune, à sa position géographique. "
            f"{number(len(with_demand))} communes ont au moins une demande ouverte"
            + (f" ; les plus nombreuses : {top}" if top else "")
            + f". {number(len(with_supply))} communes ont au moins une place libre de tuteur. "
            "Les chiffres de chaque commune sont dans le tableau qui suit la carte."
        )
    head = _open(chart_id, width, height, title, desc)
    return _close(head + parts)


__all__ = [
    "ARMAGNAC",
    "BLUE",
    "GREEN",
    "PURPLE",
    "MapPoint",
    "Series",
    "bar_chart",
    "column_chart",
    "describe",
    "dot_map",
    "line_chart",
    "number",
]
