"""The step log: one JSON object per line (JSONL) for every training step.

    {"step": 1, "epoch": 1, "loss_d": 1.386, "loss_g": 0.6931, "D(x)": 0.5}
    {"step": 2, "epoch": 1, "loss_d": 1.201, "loss_g": 0.8123, "D(x)": 0.56}

Each line is flushed as it is written, so a run stopped at any moment keeps
every step it logged, at worst with the last line cut short, which
`read_steplog` skips. When a run resumes from a checkpoint, the steps after the
checkpoint are about to be computed again; `StepLog.truncate_after` removes
them so that no step appears twice.

Besides the steps, a record may mark an event at a step, such as a learning
rate changed on --resume: {"step": 40, "event": "lr", "option": "lr",
"optimizer": "G", "lr": 0.0001, "was": 0.0002} (the rate of the steps after 40).
Readers that plot losses skip records without the keys they draw.

NaN and infinity are written as Python's json module writes them (NaN,
Infinity, -Infinity), which it also reads back; a diverged step stays visible.
"""
import json
import os

from minigan._atomic import atomic_write


def plain(value):
    """json's fallback for values it cannot write: NumPy/CuPy scalars and 0-d arrays.

    np.float32(0.5) -> 0.5, np.int64(3) -> 3, np.bool_(True) -> True.
    """
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"StepLog: expected numbers, strings, lists or dicts, "
                    f"got {type(value).__name__} {value!r}")


class StepLogError(ValueError):
    """A step log with a damaged line (not the cut-short last line of an interrupted run)."""


def parse_lines(text, source="read_steplog"):
    """Records from JSONL `text`, skipping a cut-short final line.

    A broken line anywhere else is not the mark of an interrupted run but of a
    damaged file, so it raises.
    """
    lines = text.split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            is_last = all(not rest.strip() for rest in lines[number:])
            if is_last:
                break
            raise StepLogError(f"{source}: expected one JSON object per line, "
                               f"line {number} is not: {line[:80]!r}; repair or delete "
                               "that line") from None
    return records


def read_steplog(path):
    """All records of the step log at `path`, as a list of dicts, in order."""
    with open(path, encoding="utf-8") as f:
        return parse_lines(f.read(), source=os.fspath(path))


class StepLog:
    """Appends one record per training step to a JSONL file at `path`.

    log = StepLog("runs/dcgan/steps.jsonl")
    log.append({"step": 1, "epoch": 1, "loss_d": loss_d, "loss_g": loss_g})
    log.close()

    An existing file is continued, not overwritten; its cut-short last line,
    if any, is removed first so the next record starts on a line of its own.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        self.file = None
        if os.path.exists(self.path):
            self.drop_partial_last_line()
        self.file = open(self.path, "a", encoding="utf-8")

    def drop_partial_last_line(self):
        """Cut the text after the last newline: the line an interrupted run was writing."""
        with open(self.path, "rb+") as f:
            data = f.read()
            end = data.rfind(b"\n") + 1  # 0 when there is no newline at all
            tail = data[end:]
            if not tail.strip():
                return
            try:
                json.loads(tail)
                f.write(b"\n")  # complete but unterminated: keep it, just end the line
            except json.JSONDecodeError:
                f.truncate(end)

    def append(self, record):
        """Write `record` (a dict with a 'step' entry) as one line and flush it."""
        self.check_open("append")
        if not isinstance(record, dict) or "step" not in record:
            got = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise ValueError(f"StepLog.append: expected a dict with a 'step' entry, got {got}")
        self.file.write(json.dumps(record, default=plain) + "\n")
        self.file.flush()

    def truncate_after(self, step):
        """Remove every record whose 'step' is greater than `step`.

        Call it when resuming from a checkpoint saved after `step` steps: the
        steps after it will be recomputed and logged again. Returns how many
        records were removed.
        """
        self.check_open("truncate_after")
        self.file.close()
        records = read_steplog(self.path)
        kept = [r for r in records if not r.get("step", 0) > step]
        # Rewritten under a temporary name, so an interruption here cannot lose the log.
        with atomic_write(self.path) as f:
            f.write("".join(json.dumps(r) + "\n" for r in kept).encode("utf-8"))
        self.file = open(self.path, "a", encoding="utf-8")
        return len(records) - len(kept)

    def check_open(self, method):
        if self.file is None:
            raise RuntimeError(f"StepLog.{method}: the log {self.path} is closed")

    def close(self):
        """Close the file; records already appended are on disk either way."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
