"""Loss curves drawn with Pillow: one PNG line chart of values against step.

GAN losses are noisy from step to step, so each series is drawn twice: the raw
values as a faint line, and a trailing moving average on top as a strong line,
as TensorBoard does. NaN and infinite values (a diverged step) are skipped.
"""
import math
from itertools import cycle  # colours start over when there are more keys than colours

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from minigan._atomic import atomic_write

WIDTH, HEIGHT = 900, 500
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50  # margins around the plotting area
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14),
           (148, 103, 189), (140, 86, 75)]


def nice_ticks(low, high, count=6):
    """About `count` round tick values (multiples of 1, 2 or 5 x 10^k) covering [low, high]."""
    if not high > low:
        low, high = low - 1.0, high + 1.0  # a flat series still needs a scale
    rough = (high - low) / count
    magnitude = 10.0 ** math.floor(math.log10(rough))
    spacing = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    start = math.floor(low / spacing) * spacing
    stop = math.ceil(high / spacing) * spacing
    return [start + i * spacing for i in range(int(round((stop - start) / spacing)) + 1)]


def moving_average(values, window):
    """Trailing mean over the last `window` values; the first ones average what exists.

    values: (n,) finite floats. Returns (n,) floats.
    """
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    upper = np.arange(1, len(values) + 1)
    lower = np.maximum(upper - window, 0)
    return (cumulative[upper] - cumulative[lower]) / (upper - lower)


def series(records, key):
    """The (steps, values) of `key` over `records`, keeping only finite values."""
    steps, values = [], []
    for record in records:
        value = record.get(key)
        if isinstance(value, (int, float, np.number)) and math.isfinite(value):
            steps.append(float(record["step"]))
            values.append(float(value))
    return np.array(steps), np.array(values)


def format_tick(value):
    """Short tick label: 12000 -> '12000', 0.5 -> '0.5', 0.30000000000000004 -> '0.3'."""
    if float(value).is_integer() and abs(value) < 1e7:
        return str(int(value))  # step counts read better whole than as 1.2e+04
    return f"{value:.4g}"


def plot_losses(records, path, keys=("loss_d", "loss_g"), title=None, smooth=None):
    """Draw `keys` of `records` against their 'step' and save a PNG atomically.

    records: list of dicts, one per training step, each with a 'step' entry
             (e.g. what `read_steplog` returns). A key missing from a record,
             or NaN / inf there, is skipped.
    keys:    which values to draw, one coloured line each.
    smooth:  moving-average window in records; None picks about 1/50 of the
             run, 1 draws the raw values only.
    Returns `path`.
    """
    if isinstance(keys, str):
        keys = (keys,)  # plot_losses(records, path, "loss_d") means one key, not six letters
    if not keys:
        raise ValueError("plot_losses: expected at least one key to plot, got none")
    for i, record in enumerate(records):
        if "step" not in record:
            raise ValueError(f"plot_losses: expected every record to have a 'step', "
                             f"record {i} has keys {sorted(record)}")
    data = {key: series(records, key) for key in keys}
    if smooth is None:
        smooth = max(1, len(records) // 50)

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    box = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)

    all_steps = np.concatenate([s for s, _ in data.values()])
    all_values = np.concatenate([v for _, v in data.values()])
    if len(all_values) == 0:
        draw.rectangle(box, outline="black")
        draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
                  "no finite values to plot", fill="black", font=font, anchor="mm")
    else:
        x_ticks = nice_ticks(all_steps.min(), all_steps.max())
        y_ticks = nice_ticks(all_values.min(), all_values.max())

        def to_pixel(step, value):
            # Map data coordinates into the box; y grows downwards on screen.
            fx = (step - x_ticks[0]) / (x_ticks[-1] - x_ticks[0])
            fy = (value - y_ticks[0]) / (y_ticks[-1] - y_ticks[0])
            return box[0] + fx * (box[2] - box[0]), box[3] - fy * (box[3] - box[1])

        for step in x_ticks:
            x, _ = to_pixel(step, y_ticks[0])
            draw.line([(x, box[1]), (x, box[3])], fill=(230, 230, 230))
            draw.text((x, box[3] + 6), format_tick(step), fill="black", font=font, anchor="mt")
        for value in y_ticks:
            _, y = to_pixel(x_ticks[0], value)
            draw.line([(box[0], y), (box[2], y)], fill=(230, 230, 230))
            draw.text((box[0] - 6, y), format_tick(value), fill="black", font=font, anchor="rm")
        draw.rectangle(box, outline="black")

        for colour, (steps, values) in zip(cycle(COLOURS), data.values()):
            if len(values) == 0:
                continue
            # Pale version of the colour: mix it 70% of the way towards white.
            faint = tuple(int(c + 0.7 * (255 - c)) for c in colour)
            lines = [(values, faint, 1), (moving_average(values, smooth), colour, 2)]
            for line_values, fill, width in lines[1:] if smooth == 1 else lines:
                points = [to_pixel(s, v) for s, v in zip(steps, line_values)]
                if len(points) == 1:
                    draw.ellipse([points[0][0] - 2, points[0][1] - 2,
                                  points[0][0] + 2, points[0][1] + 2], fill=fill)
                else:
                    draw.line(points, fill=fill, width=width, joint="curve")

    # Legend in the top-right corner, on white so the lines do not run through it.
    labels = [key if len(data[key][1]) else f"{key} (no data)" for key in keys]
    legend_width = max(draw.textlength(label, font=font) for label in labels) + 34
    legend_left, legend_top = box[2] - 10 - legend_width, box[1] + 10
    draw.rectangle([legend_left, legend_top, box[2] - 10, legend_top + 18 * len(labels) + 6],
                   fill="white", outline=(180, 180, 180))
    for row, (colour, label) in enumerate(zip(cycle(COLOURS), labels)):
        y = legend_top + 6 + 18 * row
        draw.rectangle([legend_left + 8, y, legend_left + 20, y + 12], fill=colour)
        draw.text((legend_left + 26, y + 6), label, fill="black", font=font, anchor="lm")

    draw.text(((box[0] + box[2]) / 2, HEIGHT - 8), "step", fill="black", font=font, anchor="md")
    if title is not None:
        draw.text(((box[0] + box[2]) / 2, TOP / 2), title, fill="black", font=font, anchor="mm")
    if smooth > 1:
        draw.text((box[2], HEIGHT - 8), f"bold: moving average over {smooth} records",
                  fill=(110, 110, 110), font=font, anchor="rd")

    with atomic_write(path) as f:
        image.save(f, format="PNG")
    return path
