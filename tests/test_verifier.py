"""The verifier against the baseline each kind's paper improves on, for every kind.

For each kind an invented paper's method, its reference written from the "paper", and the
baseline it improves on, all by hand. The kind's check against the paper must pass the method
and fail the baseline with a line that says what differs. (A block without its gate and a plain
network, the probe kinds' baselines, are in ``test_fingerprint.py``.)"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from smolab.skills import SkillLibrary

from .test_skills import materialize, pytest_in

HEAD = "import math\n\nimport torch\nfrom torch import nn\nfrom torch.nn import functional as F\n\n\n"

# kind -> (reference, the paper's method, the baseline, what the failing check says)
CASES: dict[str, tuple[str, str, str, str]] = {
    "activation": (
        "def reference(x):\n    return x * torch.sigmoid(2.0 * x) + 0.1 * torch.tanh(x)\n",
        "class Activation(nn.Module):\n"
        "    def __init__(self, beta: float = 2.0, gamma: float = 0.1):\n"
        "        super().__init__()\n        self.beta, self.gamma = beta, gamma\n\n"
        "    def forward(self, x):\n"
        "        return x * torch.sigmoid(self.beta * x) + self.gamma * torch.tanh(x)\n",
        "class Activation(nn.Module):\n    def forward(self, x):\n        return torch.relu(x)\n",
        "largest difference",
    ),
    "normalization": (
        "def reference(x):\n"
        "    mean = x.mean(dim=1, keepdim=True)\n"
        "    var = ((x - mean) ** 2).mean(dim=1, keepdim=True)\n"
        "    return (x - mean) / torch.sqrt(var + 1e-5)\n",
        "class Norm(nn.Module):\n"
        "    def __init__(self, num_channels: int, eps: float = 1e-5):\n"
        "        super().__init__()\n        self.eps = eps\n"
        "        self.weight = nn.Parameter(torch.ones(1, num_channels, 1, 1))\n"
        "        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))\n\n"
        "    def forward(self, x):\n"
        "        mean = x.mean(dim=1, keepdim=True)\n"
        "        var = x.var(dim=1, unbiased=False, keepdim=True)\n"
        "        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias\n",
        "class Norm(nn.Module):\n"
        "    def __init__(self, num_channels: int):\n"
        "        super().__init__()\n        self.norm = nn.GroupNorm(1, num_channels)\n\n"
        "    def forward(self, x):\n        return self.norm(x)  # layer normalization\n",
        "largest difference",
    ),
    "optimizer": (
        "def reference(param, grads, lr):\n"
        "    p, m = param.clone(), torch.zeros_like(param)\n"
        "    for g in grads:\n"
        "        m = 0.9 * m + 0.1 * g\n"
        "        p = p - lr * torch.sign(m)\n"
        "    return p\n",
        "class Optimizer(torch.optim.Optimizer):\n"
        "    def __init__(self, params, lr: float = 1e-3, beta: float = 0.9):\n"
        "        super().__init__(params, dict(lr=lr, beta=beta))\n\n"
        "    @torch.no_grad()\n"
        "    def step(self, closure=None):\n"
        "        for group in self.param_groups:\n"
        "            for p in group['params']:\n"
        "                if p.grad is None:\n                    continue\n"
        "                state = self.state[p]\n"
        "                if not state:\n                    state['m'] = torch.zeros_like(p)\n"
        "                m = state['m']\n"
        "                m.mul_(group['beta']).add_(p.grad, alpha=1 - group['beta'])\n"
        "                p.add_(torch.sign(m), alpha=-group['lr'])\n",
        "class Optimizer(torch.optim.Optimizer):\n"
        "    def __init__(self, params, lr: float = 1e-3):\n"
        "        super().__init__(params, dict(lr=lr))\n\n"
        "    @torch.no_grad()\n"
        "    def step(self, closure=None):\n"
        "        for group in self.param_groups:\n"
        "            for p in group['params']:\n"
        "                if p.grad is not None:\n"
        "                    p.add_(p.grad, alpha=-group['lr'])  # SGD\n",
        "largest difference",
    ),
    "loss": (
        "def reference(features, logits, labels, state=None):\n"
        "    return F.cross_entropy(logits, labels) + 0.1 * features.pow(2).sum(1).mean()\n",
        "class Loss(nn.Module):\n"
        "    def __init__(self, num_classes: int, dim: int, weight: float = 0.1):\n"
        "        super().__init__()\n        self.weight = weight\n\n"
        "    def forward(self, features, logits, labels):\n"
        "        return F.cross_entropy(logits, labels) + self.weight * features.pow(2).sum(1).mean()\n",
        "class Loss(nn.Module):\n"
        "    def __init__(self, num_classes: int, dim: int):\n        super().__init__()\n\n"
        "    def forward(self, features, logits, labels):\n"
        "        return F.cross_entropy(logits, labels)\n",
        " vs ",
    ),
    "schedule": (
        "def reference(step, base_lr, total_steps):\n"
        "    warm = total_steps // 10\n"
        "    if step < warm:\n        return base_lr * (step + 1) / warm\n"
        "    return base_lr * (total_steps - step) / (total_steps - warm)\n",
        "class Schedule:\n"
        "    def __init__(self, base_lr: float, total_steps: int, warmup: float = 0.1):\n"
        "        self.base_lr, self.total_steps = base_lr, total_steps\n"
        "        self.warm = int(total_steps * warmup)\n\n"
        "    def __call__(self, step):\n"
        "        if step < self.warm:\n            return self.base_lr * (step + 1) / self.warm\n"
        "        return self.base_lr * (self.total_steps - step) / (self.total_steps - self.warm)\n",
        "class Schedule:\n"
        "    def __init__(self, base_lr: float, total_steps: int):\n"
        "        self.base_lr = base_lr\n\n"
        "    def __call__(self, step):\n        return self.base_lr  # a constant rate\n",
        " vs 0.0",
    ),
    "contrastive": (
        "def reference(z1, z2):\n"
        "    a, b = F.normalize(z1, dim=1), F.normalize(z2, dim=1)\n"
        "    align = (a - b).norm(dim=1).pow(2).mean()\n"
        "    return align + torch.log(torch.exp(-2 * torch.pdist(a).pow(2)).mean())\n",
        "class ContrastiveLoss(nn.Module):\n"
        "    def __init__(self, t: float = 2.0):\n        super().__init__()\n        self.t = t\n\n"
        "    def forward(self, z1, z2):\n"
        "        a, b = F.normalize(z1, dim=1), F.normalize(z2, dim=1)\n"
        "        uniform = torch.exp(-self.t * torch.pdist(a).pow(2)).mean().log()\n"
        "        return (a - b).norm(dim=1).pow(2).mean() + uniform\n",
        "class ContrastiveLoss(nn.Module):\n"
        "    def forward(self, z1, z2):\n"
        "        a, b = F.normalize(z1, dim=1), F.normalize(z2, dim=1)\n"
        "        return F.cross_entropy(a @ b.T / 0.1, torch.arange(len(a)))  # InfoNCE\n",
        " vs ",
    ),
    "distillation": (
        "def reference(student_logits, teacher_logits, labels):\n"
        "    soft = F.kl_div(F.log_softmax(student_logits / 2, -1), F.softmax(teacher_logits / 2, -1),"
        " reduction='batchmean')\n"
        "    return soft + 0.5 * F.cross_entropy(student_logits, labels)\n",
        "class DistillationLoss(nn.Module):\n"
        "    def __init__(self, t: float = 2.0, hard: float = 0.5):\n"
        "        super().__init__()\n        self.t, self.hard = t, hard\n\n"
        "    def forward(self, student_logits, teacher_logits, labels):\n"
        "        p = F.softmax(teacher_logits.detach() / self.t, -1)\n"
        "        soft = F.kl_div(F.log_softmax(student_logits / self.t, -1), p, reduction='batchmean')\n"
        "        return soft + self.hard * F.cross_entropy(student_logits, labels)\n",
        "class DistillationLoss(nn.Module):\n"
        "    def forward(self, student_logits, teacher_logits, labels):\n"
        "        return F.cross_entropy(student_logits, labels)  # no teacher\n",
        " vs ",
    ),
    "peft": (
        "def reference(h, adapter):\n    return h + adapter.up(F.gelu(adapter.down(h)))\n",
        "class Adapter(nn.Module):\n"
        "    def __init__(self, dim: int, size: int = 4):\n"
        "        super().__init__()\n"
        "        self.down, self.up = nn.Linear(dim, size), nn.Linear(size, dim)\n"
        "        nn.init.zeros_(self.up.weight)\n        nn.init.zeros_(self.up.bias)\n\n"
        "    def forward(self, h):\n        return h + self.up(F.gelu(self.down(h)))\n",
        "class Adapter(nn.Module):\n"
        "    def __init__(self, dim: int, size: int = 4):\n"
        "        super().__init__()\n"
        "        self.down, self.up = nn.Linear(dim, size), nn.Linear(size, dim)\n\n"
        "    def forward(self, h):\n        return self.up(self.down(h))  # no skip, no nonlinearity\n",
        "largest difference",
    ),
    "augmentation": (
        "def reference(x, y):\n"
        "    flip = torch.rand(len(x)) < 0.5\n"
        "    x = x.clone()\n    x[flip] = 1 - x[flip]\n    return x, y\n",
        "class Augment(nn.Module):\n"
        "    def __init__(self, p: float = 0.5):\n        super().__init__()\n        self.p = p\n\n"
        "    def forward(self, x, y):\n"
        "        if not self.training:\n            return x, y\n"
        "        x = x.clone()\n        chosen = torch.rand(len(x)) < self.p\n"
        "        x[chosen] = 1 - x[chosen]\n        return x, y\n",
        "class Augment(nn.Module):\n    def forward(self, x, y):\n        return x, y  # no augmentation\n",
        "share of images changed: 0, the paper's 0.4",
    ),
    "regularizer": (
        "def reference(x, training):\n    return x * (1 + 0.5 * torch.randn_like(x)) if training else x\n",
        "class Regularizer(nn.Module):\n"
        "    def __init__(self, sigma: float = 0.5):\n"
        "        super().__init__()\n        self.sigma = sigma\n\n"
        "    def forward(self, x):\n"
        "        if not self.training:\n            return x\n"
        "        return x * (1 + self.sigma * torch.randn_like(x))\n",
        "class Regularizer(nn.Module):\n"
        "    def forward(self, x):\n"
        "        if not self.training:\n            return x\n"
        "        return x * torch.bernoulli(torch.full_like(x, 0.5)) / 0.5  # dropout\n",
        "share of units set to 0 in training: 0.5",
    ),
    "generative": (
        "def reference(critic, real, fake):\n"
        "    d_real, d_fake = critic(real), critic(fake)\n"
        "    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean(), -d_fake.mean()\n",
        "class Objective(nn.Module):\n"
        "    def __init__(self, margin: float = 1.0):\n"
        "        super().__init__()\n        self.margin = margin\n\n"
        "    def critic_loss(self, critic, real, fake):\n"
        "        hinge = F.relu(self.margin - critic(real)).mean()\n"
        "        return hinge + F.relu(self.margin + critic(fake)).mean()\n\n"
        "    def generator_loss(self, critic, fake):\n        return -critic(fake).mean()\n",
        "class Objective(nn.Module):\n"
        "    def critic_loss(self, critic, real, fake):\n"
        "        return critic(fake).mean() - critic(real).mean()  # the plain Wasserstein critic\n\n"
        "    def generator_loss(self, critic, fake):\n        return -critic(fake).mean()\n",
        "the critic's loss averages",
    ),
}


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return pytest_in(root, "tests/test_fidelity.py")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], subprocess.CompletedProcess[str]]:
    lib, tmp = SkillLibrary(), tmp_path_factory.mktemp("verifier")
    repos = {}
    for kind, (reference, method, baseline, _) in CASES.items():
        for which, code in (("paper", method), ("baseline", baseline)):
            root = tmp / kind / which
            repos[kind, which] = materialize(lib, kind, root, HEAD + code, None, HEAD + reference)
    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(repos, pool.map(check, repos.values()), strict=True))
    return done


def test_every_kind_without_a_probe_has_a_check_against_the_paper():
    blueprints = SkillLibrary().blueprints()
    unchecked = {k for k, s in blueprints.items() if s.fidelity() is None and not s.metadata.get("probe")}
    assert unchecked == set()
    assert set(CASES) == {k for k, s in blueprints.items() if s.fidelity() is not None} - {"layer"}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_check_passes_the_papers_method_and_rejects_the_baseline(runs, kind: str):
    paper, baseline = runs[kind, "paper"], runs[kind, "baseline"]
    assert paper.returncode == 0, paper.stdout[-2000:]
    assert baseline.returncode == 1, baseline.stdout[-2000:]  # a failed assertion, not a crash
    assert "AssertionError" in baseline.stdout and CASES[kind][3] in baseline.stdout, baseline.stdout[-2000:]
