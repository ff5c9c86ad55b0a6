"""Structured output on the embedded models: grammar-constrained against unconstrained.

20 prompts each ask for a paper-plan-like object (title, files with purposes,
hyper-parameters). Constrained: ``ChatModel.chat(schema=...)`` decoding under the
JSON-schema grammar. Unconstrained: the same prompt and schema text, free
decoding, then the same validation. Both are counted on the first reply, with no
repair round, so the rate is the decoder's own.

    .venv/bin/python bench/structured.py [--models ...] [--n 20]
"""

from __future__ import annotations

import argparse
import time

from pydantic import BaseModel, Field, ValidationError
from rich.console import Console
from rich.table import Table

from smolab.config import load_settings
from smolab.models import StructuredOutputError, load_model
from smolab.models.structured import extract_json, schema_for, schema_instruction


class PlannedFile(BaseModel):
    path: str = Field(max_length=60)
    purpose: str = Field(max_length=120)


class HyperParameter(BaseModel):
    name: str = Field(max_length=40)
    value: str = Field(max_length=30)


class PaperPlan(BaseModel):
    title: str = Field(max_length=100)
    files: list[PlannedFile] = Field(min_length=1, max_length=6)
    hyperparameters: list[HyperParameter] = Field(max_length=8)


PAPERS = [
    "Attention Is All You Need: a Transformer with d_model 512, 6 layers, 8 heads, dropout 0.1, warmup 4000",
    "Deep Residual Learning: ResNet-18 on CIFAR-10, SGD momentum 0.9, lr 0.1, weight decay 1e-4",
    "Adam: a method for stochastic optimization, beta1 0.9, beta2 0.999, eps 1e-8",
    "Dropout: a simple way to prevent overfitting, p 0.5 on an MLP for MNIST",
    "Batch Normalization on a small CNN, momentum 0.1, eps 1e-5",
    "BERT pre-training with masked language modelling, 15% masking, hidden 768",
    "Variational autoencoders on MNIST, latent size 20, lr 1e-3",
    "Generative adversarial networks (DCGAN) on CelebA, lr 2e-4, beta1 0.5",
    "Denoising diffusion probabilistic models, 1000 steps, linear beta schedule",
    "LoRA low-rank adaptation, rank 8, alpha 16, on a small GPT-2",
    "Word2Vec skip-gram with negative sampling, window 5, 5 negatives",
    "U-Net for image segmentation, depth 4, base channels 64",
    "Vision Transformer on CIFAR-10, patch size 4, 6 layers, 8 heads",
    "Layer normalization in a recurrent network, hidden 256",
    "Knowledge distillation with temperature 4 and alpha 0.9",
    "PPO for CartPole, clip 0.2, gamma 0.99, GAE lambda 0.95",
    "Graph convolutional networks on Cora, 2 layers, hidden 16, dropout 0.5",
    "SimCLR contrastive learning, temperature 0.5, batch 256",
    "Mixture of experts layer with 8 experts and top-2 gating",
    "Neural ODEs on a spiral dataset, dopri5 solver, tolerance 1e-3",
]


def prompt_for(paper: str) -> str:
    return f"Plan a small PyTorch repository that reproduces this paper: {paper}. Keep it short."


def run(model_name: str, n: int, console: Console) -> list[tuple[str, str, int, int, float]]:
    settings = load_settings(temperature=0.0, max_repairs=0, max_tokens=400)
    model = load_model(model_name, settings)
    rows = []
    hint = schema_instruction(schema_for(PaperPlan))  # the very text constrained calls carry
    for mode in ("constrained", "unconstrained"):
        valid, seconds = 0, 0.0
        for paper in PAPERS[:n]:
            start = time.perf_counter()
            if mode == "constrained":
                try:
                    model.chat(prompt_for(paper), schema=PaperPlan)
                    valid += 1
                except StructuredOutputError:
                    pass
            else:
                reply = model.chat(f"{prompt_for(paper)}\n\n{hint}").text
                try:
                    PaperPlan.model_validate_json(extract_json(reply))
                    valid += 1
                except ValidationError:
                    pass
            seconds += time.perf_counter() - start
        console.log(f"{model_name} {mode}: {valid}/{n} valid")
        rows.append((model_name, mode, valid, n, seconds / n))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "smollm2-135m"])
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    console = Console(width=130)
    table = Table(title="plan-like structured replies, first attempt, greedy")
    for col in ("model", "decoding", "schema-valid", "rate", "s / reply"):
        table.add_column(col, justify="right")
    for name in args.models:
        for model_name, mode, valid, n, per in run(name, args.n, console):
            table.add_row(model_name, mode, f"{valid}/{n}", f"{valid / n:.0%}", f"{per:.1f}")
    console.print(table)


if __name__ == "__main__":
    main()
