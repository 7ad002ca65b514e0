"""Containers: `Sequential` (modules applied one after another) and `ModuleList`.

Children are registered under the names "0", "1", ..., so parameter names read
`0.weight`, `3.running_mean`, ... exactly as in PyTorch.
"""
import operator
from collections import OrderedDict

from .module import Module, _indent


def _index(index, length, who):
    """A Python int index (negative counts from the end) as 0 <= i < length."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{who}: index {index} is out of range for {length} modules")
    return index % length


class Sequential(Module):
    """Sequential(m0, m1, ...) or Sequential(OrderedDict(name=module)):
    forward(x) = ... m1(m0(x)).

    model[0], model[-1], model[1:3] (a Sequential), len(model), iteration,
    model.append(module).
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_index(index, len(items), "Sequential")][1]

    def __setitem__(self, index, module):
        key = list(self._modules)[_index(index, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            del items[index]
        else:
            del items[_index(index, len(items), "Sequential")]
        # Renumber so that the names stay 0, 1, 2, ... as PyTorch does.
        self._modules.clear()
        for i, (_, module) in enumerate(items):
            self._modules[str(i)] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add `module` at the end (named str(len(self)))."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent module registers.

    It has no forward: the parent decides how to call its entries.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(items[index])
        return items[_index(index, len(items), "ModuleList")]

    def __setitem__(self, index, module):
        self.add_module(str(_index(index, len(self), "ModuleList")), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __repr__(self):
        # As PyTorch's: runs of identical entries print once, e.g. "(0-2): 3 x Linear(...)".
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [start, end, text]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for start, end, text in runs:
            line = f"({start}): {text}" if start == end else \
                f"({start}-{end}): {end - start + 1} x {text}"
            lines.append(_indent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
