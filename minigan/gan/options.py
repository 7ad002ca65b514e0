"""Types for the command-line options a model declares (`GANModel.add_arguments`).

Each is an argparse `type=`: it turns the text into a number or raises
argparse.ArgumentTypeError naming what was expected and what came, which the
program prints as one line, `error: argument --lr: expected a positive finite
number, got nan`.

    positive_float    0 < x < inf         learning rates, weights that must act
    nonnegative_float 0 <= x < inf        loss weights that may be switched off
    unit_interval     0 <= x < 1          Adam's betas, dropout probabilities
    fraction          0 < x <= 1          a share of a batch (--top-k)
    positive_int      1, 2, 3 ...         sizes, counts, step numbers
"""
import argparse
import math


def _number(text, kind):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None


def positive_float(text):
    """A finite float > 0 (nan and inf are refused: they would poison every weight)."""
    value = _number(text, float)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def nonnegative_float(text):
    """A finite float >= 0."""
    value = _number(text, float)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def unit_interval(text):
    """A float in [0, 1): Adam's beta1/beta2 (at 1 the moment never moves), a dropout p."""
    value = _number(text, float)
    if not 0 <= value < 1:  # nan fails both comparisons
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def fraction(text):
    """A float in (0, 1]: a share of something that must keep at least a part of it."""
    value = _number(text, float)
    if not 0 < value <= 1:  # nan fails both comparisons
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def positive_int(text):
    """An int >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def nonnegative_int(text):
    """An int >= 0 (0: off, for an option a recipe may set)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value
