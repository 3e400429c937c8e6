"""Bar charts as inline SVG, drawn on the server: no script and no external network.

Each chart is drawn at its own size (text stays at LABEL_PX on any screen; a narrow screen
scrolls the chart's box, not the page), takes its colours from PALETTE so a figure has the
same colour on every chart, and carries its text alternative: an SVG description read by
screen readers and the same figures as a table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 230
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_SIDE = 20, 38, 8
LABEL_PX = 13  # at least 12 px: readable
# One colour per figure, on every chart (and in the legend-free tables beside them).
PALETTE = {
    "planned": "#52606d",
    "sent": "#1d4ed8",
    "delivered": "#18794e",
    "failed": "#b42318",
    "enrolled": "#2f6f5e",
    "replies": "#6d28d9",
    "opt_outs": "#b44d12",
}


def _slug(title: str) -> str:
    return "chart-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def bar_chart(
    bars: Sequence[tuple[str, int]],
    *,
    title: str,
    series: str = "enrolled",
    colors: Sequence[str] | None = None,
) -> Markup:
    """A labelled bar chart and its table; labels are escaped, so any text is safe to chart.

    `series` names the PALETTE colour of every bar; `colors` gives each bar's series instead.
    """
    slug = _slug(title)
    names = list(colors) if colors is not None else [series] * len(bars)
    top = max((value for _, value in bars), default=0) or 1
    slot = (WIDTH - 2 * MARGIN_SIDE) / max(len(bars), 1)
    plot = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    described = "; ".join(f"{label}: {value}" for label, value in bars) or "no figures"
    parts = [
        # The box scrolls on a narrow screen, so a keyboard must reach it too (tabindex).
        f'<div class="chart-box" tabindex="0" role="region" aria-label="{escape(title)}">'
        f'<svg class="chart" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="{slug}-title" aria-describedby="{slug}-desc">'
        f'<title id="{slug}-title">{escape(title)}</title>'
        f'<desc id="{slug}-desc">{escape(described)}</desc>'
    ]
    for index, (label, value) in enumerate(bars):
        height = plot * value / top
        x = MARGIN_SIDE + index * slot + slot * 0.15
        y = MARGIN_TOP + plot - height
        width = slot * 0.7
        middle = x + width / 2
        color = PALETTE.get(names[index], PALETTE["enrolled"])
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{color}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{middle:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'font-size="{LABEL_PX}">{value}</text>'
            f'<text x="{middle:.1f}" y="{HEIGHT - 14}" text-anchor="middle" '
            f'font-size="{LABEL_PX}">{escape(label)}</text>'
        )
    parts.append("</svg></div>")
    rows = "".join(f"<tr><th>{escape(label)}</th><td>{value}</td></tr>" for label, value in bars)
    parts.append(
        f'<details class="chart-table"><summary>{escape(title)} as a table</summary>'
        f'<table id="{slug}-table"><caption>{escape(title)}</caption>{rows}</table></details>'
    )
    return Markup("".join(parts))  # every dynamic part above is escaped
