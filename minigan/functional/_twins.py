"""The switch that routes five entry points to their textbook twins (`mg.textbook()`).

    F.conv2d, F.conv_transpose2d, F.batch_norm, F.max_pool2d   first ask twin(name)
    optim.Adam                                                  asks once, in its constructor

and, while the switch is on, hand their arguments to the twin of the same name
in minigan/textbook/. The twins register themselves here when minigan.textbook is
imported (minigan's __init__ imports it). The table lives in the ops layer because
the ops come first in the layer order: they cannot import the textbook, which is
built on them.
"""
_twins = {}
_enabled = False


def register(name, function):
    """Make `function` the textbook twin of the entry point `name` (e.g. 'conv2d')."""
    _twins[name] = function


def enabled():
    """Whether the entry points currently route to the textbook twins."""
    return _enabled


def set_enabled(on):
    """Turn the routing on or off; returns the previous setting."""
    global _enabled
    previous, _enabled = _enabled, bool(on)
    return previous


def twin(name):
    """The textbook twin of `name` while the switch is on, else None (take the fast path)."""
    return _twins[name] if _enabled else None
