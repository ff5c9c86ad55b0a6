"""Inference speed: smolab's llamacpp backend against raw llama-cpp-python, side by side.

Same GGUF, same threads, same context size, same prompts, greedy decoding; runs
alternate between the two so machine noise hits both alike. Prompt processing
is measured cold (KV cache cleared before every run) on both sides.

Then: the time for a second prompt that shares a long prefix with the first,
with smolab's prefix reuse on and off.

    .venv/bin/python bench/inference.py [--models qwen2.5-coder-0.5b smollm2-135m] [--repeats 3]

``--lookup N`` compares prompt-lookup decoding (N tokens drafted ahead) with plain decoding on a
rewrite-shaped prompt (a module sent back with one change asked for, as repair and fresh attempts
send): same GGUF, greedy, runs alternating; the replies must be the same.

    .venv/bin/python bench/inference.py --lookup 10 --models qwen2.5-coder-1.5b

``--builds LABEL=WHEEL ...`` compares llama.cpp builds instead (the set-up's choice against the
alternatives): each wheel is installed into a folder of its own, and a child process per run
imports it from there and decodes the same rendered prompt; children alternate between builds.
A build that crashes is reported with its signal.

    .venv/bin/python bench/inference.py --builds chosen=W1.whl avx2=W2.whl native=W3.whl \
        --models qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from smolab.config import load_settings
from smolab.models import ChatModel, Message
from smolab.models.llamacpp import LlamaCppBackend, available_cores
from smolab.models.loader import gguf_path, store_for
from smolab.models.registry import resolve

PROMPTS = [
    "Explain in detail how the Transformer's multi-head attention works, step by step.",
    "Write a PyTorch training loop for a small convolutional network on CIFAR-10, with comments.",
    "Describe the differences between Adam, AdamW and SGD with momentum, and when to use each.",
]
# A few hundred tokens of context before each question, as later stages send, so that
# prompt processing is measured on real work rather than on per-call overhead.
CONTEXT = " ".join(
    f"Note {i}: the encoder block {i} applies attention, a residual connection and layer norm."
    for i in range(30)
)
MAX_TOKENS = 128
N_CTX = 4096


def raw_run(llm: Any, tokens: list[int]) -> tuple[int, float, float]:
    """(sampled tokens, seconds to first token, total seconds) with plain llama-cpp-python."""
    llm.reset()
    start = time.perf_counter()
    first = None
    for part in llm.create_completion(prompt=tokens, max_tokens=MAX_TOKENS, temperature=0.0, stream=True):
        if part["choices"][0]["text"] and first is None:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    # Every sampled token but the last was fed back in: the same count smolab reports.
    sampled = llm.n_tokens - len(tokens) + 1
    return sampled, first or total, total


def smolab_run(model: ChatModel, prompt: str) -> tuple[int, int, float, float]:
    c = model.chat([Message("user", f"{CONTEXT}\n\n{prompt}")], max_tokens=MAX_TOKENS, temperature=0.0)
    u = c.usage
    return u.prompt_tokens, u.completion_tokens, u.first_token_seconds or u.seconds, u.seconds


def bench_model(
    name: str, repeats: int, console: Console
) -> list[tuple[str, float, float, float, float, float, float]]:
    from llama_cpp import Llama

    settings = load_settings()
    spec = resolve(name)
    path = gguf_path(spec, store_for(settings))
    threads = available_cores()
    raw = Llama(
        model_path=str(path),
        n_ctx=N_CTX,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=512,
        verbose=False,
    )
    ours = ChatModel(
        LlamaCppBackend(path, name=name, context_window=N_CTX, threads=threads, reuse_prefix=False)
    )
    # Warm both (page the weights in) before timing.
    backend = ours.backend
    assert isinstance(backend, LlamaCppBackend)
    # Both sides get the very same tokens: the prompt rendered with the GGUF's chat template.
    rendered = {p: backend.render([Message("user", f"{CONTEXT}\n\n{p}")])[0] for p in PROMPTS}
    raw_run(raw, rendered[PROMPTS[0]])
    smolab_run(ours, PROMPTS[0])

    raw_pp, raw_gen, our_pp, our_gen, pp_ratio, gen_ratio = [], [], [], [], [], []
    for rep in range(repeats):
        for prompt in PROMPTS:
            # Alternate which side goes first so drift and cache warmth favour neither.
            runs = {}
            for side in ("smolab", "raw") if rep % 2 == 0 else ("raw", "smolab"):
                if side == "smolab":
                    p_tokens, n, ttft, total = smolab_run(ours, prompt)
                    assert len(rendered[prompt]) == p_tokens
                    runs[side] = (p_tokens / ttft, (n - 1) / (total - ttft))
                else:
                    n_raw, ttft_raw, total_raw = raw_run(raw, rendered[prompt])
                    runs[side] = (len(rendered[prompt]) / ttft_raw, (n_raw - 1) / (total_raw - ttft_raw))
            our_pp.append(runs["smolab"][0])
            our_gen.append(runs["smolab"][1])
            raw_pp.append(runs["raw"][0])
            raw_gen.append(runs["raw"][1])
            pp_ratio.append(runs["smolab"][0] / runs["raw"][0])
            gen_ratio.append(runs["smolab"][1] / runs["raw"][1])
    med = statistics.median
    console.log(f"{name}: {len(PROMPTS) * repeats} back-to-back pairs, {threads} threads")
    del raw
    return [(name, med(raw_pp), med(our_pp), med(pp_ratio), med(raw_gen), med(our_gen), med(gen_ratio))]


def bench_prefix(name: str, console: Console) -> tuple[int, float, float]:
    """Seconds for a second prompt sharing a long prefix with the first: reuse on vs off."""
    settings = load_settings()
    path = gguf_path(resolve(name), store_for(settings))
    shared = Message(
        "system",
        "You are implementing a research paper. Paper digest: "
        + " ".join(
            f"Section {i}: the model uses layer {i} with width {64 * i} and dropout 0.1." for i in range(60)
        ),
    )
    timings = {}
    prefix_tokens = 0
    for reuse in (True, False):
        backend = LlamaCppBackend(path, name=name, context_window=N_CTX, reuse_prefix=reuse)
        backend.llm.reset()
        model = ChatModel(backend)
        model.chat([shared, Message("user", "List the files to write.")], max_tokens=8, temperature=0.0)
        start = time.perf_counter()
        second = model.chat(
            [shared, Message("user", "Write the config file.")], max_tokens=8, temperature=0.0
        )
        timings[reuse] = time.perf_counter() - start
        prefix_tokens = second.usage.cached_tokens if reuse else prefix_tokens
        console.log(
            f"prefix reuse={reuse}: cached {second.usage.cached_tokens} of {second.usage.prompt_tokens}"
        )
    return prefix_tokens, timings[True], timings[False]


def build_child(path: str) -> None:
    """One measured decode with whichever llama_cpp is first on the path: JSON on stdout."""
    import llama_cpp

    threads = available_cores()
    llm = llama_cpp.Llama(
        model_path=path, n_ctx=N_CTX, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False
    )
    backend = LlamaCppBackend(Path(path), context_window=N_CTX, threads=threads)
    backend._llm, backend._formatter = llm, backend._make_formatter(llm)
    tokens = backend.render([Message("user", f"{CONTEXT}\n\n{PROMPTS[1]}")])[0]
    raw_run(llm, tokens)  # warm: page the weights in
    sampled, first, total = raw_run(llm, tokens)
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    print(json.dumps({"pp": len(tokens) / first, "gen": (sampled - 1) / (total - first), "info": info}))


def bench_builds(builds: dict[str, Path], model: str, repeats: int, console: Console) -> Table:
    """Prompt and generation speed of each build (medians over ``repeats`` alternating runs)."""
    path = str(gguf_path(resolve(model), store_for(load_settings())))
    results: dict[str, dict[str, list[float]] | str] = {label: {"pp": [], "gen": []} for label in builds}
    with tempfile.TemporaryDirectory() as tmp:
        targets = {}
        for label, wheel in builds.items():
            targets[label] = Path(tmp) / label
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-deps",
                    "--target",
                    str(targets[label]),
                    str(wheel),
                ],
                check=True,
            )
        for rep in range(repeats):
            order = list(builds) if rep % 2 == 0 else list(reversed(builds))
            for label in order:
                if isinstance(results[label], str):
                    continue
                env = dict(os.environ, PYTHONPATH=str(targets[label]))
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", path], capture_output=True, text=True, env=env
                )
                if proc.returncode != 0:
                    why = signal.Signals(-proc.returncode).name if proc.returncode < 0 else "error"
                    results[label] = f"crashes ({why})"
                    continue
                got = json.loads(proc.stdout.strip().splitlines()[-1])
                runs = results[label]
                assert isinstance(runs, dict)
                runs["pp"].append(got["pp"])
                runs["gen"].append(got["gen"])
                console.log(f"{label}: {got['pp']:.1f} prompt, {got['gen']:.1f} gen tok/s")
    med = statistics.median
    first = next(iter(builds))
    base = results[first]
    table = Table(
        title=f"llama.cpp builds on this CPU, {model}, greedy, medians of {repeats} (ratio: against {first})"
    )
    for col in ("build", "prompt tok/s", "ratio", "gen tok/s", "ratio"):
        table.add_column(col, justify="right")
    for label, runs in results.items():
        if isinstance(runs, str) or not runs["pp"]:
            table.add_row(label, str(runs), "", "", "")
            continue
        pp, gen = med(runs["pp"]), med(runs["gen"])
        ratios = ("", "")
        if isinstance(base, dict) and base["pp"]:
            ratios = (f"{pp / med(base['pp']):.2f}", f"{gen / med(base['gen']):.2f}")
        table.add_row(label, f"{pp:.1f}", ratios[0], f"{gen:.1f}", ratios[1])
    return table


REWRITE_SOURCE = Path(__file__).resolve().parents[1] / "tests" / "methods"
REWRITE_MODULES = ("layer", "peft", "optimizer")
REWRITE_ASK = (
    "Here is method.py:\n\n```python\n{code}```\n\nRename the class's forward argument from its "
    "name to `inputs` everywhere, and change nothing else. Reply with the complete method.py in one "
    "```python block, and nothing else."
)


def bench_lookup(name: str, draft: int, repeats: int) -> list[tuple[str, int, float, float, bool]]:
    """Per rewritten module, and a prompt for new code: (module, reply tokens, plain s, lookup s,
    same reply)."""
    settings = load_settings()
    path = gguf_path(resolve(name), store_for(settings))
    threads = settings.threads or available_cores()
    plain = ChatModel(LlamaCppBackend(path, name=name, context_window=N_CTX, threads=threads))
    lookup = ChatModel(LlamaCppBackend(path, name=name, context_window=N_CTX, threads=threads, draft=draft))
    rows = []
    asks = {m: REWRITE_ASK.format(code=(REWRITE_SOURCE / f"{m}.py").read_text()) for m in REWRITE_MODULES}
    asks["(new code)"] = PROMPTS[1]  # copies little from its prompt: what drafting costs there
    for module, ask in asks.items():
        messages = [Message("user", ask)]
        times: dict[str, list[float]] = {"plain": [], "lookup": []}
        texts: dict[str, str] = {}
        tokens = 0
        for _ in range(repeats):
            for label, model in (("plain", plain), ("lookup", lookup)):
                model.backend.llm.reset()  # a cold prompt on both sides: only the reply differs
                reply = model.chat(messages, max_tokens=600, temperature=0.0)
                times[label].append(reply.usage.seconds)
                texts[label] = reply.text
                tokens = reply.usage.completion_tokens
        same = texts["plain"] == texts["lookup"]
        off, on = statistics.median(times["plain"]), statistics.median(times["lookup"])
        rows.append((module, tokens, off, on, same))
    return rows


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        build_child(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "smollm2-135m"])
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--builds", nargs="+", metavar="LABEL=WHEEL", help="compare llama.cpp builds")
    ap.add_argument("--lookup", type=int, metavar="N", help="compare prompt-lookup decoding, N tokens ahead")
    args = ap.parse_args()
    console = Console(width=130)
    if args.lookup:
        title = f"rewrite-shaped prompt, greedy, cold: plain vs prompt lookup ({args.lookup} ahead)"
        table = Table(title=title)
        for col in ("model", "module", "reply tokens", "plain s", "lookup s", "speed-up", "same reply"):
            table.add_column(col, justify="right")
        for name in args.models:
            for module, tokens, off, on, same in bench_lookup(name, args.lookup, args.repeats):
                cells = (str(tokens), f"{off:.1f}", f"{on:.1f}", f"{off / on:.2f}x", str(same))
                table.add_row(name, module, *cells)
        console.print(table)
        return
    if args.builds:
        builds = {label: Path(wheel) for label, _, wheel in (b.partition("=") for b in args.builds)}
        for name in args.models:
            console.print(bench_builds(builds, name, args.repeats, console))
        return

    table = Table(
        title=f"llama.cpp inference, greedy, {MAX_TOKENS} new tokens, cold prompt "
        "(medians; ratio = median of back-to-back smolab/raw pairs)"
    )
    for col in (
        "model",
        "prompt tok/s raw",
        "prompt tok/s smolab",
        "ratio",
        "gen tok/s raw",
        "gen tok/s smolab",
        "ratio",
    ):
        table.add_column(col, justify="right")
    for name in args.models:
        for model, rpp, opp, ppr, rgen, ogen, genr in bench_model(name, args.repeats, console):
            cells = (f"{rpp:.1f}", f"{opp:.1f}", f"{ppr:.3f}", f"{rgen:.1f}", f"{ogen:.1f}", f"{genr:.3f}")
            table.add_row(model, *cells)
    console.print(table)

    prefix = Table(title="second prompt sharing a long prefix with the first")
    for col in ("model", "prompt tokens reused", "with reuse (s)", "without reuse (s)", "speed-up"):
        prefix.add_column(col, justify="right")
    for name in args.models:
        n, on, off = bench_prefix(name, console)
        prefix.add_row(name, str(n), f"{on:.2f}", f"{off:.2f}", f"{off / on:.1f}x")
    console.print(prefix)


if __name__ == "__main__":
    main()
