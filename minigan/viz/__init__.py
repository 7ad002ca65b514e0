"""Pictures: everything minigan draws, from arrays it is given (it knows no model).

    images.py   make_grid, save_grid (a PNG of many images), save_gif (an animation of PNGs)
    layout.py   make_layout, save_layout (rows of images with gaps), scale_each (per-image contrast)
    plot.py     plot_losses: the loss curves of a step log, as a PNG (Pillow only)
    graph.py    draw_graph: the autograd graph of a tensor, as Graphviz DOT (.dot/.svg/.png)
"""
from .graph import draw_graph
from .images import make_grid, save_gif, save_grid
from .layout import make_layout, save_layout, scale_each
from .plot import moving_average, nice_ticks, plot_losses

__all__ = ["draw_graph", "make_grid", "save_grid", "save_gif", "make_layout", "save_layout",
           "scale_each", "plot_losses", "moving_average", "nice_ticks"]
