"""Vector arithmetic on z (the DCGAN paper, section 6.3 and figure 7), with concepts
found automatically in generated samples.

The paper averages the z of three exemplars per concept ("smiling woman",
"neutral woman", "neutral man"), computes mean(A) - mean(B) + mean(C), and gets
a smiling man; with single exemplars the result was unstable. Here a concept is
(digit, attribute extreme): G draws `n_samples` digits from random z, the
project's classifier names each digit (kept when its probability is at least
`min_confidence`), and moments.py measures each sample's stroke thickness and
slant. Within one digit, the quarter of the samples with the largest value of an
attribute is its "high" concept (thick, right-leaning), the quarter with the
smallest its "low" one (thin, left-leaning). A task (attribute, source, target)

    high source - low source + low target        e.g. thick 3 - thin 3 + thin 7

should give a high target (a thick 7): the result keeps the target digit when
the classifier calls G(result) the target, and has the added attribute when its
value is above the median of that attribute over all generated target digits.
The same two tests on G(mean of the low-target exemplars) alone are the
baseline: what the result would score if the arithmetic did nothing.
"""
import numpy as np

from minigan.metrics.classifier import classify

from .model import in_batches
from .moments import slant, stroke_thickness

ATTRIBUTES = {  # name: (high concept, low concept, measure)
    "thickness": ("thick", "thin", stroke_thickness),
    "slant": ("right-leaning", "left-leaning", slant),
}
TASKS = (("thickness", 3, 7), ("thickness", 1, 4), ("slant", 1, 7), ("slant", 4, 9))


def generate(G, z, batch_size=500):
    """G(z) for NumPy z (N, z_dim), as NumPy images (N, 1, 28, 28), G in eval mode."""
    G.eval()
    return in_batches(G, np.asarray(z, dtype=np.float32), batch_size)


def describe(images, classifier):
    """{"digit", "confidence", "thickness", "slant"}: NumPy arrays (N,) for each image."""
    _, probabilities = classify(classifier, images)
    described = {"digit": probabilities.argmax(axis=1), "confidence": probabilities.max(axis=1)}
    for name, (_, _, measure) in ATTRIBUTES.items():
        described[name] = measure(images)
    return described


def concept_groups(described, attribute, digit, quantile=0.25, min_confidence=0.9):
    """(high rows, low rows): confident samples of `digit` in the top / bottom `quantile`
    of `attribute`, and the median of the attribute over the confident `digit`s."""
    rows = np.flatnonzero((described["digit"] == digit) & (described["confidence"] >= min_confidence))
    values = described[attribute][rows]
    if len(rows) < 2:
        raise ValueError(f"arithmetic: only {len(rows)} confident samples of digit {digit}; "
                         "draw more (--samples) or train the generator longer")
    low, high = np.quantile(values, [quantile, 1 - quantile])
    return rows[values >= high], rows[values <= low], float(np.median(values))


def parse_task(text):
    """"thickness:3:7" -> ("thickness", 3, 7), with one clear error for anything else."""
    parts = text.split(":")
    if (len(parts) != 3 or parts[0] not in ATTRIBUTES or not all(p.isdigit() and int(p) < 10
                                                                for p in parts[1:])):
        raise ValueError(f"expected a task ATTRIBUTE:SOURCE:TARGET with ATTRIBUTE one of "
                         f"{', '.join(ATTRIBUTES)} and digits 0-9 (thickness:3:7), got {text!r}")
    return parts[0], int(parts[1]), int(parts[2])


def task_name(attribute, source, target):
    high, low, _ = ATTRIBUTES[attribute]
    return f"{high} {source} - {low} {source} + {low} {target}"


def arithmetic_experiment(G, classifier, z_dim, tasks=TASKS, n_samples=5000, draws=100,
                          exemplars=(1, 3), quantile=0.25, min_confidence=0.9, noise=0.25, seed=0):
    """Measure every task over `draws` random choices of k exemplars per concept, for each k.

    Returns (results, figure): results {"samples", "confident", "tasks": [{"task", "attribute",
    "source", "target", "groups": sizes, "median", "by_exemplars": {k: {"kept", "added", "both",
    "baseline_kept", "baseline_added", "baseline_both", "mean_change"}}}]}: rates in [0, 1] over
    the draws, and mean_change the mean of attribute(G(result)) - attribute(G(mean low target)).
    figure: per task the first draw with max(exemplars) exemplars, as images:
    {"exemplars": (3 concepts, k, 1, 28, 28), "means": (3, 1, 28, 28), "neighbours": (9, ...)}
    where neighbours[4] is G(result) and the others G(result + uniform(-noise, noise)),
    as the paper's figure 7 shows.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_samples, z_dim)).astype(np.float32)
    described = describe(generate(G, z), classifier)
    results = {"samples": int(n_samples),
               "confident": int(np.sum(described["confidence"] >= min_confidence)), "tasks": []}
    figures = []
    for attribute, source, target in tasks:
        high_s, low_s, _ = concept_groups(described, attribute, source, quantile, min_confidence)
        _, low_t, median_t = concept_groups(described, attribute, target, quantile, min_confidence)
        groups = (high_s, low_s, low_t)
        if min(len(g) for g in groups) < max(exemplars):
            raise ValueError(f"arithmetic: {task_name(attribute, source, target)} has concepts of "
                             f"{[len(g) for g in groups]} samples, fewer than {max(exemplars)} "
                             "exemplars; draw more (--samples)")
        by_k = {}
        for k in exemplars:
            picks = [np.stack([rng.choice(g, k, replace=False) for _ in range(draws)]) for g in groups]
            means = [z[p].mean(axis=1) for p in picks]                  # 3 x (draws, z_dim)
            result = means[0] - means[1] + means[2]
            tested = describe(generate(G, np.concatenate([result, means[2]])), classifier)
            kept = tested["digit"] == target
            added = tested[attribute] > median_t
            by_k[int(k)] = {
                "kept": float(kept[:draws].mean()), "added": float(added[:draws].mean()),
                "both": float((kept & added)[:draws].mean()),
                "baseline_kept": float(kept[draws:].mean()),
                "baseline_added": float(added[draws:].mean()),
                "baseline_both": float((kept & added)[draws:].mean()),
                "mean_change": float(np.mean(tested[attribute][:draws] - tested[attribute][draws:])),
            }
            if k == max(exemplars):
                jitter = rng.uniform(-noise, noise, (9, z_dim)).astype(np.float32)
                jitter[4] = 0
                figures.append({
                    "exemplars": np.stack([generate(G, z[p[0]]) for p in picks]),
                    "means": generate(G, np.stack([m[0] for m in means])),
                    "neighbours": generate(G, result[0] + jitter),
                })
        results["tasks"].append({
            "task": task_name(attribute, source, target), "attribute": attribute,
            "source": int(source), "target": int(target),
            "groups": [int(len(g)) for g in groups], "median": median_t, "by_exemplars": by_k,
        })
    return results, figures


def figure_rows(figures):
    """The cells of the paper's figure 7 for save_layout: per task, k rows of the three
    concepts' exemplars beside a 3 x 3 block of the result (centre) and its neighbours,
    then a row of the three means; a gap row between tasks."""
    rows = []
    for f in figures:
        k = f["exemplars"].shape[1]
        block = f["neighbours"].reshape(3, 3, *f["neighbours"].shape[1:])
        for i in range(max(k, 3)):
            row = [f["exemplars"][c, i] if i < k else None for c in range(3)] + [None]
            row += list(block[i]) if i < 3 else [None] * 3
            rows.append(row)
        rows.append(list(f["means"]) + [None] * 4)
        rows.append([None] * 7)
    return rows[:-1]
