"""Inline SVG line charts with shaded time windows, for the self-contained HTML report.

Example::

    svg = line_chart([(0, 1.0), (1, 3.0)], windows=[(0.5, 1.0, "latency")], title="p99 (ms)")
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 24, 28
COLORS = ("#1f6feb", "#d29922", "#8250df")


def _ticks(maximum: float, count: int = 4) -> list[float]:
    return [maximum * i / count for i in range(count + 1)]


def line_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float | None]]]],
    *,
    duration_s: float,
    windows: Sequence[tuple[float, float, str]] = (),
    title: str,
    unit: str = "",
) -> str:
    """Series of (t_s, value) points over 0..duration_s; windows (start_s, end_s, label) shaded."""
    values = [v for _, points in series for _, v in points if v is not None]
    y_max = max(values, default=0.0) * 1.1 or 1.0
    x_span = duration_s or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * min(max(t / x_span, 0.0), 1.0)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / y_max)

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for start, end, label in windows:
        parts.append(
            f'<rect x="{x(start):.1f}" y="{TOP}" width="{max(x(end) - x(start), 1):.1f}" '
            f'height="{plot_h}" fill="#f85149" fill-opacity="0.15"><title>{escape(label)} '
            f'{start:.1f}-{end:.1f} s</title></rect>'
        )
        parts.append(
            f'<text x="{x(start) + 3:.1f}" y="{TOP + 12}" font-size="10" fill="#cf222e">'
            f'{escape(label)}</text>'
        )
    for tick in _ticks(y_max):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#d0d7de" stroke-width="0.5"/>'
            f'<text x="{LEFT - 4}" y="{y(tick) + 3:.1f}" font-size="10" text-anchor="end">'
            f'{tick:.3g}{escape(unit)}</text>'
        )
    for tick in _ticks(x_span):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle">'
            f'{tick:.0f}s</text>'
        )
    for index, (name, points) in enumerate(series):
        color = COLORS[index % len(COLORS)]
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points if v is not None)
        if coords:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}"/>'
            )
        parts.append(
            f'<text x="{WIDTH - RIGHT - 70 * (index + 1)}" y="16" font-size="10" '
            f'fill="{color}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
