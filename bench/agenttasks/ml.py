"""Tier (c): the work of an ML engineer. Every check runs the result or scores it against data
the task never showed."""

# ruff: noqa: E501  (task data: prompts, files and solutions read best on one line each)

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from .task import Task, close, lines, read_json, runs, tests_pass


def _points(n: int, seed: int, noise: float) -> list[tuple[float, float, int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x1, x2 = rng.uniform(-2, 2), rng.uniform(-2, 2)
        label = int(x1 + 2 * x2 > 0.5)
        out.append((round(x1, 3), round(x2, 3), 1 - label if rng.random() < noise else label))
    return out


TRAIN = _points(200, 1, 0.03)
TEST = _points(100, 2, 0.0)


def _csv(rows: list[tuple[float, float, int]], label: bool) -> str:
    head = "x1,x2,label\n" if label else "x1,x2\n"
    return head + "".join(f"{a},{b},{c}\n" if label else f"{a},{b}\n" for a, b, c in rows)


def _accuracy(answer: Any, ws: Path) -> bool:
    got = [g.strip() for g in lines(ws, "predictions.txt") or [] if g.strip()]
    if len(got) != len(TEST):
        return False
    return sum(g in (str(t[2]), f"{t[2]}.0") for g, t in zip(got, TEST, strict=True)) >= 0.9 * len(TEST)


def _knn(answer: Any, ws: Path) -> bool:
    want = []
    for a, b, _ in TEST[:30]:
        near = sorted(TRAIN, key=lambda t: (t[0] - a) ** 2 + (t[1] - b) ** 2)[:3]
        want.append(str(int(sum(t[2] for t in near) >= 2)))
    return [g.strip() for g in lines(ws, "knn.txt") or [] if g.strip()] == want


STATS = '''def standardize(xs):
    """Return the values shifted to mean 0 and divided by their population standard deviation
    (the square root of the mean squared deviation). A list whose values are all equal gives all
    zeros; an empty list gives an empty list."""
    raise NotImplementedError
'''
STATS_TEST = """import math

from stats import standardize


def test_mean_zero_unit_deviation():
    out = standardize([1.0, 2.0, 3.0, 4.0])
    assert math.isclose(sum(out), 0.0, abs_tol=1e-9)
    assert math.isclose(sum(v * v for v in out) / 4, 1.0)
    assert out[0] < out[1] < out[2] < out[3]


def test_constant_and_empty():
    assert standardize([5, 5, 5]) == [0.0, 0.0, 0.0]
    assert standardize([]) == []
"""

DIVERGES = """import torch

torch.manual_seed(0)
x = torch.linspace(-3, 3, 64).unsqueeze(1)
y = 4 * x - 1
model = torch.nn.Linear(1, 1)
opt = torch.optim.SGD(model.parameters(), lr=2.0)
for step in range(300):
    loss = ((model(x) - y) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"final loss {loss.item():.6f}")
"""


def _converges(answer: Any, ws: Path) -> bool:
    r = runs(ws, "train.py")
    last = (r.stdout.strip().splitlines() or [""])[-1]
    loss = last.removeprefix("final loss ").strip()
    text = (ws / "train.py").read_text()
    return r.returncode == 0 and "y = 4 * x - 1" in text and close(loss, 0.0, 0.01)


SAMPLES = "# label|features\n1|0.5,1.0,2.0\n\n0|3.0,-1.5,0.0\n# a comment\n1|1,2,3\n"
HIDDEN = "\n# other\n0|9,8,7.5\n1|-1,0,1\n\n"


def _loader(answer: Any, ws: Path) -> bool:
    (ws / "_hidden.txt").write_text(HIDDEN)
    code = (
        "import sys; sys.path.insert(0, '.'); from loader import load; X, y = load('_hidden.txt'); "
        "assert [list(map(float, r)) for r in X] == [[9, 8, 7.5], [-1, 0, 1]], X; "
        "assert list(map(int, y)) == [0, 1], y"
    )
    try:
        return runs(ws, "-c", code, timeout=60).returncode == 0
    finally:
        (ws / "_hidden.txt").unlink()


# A repository in the layout `smolab reproduce` writes, with the method's bug a small model makes.
REPO = {
    "method.py": (
        "import torch\nfrom torch import nn\n\n\n"
        "class Activation(nn.Module):\n"
        '    """y = x * sigmoid(beta * x), beta a learned scalar initialised to 1."""\n\n'
        "    def __init__(self, beta: float = 1.0):\n"
        "        super().__init__()\n"
        "        self.beta = nn.Parameter(torch.tensor(beta))\n\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        return (x * torch.sigmoid(self.beta * x)).mean(dim=-1)\n"
    ),
    "tests/test_contract.py": (
        "import torch\n\nfrom method import Activation\n\n\n"
        "def test_keeps_the_shape():\n"
        "    x = torch.randn(4, 8)\n"
        "    assert Activation()(x).shape == x.shape\n\n\n"
        "def test_matches_the_equation():\n"
        "    x = torch.linspace(-3, 3, 13)\n"
        "    assert torch.allclose(Activation(2.0)(x), x * torch.sigmoid(2 * x))\n\n\n"
        "def test_beta_learns():\n"
        "    act = Activation()\n"
        "    act(torch.randn(5)).sum().backward()\n"
        "    assert act.beta.grad is not None\n"
    ),
    "tests/conftest.py": "import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).parents[1]))\n",
    "README.md": "# Reproduction\n\nThe method is in method.py; `python -m pytest tests` runs its checks.\n",
}


PAIRS = [(0, 0), (0, 1), (1, 1), (1, 1), (2, 2), (2, 0), (0, 0), (1, 2), (2, 2), (1, 0)]
PREDS = "y_true,y_pred\n" + "".join(f"{t},{p}\n" for t, p in PAIRS)


def _macro_f1() -> float:
    scores = []
    for c in (0, 1, 2):
        tp = sum(t == c and p == c for t, p in PAIRS)
        fp = sum(t != c and p == c for t, p in PAIRS)
        fn = sum(t == c and p != c for t, p in PAIRS)
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / 3


def _metrics(answer: Any, ws: Path) -> bool:
    got = read_json(ws, "metrics.json")
    return (
        isinstance(got, dict)
        and close(got.get("accuracy"), 0.6)
        and close(got.get("macro_f1"), _macro_f1(), 1e-3)
    )


LINE = "x,y\n" + "".join(f"{x / 10},{3 * x / 10 + 2 + 0.05 * math.sin(x)}\n" for x in range(-20, 21))


def _saved(answer: Any, ws: Path) -> bool:
    code = (
        "import torch; s = torch.load('linear.pt'); "
        "assert abs(s['weight'].item() - 3) < 0.1 and abs(s['bias'].item() - 2) < 0.1, s"
    )
    return (ws / "linear.pt").is_file() and runs(ws, "-c", code, timeout=60).returncode == 0


CRASHES = """import torch
from torch import nn

torch.manual_seed(0)
x = torch.randn(256, 2)
y = (x[:, 0] > x[:, 1]).float().unsqueeze(1)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(100):
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
accuracy = (model(x).argmax(dim=1) == y.squeeze(1)).float().mean().item()
print(f"accuracy {accuracy:.3f}")
"""


def _runs_accurately(answer: Any, ws: Path) -> bool:
    r = runs(ws, "train.py")
    last = (r.stdout.strip().splitlines() or [""])[-1].removeprefix("accuracy").strip()
    value = float(last) if last.replace(".", "", 1).isdigit() else 0.0
    return r.returncode == 0 and value >= 0.9 and "nn.Linear(16, 2)" in (ws / "train.py").read_text()


SCALE_TRAIN = "a,b\n1,10\n2,20\n3,60\n"
SCALE_TEST = "a,b\n2,30\n4,0\n"


def _scaled(answer: Any, ws: Path) -> bool:
    def values(name: str) -> list[list[float]] | None:
        got = lines(ws, name)
        if not got or got[0].replace(" ", "") != "a,b":
            return None
        try:
            return [[float(v) for v in row.split(",")] for row in got[1:] if row.strip()]
        except ValueError:
            return None

    ma, mb = 2.0, 30.0
    sa, sb = math.sqrt(2 / 3), math.sqrt((400 + 100 + 900) / 3)
    want_train = [[(a - ma) / sa, (b - mb) / sb] for a, b in [(1, 10), (2, 20), (3, 60)]]
    want_test = [[(a - ma) / sa, (b - mb) / sb] for a, b in [(2, 30), (4, 0)]]
    for name, want in (("train_scaled.csv", want_train), ("test_scaled.csv", want_test)):
        got = values(name)
        if got is None or len(got) != len(want):
            return False
        if not all(
            close(g, w, 1e-3) for gr, wr in zip(got, want, strict=True) for g, w in zip(gr, wr, strict=True)
        ):
            return False
    return True


ML = [
    Task(
        "train-classifier",
        "ml",
        "train.csv has features x1, x2 and a 0/1 label. Train a classifier on it, predict the label of "
        "each row of test.csv (the same features, no label) and write the predictions to predictions.txt, "
        "one 0 or 1 per line in the order of test.csv. Reach at least 90% accuracy.",
        {"train.csv": _csv(TRAIN, True), "test.csv": _csv(TEST, False)},
        _accuracy,
        "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n"
        "d = np.loadtxt('train.csv', delimiter=',', skiprows=1)\nt = np.loadtxt('test.csv', delimiter=',', skiprows=1)\n"
        "p = LogisticRegression().fit(d[:, :2], d[:, 2].astype(int)).predict(t)\n"
        "open('predictions.txt', 'w').write(''.join(f'{v}\\n' for v in p))",
    ),
    Task(
        "implement-docstring",
        "ml",
        "stats.py has a function standardize whose body is missing. Implement it as its docstring says, "
        "so that the tests in test_stats.py pass (do not change the tests).",
        {"stats.py": STATS, "test_stats.py": STATS_TEST},
        lambda a, ws: tests_pass(ws, {"test_stats.py": STATS_TEST}),
        "open('stats.py', 'w').write('import math\\n\\n\\ndef standardize(xs):\\n    if not xs:\\n        return []\\n"
        "    m = sum(xs) / len(xs)\\n    s = math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))\\n"
        "    return [0.0 for _ in xs] if s == 0 else [(x - m) / s for x in xs]\\n')",
    ),
    Task(
        "diverging-loop",
        "ml",
        "train.py fits a line, but its loss grows instead of falling. Find out why and fix train.py so that "
        "`python train.py` ends with a final loss below 0.01 (keep its data as it is).",
        {"train.py": DIVERGES},
        _converges,
        "t = open('train.py').read()\nopen('train.py', 'w').write(t.replace('lr=2.0', 'lr=0.05'))",
    ),
    Task(
        "data-loader",
        "ml",
        "samples.txt holds one example per line as `label|f1,f2,...`; blank lines and lines starting with # "
        "are not examples. Write loader.py with a function load(path) that returns (X, y): X a list of "
        "lists of floats, y a list of ints, for any file in this format.",
        {"samples.txt": SAMPLES},
        _loader,
        "open('loader.py', 'w').write('def load(path):\\n    X, y = [], []\\n    for line in open(path):\\n"
        '        line = line.strip()\\n        if not line or line.startswith("#"):\\n            continue\\n'
        '        label, feats = line.split("|")\\n        y.append(int(label))\\n'
        '        X.append([float(v) for v in feats.split(",")])\\n    return X, y\\n\')',
    ),
    Task(
        "fix-reproduction",
        "ml",
        "This folder is a repository that reproduces a paper; `python -m pytest tests` fails. Fix method.py "
        "so that the tests pass, without changing the tests.",
        REPO,
        lambda a, ws: tests_pass(ws, {"tests/test_contract.py": REPO["tests/test_contract.py"]}),
        "t = open('method.py').read()\nopen('method.py', 'w').write(t.replace('.mean(dim=-1)', ''))",
    ),
    Task(
        "classification-metrics",
        "ml",
        "preds.csv has the columns y_true and y_pred of a 3-class classifier. Compute the accuracy and the "
        'macro-averaged F1 score and write them to metrics.json as {"accuracy": ..., "macro_f1": ...}.',
        {"preds.csv": PREDS},
        _metrics,
        "import csv, json\nfrom sklearn.metrics import accuracy_score, f1_score\n"
        "r = list(csv.DictReader(open('preds.csv')))\nt = [x['y_true'] for x in r]\np = [x['y_pred'] for x in r]\n"
        "json.dump({'accuracy': accuracy_score(t, p), 'macro_f1': f1_score(t, p, average='macro')}, "
        "open('metrics.json', 'w'))",
    ),
    Task(
        "knn",
        "ml",
        "Classify each of the first 30 rows of test.csv with a 3-nearest-neighbour classifier (Euclidean "
        "distance, majority vote) over the rows of train.csv, and write the 30 labels to knn.txt, one per line.",
        {"train.csv": _csv(TRAIN, True), "test.csv": _csv(TEST, False)},
        _knn,
        "import numpy as np\nd = np.loadtxt('train.csv', delimiter=',', skiprows=1)\n"
        "t = np.loadtxt('test.csv', delimiter=',', skiprows=1)[:30]\nout = []\nfor row in t:\n"
        "    near = np.argsort(((d[:, :2] - row) ** 2).sum(1), kind='stable')[:3]\n"
        "    out.append(int(d[near, 2].sum() >= 2))\nopen('knn.txt', 'w').write(''.join(f'{v}\\n' for v in out))",
    ),
    Task(
        "save-weights",
        "ml",
        "data.csv holds x,y points with y close to a line. Fit a torch.nn.Linear(1, 1) to them and save its "
        "state_dict with torch.save to linear.pt.",
        {"data.csv": LINE},
        _saved,
        "import numpy as np, torch\nd = torch.tensor(np.loadtxt('data.csv', delimiter=',', skiprows=1), "
        "dtype=torch.float32)\nm = torch.nn.Linear(1, 1)\nopt = torch.optim.Adam(m.parameters(), lr=0.1)\n"
        "for _ in range(800):\n    loss = ((m(d[:, :1]) - d[:, 1:]) ** 2).mean()\n    opt.zero_grad()\n"
        "    loss.backward()\n    opt.step()\ntorch.save(m.state_dict(), 'linear.pt')",
    ),
    Task(
        "fix-crash",
        "ml",
        "`python train.py` crashes. Fix train.py so that it runs and prints its accuracy on the last line; "
        "keep the model as it is.",
        {"train.py": CRASHES},
        _runs_accurately,
        "t = open('train.py').read().replace('.float().unsqueeze(1)', '.long()').replace('y.squeeze(1)', 'y')\n"
        "open('train.py', 'w').write(t)",
    ),
    Task(
        "standardize-features",
        "ml",
        "Standardize the columns of train.csv to mean 0 and standard deviation 1 (population standard "
        "deviation, from train.csv alone), apply the same transform to test.csv, and write "
        "train_scaled.csv and test_scaled.csv with the same header.",
        {"train.csv": SCALE_TRAIN, "test.csv": SCALE_TEST},
        _scaled,
        "import numpy as np\ntr = np.loadtxt('train.csv', delimiter=',', skiprows=1)\n"
        "te = np.loadtxt('test.csv', delimiter=',', skiprows=1)\nm, s = tr.mean(0), tr.std(0)\n"
        "np.savetxt('train_scaled.csv', (tr - m) / s, delimiter=',', header='a,b', comments='')\n"
        "np.savetxt('test_scaled.csv', (te - m) / s, delimiter=',', header='a,b', comments='')",
    ),
]
