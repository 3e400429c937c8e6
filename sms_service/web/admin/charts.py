"""Bar charts as inline SVG, drawn on the server: no script and no external network."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_SIDE = 16, 34, 8


def bar_chart(bars: Sequence[tuple[str, int]], *, title: str, color: str = "#2f6f5e") -> Markup:
    """A labelled bar chart; labels are escaped, so any text is safe to chart."""
    top = max((value for _, value in bars), default=0) or 1
    slot = (WIDTH - 2 * MARGIN_SIDE) / max(len(bars), 1)
    plot = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(bars):
        height = plot * value / top
        x = MARGIN_SIDE + index * slot + slot * 0.15
        y = MARGIN_TOP + plot - height
        width = slot * 0.7
        middle = x + width / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{escape(color)}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{middle:.1f}" y="{y - 3:.1f}" text-anchor="middle">{value}</text>'
            f'<text x="{middle:.1f}" y="{HEIGHT - 14}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # every dynamic part above is escaped
