"""A run's options: which were given, which a checkpoint fixes, which may change.

Every option of a training program is one of three kinds:

    run        defines the run: the model and its options (--loss, --z-dim, --d-steps,
               --clip, --ema, --spectral-norm, --r1, --augment, --recipe ...), --batch-size, --train-size, --seed, --backend. On --resume
               it comes from the checkpoint; a different value given is an error, since
               the run would silently stop being the one the checkpoint continues.
    schedule   how far and how fast the run goes on: --epochs, --max-steps, the
               learning rates (--lr, a model's --g-lr, DCGAN's --lr-d/--lr-g), --eval/--no-eval,
               --eval-samples, output extras. On --resume it comes from the checkpoint
               unless given; a given value changes for real.
    invocation what this command does: --out, --resume, --overwrite, --checkpoint,
               --data, --generate, --textbook (the same math, read from minigan/textbook/) ... Never taken from a checkpoint.

An option nobody classified is a `run` option: a new option stays safe until
someone decides it may change.

    given = given_options(parser, argv)                  # {"lr", "out", "resume"}
    config, changes = reconcile(parser, model_cls, vars(args), given, saved_config)
"""
import argparse
import errno
import glob
import os
import tempfile

SCHEDULE = frozenset({"epochs", "max_steps", "no_eval", "eval_samples", "sample_every",
                      "retrain_evaluator"})
INVOCATION = frozenset({"out", "resume", "overwrite", "checkpoint", "data", "generate", "nice",
                        "interpolate", "digit", "help", "textbook", "device"})

# What a training run writes into --out (trainer.py, cli.py): what --overwrite replaces.
RUN_FILES = ("checkpoint.npz", "log.jsonl", "progress.gif", "losses.png", "quality.json",
             "samples.npy", "labels.npy", "grid.png", "interpolation.png")
FIGURES = ("*/epoch_[0-9][0-9][0-9]*.png",  # samples/epoch_001.png, codes/epoch_001_c1.png
           "samples/step_[0-9][0-9][0-9][0-9][0-9][0-9].png")  # samples/step_000100.png


class OptionError(ValueError):
    """Options that cannot make a run: against the checkpoint, --out, or each other."""


def option_kind(dest, model_cls):
    """'run', 'schedule' or 'invocation' (see the module docstring)."""
    if dest in INVOCATION:
        return "invocation"
    if dest in SCHEDULE or dest in model_cls.learning_rates:
        return "schedule"
    return "run"


def given_options(parser, argv):
    """The dests of the options written on the command line `argv` (None: sys.argv).

    argparse fills in every default, so a second parse with every default
    suppressed leaves exactly the options the user wrote.
    """
    saved = [(action, action.default) for action in parser._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        return set(vars(parser.parse_args(argv)))
    finally:
        for action, default in saved:
            action.default = default


def option_names(parser):
    """{dest: '--option-name'} for every option of `parser` (the first name of the first
    option with that dest: no_eval -> --no-eval)."""
    names = {}
    for action in parser._actions:
        if action.option_strings and action.dest not in names:
            long = [s for s in action.option_strings if s.startswith("--")]
            names[action.dest] = (long or action.option_strings)[0]
    return names


def shown(value):
    """A value as the user types it: 0.0002, 128, minimax, None; a flag on or off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def reconcile(parser, model_cls, args, given, saved, free=(),
              doing="--resume continues the run the checkpoint holds",
              advice="Leave these options out, or start a new run in another --out"):
    """The resumed run's config, and what changed: (config, [(option, old, new), ...]).

    args: vars(parser.parse_args(argv)); given: given_options(parser, argv);
    saved: the checkpoint's config; free: dests this command treats as its own
    (--generate: --seed and --backend). Raises OptionError naming every `run`
    option given with a value other than the checkpoint's.
    """
    names = option_names(parser)
    config, changes, conflicts = dict(args), [], []
    for dest, name in names.items():
        kind = option_kind(dest, model_cls)
        if kind == "invocation" or dest in free:
            continue  # not the checkpoint's business
        if dest not in saved:  # an option the checkpoint predates
            if kind != "run":
                continue
            # Its run was made with the option's default, so that is what it continues
            # (a --recipe's value for an option not given is dropped too).
            default = parser.get_default(dest)
            if dest in given and args[dest] != default:
                conflicts.append(f"{name} {shown(args[dest])} was given, but the checkpoint "
                                 f"predates {name}: its run has the default, "
                                 f"{shown(default)}")
            config[dest] = default
            continue
        old = saved[dest]
        if dest not in given:
            config[dest] = old
        elif args[dest] != old:
            if kind == "run":
                conflicts.append(f"{name} is {shown(old)} in the checkpoint, "
                                 f"not {shown(args[dest])}")
            else:
                changes.append((name, old, args[dest]))
    if conflicts:
        raise OptionError(
            f"{doing}: " + "; ".join(conflicts)
            + f". {advice}")
    return config, changes


def nothing_to_train(config, epoch, step):
    """Why a run at (epoch, step) would train no step under `config`, or None."""
    if epoch >= config["epochs"]:
        return (f"the checkpoint has done {epoch} epochs of --epochs {config['epochs']}; "
                "pass a larger --epochs to train on")
    if config.get("max_steps") and step >= config["max_steps"]:
        return (f"the checkpoint is at step {step} of --max-steps {config['max_steps']}; "
                "pass a larger --max-steps to train on")
    return None


def check_batch_fits(batch_size, num_images, what):
    """An epoch takes only full batches: a batch larger than the set would never step."""
    if batch_size > num_images:
        raise OptionError(
            f"--batch-size {batch_size} is larger than the training set ({num_images} images"
            f"{what}): an epoch would hold no full batch; use a --batch-size of at most "
            f"{num_images}")


def set_learning_rates(model, config):
    """Give the optimizers the rates in `config` (after their state was loaded from a
    checkpoint, which brought the old ones). Returns the step-log events of what
    changed: [{"event": "lr", "option": "lr", "optimizer": "D", "lr": 0.1, "was": 2e-4}].

    An option set to None (DCGAN's --lr-d not given) leaves its optimizers to the
    options before it in `model.learning_rates` (--lr): the last one set wins."""
    wanted = {}  # optimizer -> (option, rate)
    for option, optimizers in model.learning_rates.items():
        if config.get(option) is None:
            continue
        for name in optimizers or tuple(model.optimizers):
            wanted[name] = (option, config[option])
    events = []
    for name, (option, rate) in wanted.items():
        for group in model.optimizers[name].param_groups:
            if group["lr"] != rate:
                events.append({"event": "lr", "option": option, "optimizer": name,
                               "lr": rate, "was": group["lr"]})
            group["lr"] = rate
    return events


def check_out_path(out):
    """--out must name a folder, or a name not yet used. Raises OptionError."""
    if not out:
        raise OptionError("--out is empty: expected the folder to write the run to")
    if os.path.exists(out) and not os.path.isdir(out):
        raise OptionError(f"--out {out} is a file: expected a folder (or a name not yet used)")


def make_out_folder(out):
    """Create --out and check this process can write there. Raises OptionError."""
    check_out_path(out)
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".minigan-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno in (errno.ENOTDIR, errno.EEXIST):
            reason = "a part of the path is a file, not a folder"
        raise OptionError(f"--out {out}: cannot write there ({reason})") from None


def run_files(out):
    """The files of a previous run in `out`, relative to it, sorted."""
    found = [name for name in RUN_FILES if os.path.isfile(os.path.join(out, name))]
    found += sorted(os.path.relpath(path, out) for pattern in FIGURES
                    for path in glob.glob(os.path.join(glob.escape(out), pattern)))
    return found


def holds_a_run(out):
    """A checkpoint or a step log: what a fresh run must not silently replace."""
    return any(os.path.exists(os.path.join(out, name)) for name in ("checkpoint.npz", "log.jsonl"))


def describe_files(files):
    """One line for a list of files, the per-epoch figures of each folder counted."""
    top = [f for f in files if os.sep not in f]
    folders = {}
    for f in files:
        if os.sep in f:
            folders.setdefault(os.path.dirname(f), []).append(f)
    parts = top + [f"{folder}/*.png ({len(items)} files)" if len(items) > 1 else items[0]
                   for folder, items in sorted(folders.items())]
    return ", ".join(parts)


def remove_run(out):
    """Delete a previous run's files from `out` (for --overwrite); returns them."""
    files = run_files(out)
    for name in files:
        os.unlink(os.path.join(out, name))
    return files
