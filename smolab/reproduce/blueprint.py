"""Reproducing inside a blueprint: the kind of contribution, the one module the model writes,
and the config filled from the method's own signature and the paper's stated values.

A small model cannot write a repository that runs, but it can write one module against a fixed
interface. The blueprint (a skill) owns everything else and its contract tests; the model is
asked which kind of contribution the paper makes (a bounded choice drawn from the blueprints'
descriptions), then for ``method.py`` alone.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from ..paper import unnest
from ..paper.digest import DERIVATIVE, HEADLINE, UNKNOWN, Digest, stems
from ..skills import Skill
from .code import init_of
from .fingerprint import stated_shapes, step_maps
from .plan import config_value, yaml_line
from .schemas import Architecture, FileSpec

OTHER = "other"
INPUTS = ("vector", "image", "sequence")


# What the paper proposes, asked before its kind: a small model sorts a named thing far better
# than a page of abstract. (No docstring: it would reach the prompt as the schema's description,
# and small models copy it into their answers.)
class Proposal(BaseModel):
    proposes: str = Field(max_length=100, description="what the paper proposes, in a few words")
    data: Literal[INPUTS] = Field(description="the data the method works on")  # type: ignore[valid-type]
    name: str = Field(max_length=60, description="the method's name in the paper")


def kind_line(skill: Skill) -> str:
    """A blueprint's description cut to what it is for: its first sentence, without the
    "Repository skeleton for a paper whose contribution is" that every blueprint shares."""
    first = re.split(r"(?<=[.)])\s+(?=[A-Z])", skill.description.strip(), maxsplit=1)[0]
    return re.sub(r"^.*?\bwhose contribution is\s+", "", first).rstrip(".")


# Kinds that contain others (a network holds layers, a layer may hold a norm): listed last,
# since a small model takes the first kind that could fit.
GENERAL = ("layer", "architecture")


def proposal_ask(abstract: str = "", title: str = "", sections: list[str] | None = None) -> str:
    """What the paper proposes, from its own words (title, abstract, section titles) rather than
    the digest, whose guesses at an architecture would pull every paper that way."""
    lines = [f"Title: {title}"] if title else []
    if abstract:
        words = abstract.split()
        lines.append(f"The paper's abstract: {' '.join(words[:180])}{' …' if len(words) > 180 else ''}")
    if sections:
        lines.append("Its sections: " + "; ".join(sections[:12]))
    lines += [
        "",
        "What does this paper propose that is new? Judge by what it proposes, not by the models it "
        "trains to show it. Also say what data the method works on: vector (tabular features), image "
        "(pictures or feature maps) or sequence (tokens or time steps), and the method's name.",
    ]
    return "\n".join(lines).lstrip("\n")


def kind_ask(blueprints: dict[str, Skill], proposal: Proposal) -> str:
    """The kind, asked over the proposal alone, in free text: a grammar-bound choice among
    fourteen labels drifts to whichever comes first, a one-word answer does not."""
    ordered = sorted(
        blueprints.items(),
        key=lambda kv: (GENERAL.index(kv[0]) + 1 if kv[0] in GENERAL else 0, kv[0]),
    )
    return "\n".join(
        [
            f"A machine-learning paper proposes {proposal.name}: {proposal.proposes}.",
            "",
            "Which kind of contribution is it?",
            *(f"- {kind}: {kind_line(skill)}" for kind, skill in ordered),
            f"- {OTHER}: none of these",
            "Answer with the kind's name only.",
        ]
    )


# A proposal named as a part (an "SE block", a "gating unit") is a layer, even when the paper
# calls it architectural: the blueprint for a block stacks it in a network the skeleton owns.
PART = re.compile(r"\b(?:block|unit|module|cell)s?\b", re.I)


def parse_kind(
    reply: str,
    kinds: list[str],
    proposal: Proposal | None = None,
    lines: dict[str, str] | None = None,
) -> str:
    """The kind the reply names first (``other`` when it names none), overruled in two plain
    cases: a part named as a block is a layer, and a kind whose line shares no word with the
    proposal gives way to the one kind whose line shares two or more ("a warm restart technique
    for SGD" named an optimizer, where the schedule's line lists warm restarts)."""
    text = reply.lower()
    found = [(m.start(), k) for k in kinds if (m := re.search(rf"\b{re.escape(k)}\b", text))]
    kind = min(found)[1] if found else OTHER
    if proposal is None:
        return kind
    said = f"{proposal.name} {proposal.proposes}"
    if kind == "architecture" and "layer" in kinds and PART.search(said):
        return "layer"
    if lines and kind in lines:
        words = stems(said)
        shared = {k: len(words & stems(line)) for k, line in lines.items()}
        best = max(shared.values())
        leaders = [k for k, n in shared.items() if n == best]
        if shared[kind] == 0 and best >= 2 and len(leaders) == 1:
            return leaders[0]
    return kind


FUNCTION_AGAIN = (
    "\n\nA first reply defined a class and no function. Write no class: only the one function "
    "`def reference(...)` shown above, its body the equations as plain torch statements."
)


def name_reference(code: str) -> str | None:
    """reference.py with its function named ``reference``: a reply that named its one function
    otherwise gets an alias; one with no function at all is no reference (None)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    if "reference" in functions:
        return code
    if len(functions) == 1:
        return code.rstrip("\n") + f"\n\n\nreference = {functions[0]}\n"
    return None


_FUNCTIONAL = {"F", "functional", "torch", "nn"}


def without_dropout(code: str) -> str:
    """reference.py with each functional dropout call (``F.dropout(t, p=0.1)``) replaced by its
    input: the reference is compared in evaluation mode, and ``F.dropout`` drops at random unless
    told ``training=False`` (seen on an adapter's reference, told to leave dropout out)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        f = node.func
        named = isinstance(f, ast.Name) and f.id == "dropout"
        held = isinstance(f, ast.Attribute) and f.attr == "dropout" and _root_name(f.value) in _FUNCTIONAL
        if named or held:
            calls.append(node)
    lines = code.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(row: int, col: int) -> int:  # ast's columns count UTF-8 bytes
        return starts[row - 1] + len(lines[row - 1].encode()[:col].decode())

    out = code
    # The last call first, so that earlier offsets still hold (of two nested, the inner goes).
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        inner = ast.get_source_segment(code, node.args[0])
        if inner is None or node.end_lineno is None or node.end_col_offset is None:
            continue
        begin, end = offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
        if out[begin:end] == ast.get_source_segment(code, node):
            out = out[:begin] + inner + out[end:]
    return out


def _root_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def numbers(constants: dict[str, Any], limit: int = 8) -> dict[str, int | float]:
    """The numeric constants a reference is told (words and flags are not constants of a formula)."""
    found = {k: v for k, v in constants.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return dict(list(found.items())[:limit])


def define_constants(code: str, constants: dict[str, Any]) -> str:
    """reference.py with the constants it was given and uses without defining them (``beta1``
    in a formula, never assigned) set at module level: a small model told "runs with beta1 =
    0.9" often writes the name and forgets the value."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    used = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    missing = [name for name in dict.fromkeys(used) if name not in bound and name in constants]
    if not missing:
        return code
    lines = code.splitlines()
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    at = max((n.end_lineno or n.lineno for n in imports), default=0)
    added = [f"{name} = {constants[name]!r}" for name in missing]
    return "\n".join([*lines[:at], "", *added, *lines[at:]]) + "\n"


# Settings of training, not of the method module: the skeleton owns them.
TRAINING = re.compile(
    r"learning.?rate|\blr\b|batch|optimi[sz]er|epoch|steps?\b|weight.?decay|momentum|warm.?up|"
    r"label.?smoothing|schedule|seed|gpu|iteration",
    re.I,
)


def not_training(name: str) -> bool:
    """A hyper-parameter of the method, not of its training (which the skeleton owns)."""
    return not TRAINING.search(name)


def data_input(skill: Skill, data: str) -> str | None:
    """The data the method works on, where the blueprint lets it choose (its ``inputs``)."""
    return data if data in skill.metadata.get("inputs", "").split() else None


def pitch(contribution: dict[str, Any]) -> str:
    """The proposal in one line ("Swish: a new activation function"), "" when none was read."""
    name, proposes = contribution.get("name", ""), contribution.get("proposes", "")
    return f"{name}: {proposes}" if name and proposes else proposes or name


# Words of a proposal's name that say nothing about which equations are its own.
GENERIC = frozenset(
    re.findall(
        r"\w+",
        "a an the of for and to in on with via by new simple novel efficient improved improving "
        "learning deep neural network networks model models method approach technique training "
        "towards toward large scale",
    )
)
CALLED = re.compile(
    r"\b(?:called|termed|term|named|dubbed|coined)\s+(?:the\s+|an?\s+)?[“\"']?([\w\- ]{3,40}?)[”\"',.(]",
    re.I,
)
# A value the paper states for a symbol it says is learned is where training starts ("α is a
# learned scalar initialised to 0"): told as a plain value, a small model made α a constant 0.
LEARNED_VALUE = (
    " (the initial value of a learned parameter: an nn.Parameter that starts there, not an argument)"
)
PROPOSED_NOTE = (
    "[proposed] marks the equations of what the paper proposes: implement those; the others are "
    "the notation they build on or the baselines they change."
)


def _name_words(text: str) -> set[str]:
    return {w.lower()[:5] for w in re.findall(r"[A-Za-z]{2,}", text) if w.lower() not in GENERIC}


def proposed_equations(digest: Digest, contribution: dict[str, Any]) -> frozenset[str]:
    """The key equations of what the paper proposes: the abstract's own formulas, and those whose
    section title or surrounding sentences name the proposal ("Gradient penalty", "a Group Norm
    layer computes ..."). Papers set out the baseline first (the GAN before its penalty, SGD before its
    restarts) and a small model implements the first equation it reads. None are marked when
    everything is; a derivative is never the proposal."""
    name = str(contribution.get("name", ""))
    called = CALLED.search(str(contribution.get("proposes", "")))
    words = _name_words(name) | (_name_words(called.group(1)) if called else set())
    marked = set()
    for e in digest.equations:
        section = digest.sections.get(e, "")
        around = digest.where.get(e, "")
        if section == HEADLINE or (words & _name_words(f"{section} {around}") and not DERIVATIVE.match(e)):
            marked.add(e)
    return frozenset(marked) if len(marked) < len(digest.equations) else frozenset()


STEPS_ASK = "under each equation, the statement that computes it;"
MOST_STEPS = 12


def equation_steps(digest: Digest, proposed: Collection[str] = (), most: int = MOST_STEPS) -> list[str]:
    """The proposal's equations (all key equations where none is marked) as single-operation
    steps, whole equations only while ``most`` lines last, with the equations that define what
    they read. Where the proposal is marked, one that cannot be unnested (a sum, a set) is one
    line as written; otherwise it is left out (the list above the code still has it), since an
    unmarked list also holds the loss a block is trained with."""
    split = [(e, d) for e in digest.equations for d in unnest.definitions(e)]
    chosen = [d for e, d in split if e in proposed]
    lines: list[str] = []
    for e in with_definitions(chosen, [d for _, d in split]) if chosen else digest.equations:
        written = unnest.as_written(e) if chosen else None
        found = unnest.steps(e) or ([written] if written else None)
        if not found or len(lines) + len(found) > most:
            continue
        lines += found
    return lines


def annotated(steps: list[str], context: str) -> list[str]:
    """Steps that apply a weight matrix, told what it is in torch: ``W_1 t_1 + b_1`` is one
    linear layer holding W_1 and its bias, with its sizes where the paper states them
    (``W_1 ∈ R^{d_h × d}``). Small models otherwise split ``W_1 t_1 + b_1`` into two layers,
    or reuse one layer for two of the paper's matrices."""
    shapes = stated_shapes(context)
    out = []
    for step in steps:
        maps = step_maps(step)
        notes = []
        for m in maps:
            size = f", {shapes[m.weight][1]} -> {shapes[m.weight][0]} features" if m.weight in shapes else ""
            holds = f"{m.weight} and its bias {m.bias}" if m.bias else f"{m.weight}, no bias"
            notes.append(f"{m.weight}: one linear layer of its own{size}, holding {holds}")
        out.append(f"{step}   ({'; '.join(notes)})" if notes else step)
    return out


def with_definitions(chosen: list[str], everything: Sequence[str]) -> list[str]:
    """``chosen`` and the other equations that define a symbol they read which nothing chosen
    defines, each after those that define what it reads (else in the paper's order): the squeeze
    ``z_c = 1/(H × W) ∑ u_c(i, j)`` before the excitation ``σ(W_2 δ(W_1 z))`` marked as the
    proposal (without it, ``z`` came from nowhere)."""
    taken = list(chosen)
    defined = {unnest.defines(e) for e in taken} - {None}
    grew = True
    while grew:
        wanted = set().union(*(unnest.uses(e) for e in taken)) - defined
        # One definition a symbol: the paper's last (BN's, LN's and IN's sets come before GN's).
        last = {unnest.defines(e): e for e in everything if e not in taken}
        more = [e for name, e in last.items() if name in wanted]
        taken += more
        defined |= {unnest.defines(e) for e in more} - {None}
        grew = bool(more)
    waiting = [e for e in everything if e in taken] + [e for e in chosen if e not in everything]
    by = {e: unnest.defines(e) for e in waiting}
    ordered: list[str] = []
    while waiting:
        # The first in the paper's order whose inputs (defined here by another) are all written.
        ready = next(
            (
                e
                for e in waiting
                if not {by[o] for o in waiting if o != e and by[o] != by[e]} & unnest.uses(e)
            ),
            waiting[0],  # a cycle: the paper's order
        )
        ordered.append(ready)
        waiting.remove(ready)
    return ordered


def stepped(skill: Skill) -> bool:
    """Whether the blueprint's method (and so its reference) is scaffolded one step a line."""
    return bool(skill.metadata.get("steps"))


_STUB_END = re.compile(r"^(?P<head>.*\S)\s*:\s*\.\.\.\s*(?:#\s*(?P<said>.*))?$")


def _outside(line: str, indent: str) -> bool:
    """Whether ``line`` ends a def indented by ``indent`` (a signature's closing ``)`` does not)."""
    code = line.lstrip()
    return bool(code) and len(line) - len(code) <= len(indent) and not code.startswith(")")


def with_steps(body: str, function: str, lines: list[str]) -> str:
    """The blueprint's instructions with ``lines`` written as comments into the stub of
    ``function`` in its first code block, above its last ``...`` (an optimizer's ``step`` has
    one for its state, then one for the update the equations or the algorithm box give): a small
    model completes a scaffold of comments one statement each far better than it composes nested
    equations. A stub whose ``...`` ends its signature (``) -> float: ...``, as formatters write
    it) is opened into a body first."""
    if not lines:
        return body
    out = body.splitlines()
    found: tuple[int, str, str, list[str]] | None = None  # (line, indent, its comment, head)
    inside: str | None = None  # the def's own indentation while inside it
    for i, line in enumerate(out):
        started = re.match(rf"(\s*)def {re.escape(function)}\(", line)
        if started:
            inside, pad = started.group(1), started.group(1) + "    "
        elif inside is not None and _outside(line, inside):
            break
        if inside is None:
            continue
        stub = _STUB_END.match(line)
        if line.strip().startswith("..."):
            indent = line[: len(line) - len(line.lstrip())]
            said = line.strip().removeprefix("...").strip().removeprefix("#").strip()
            found = (i, indent, said, [])
        elif stub:
            found = (i, pad, (stub.group("said") or "").strip(), [stub.group("head") + ":"])
    if found is None:
        return body
    i, indent, said, head = found
    if function == FILLED:
        out[i : i + 1] = [*head, *_fill_in(lines, indent, said)]
        return "\n".join(out)
    steps = [f"{indent}# {step}" for step in lines]
    out[i : i + 1] = [*head, *steps, f"{indent}...  # {STEPS_ASK} {said}".rstrip()]
    return "\n".join(out)


FILLED = "forward"
"""The function whose steps are scaffolded as blanks to fill (``t_2 = ...  # W_1 t_1 + b_1``):
a module's forward pass, whose steps name the tensors they make. Given the steps as comments
alone, the 1.5B model merged them (``gelu(W_1(t_1) + W_2(t_1))``) and dropped the comments;
given one blank a step, with the name it must assign, it writes the steps one by one."""
FILL_ASK = "replace each ... with the statement that computes the equation beside it;"


def _fill_in(lines: list[str], indent: str, said: str) -> list[str]:
    out = [f"{indent}# {FILL_ASK} {said}".rstrip()]
    last = ""
    for step in lines:
        lhs, _, rhs = step.partition("=")
        name = lhs.strip()
        if rhs.strip() and name.isidentifier():
            out.append(f"{indent}{name} = ...  # {rhs.strip()}")
            last = name
        else:
            out.append(f"{indent}# {step}")
            last = ""
    out.append(f"{indent}return {last}" if last else f"{indent}...  # {STEPS_ASK}")
    return out


def method_ask(
    skill: Skill, digest: Digest, data: str | None, proposes: str = "", proposed: Collection[str] = ()
) -> str:
    """What to write into the skeleton: the paper's proposal (the classifier's words, so that a
    GAN paper's new penalty is not written as the plain GAN it improves), its equations (its own
    marked), the values it states and the blueprint's instructions."""
    equations = digest.equation_list(proposed=proposed) or "- (none extracted; follow the method text)"
    if proposed:
        equations += "\n" + PROPOSED_NOTE
    # Training settings are the skeleton's, unless training is what the method is (an optimizer).
    own_training = skill.metadata.get("training") == "method"
    learned = digest.learned()
    stated = [
        f"- {h.name} = {h.value}" + (LEARNED_VALUE if key(h.name) in learned else "")
        for h in digest.stated()
        if own_training or not TRAINING.search(h.name)
    ]
    parts = [f"The paper proposes: {proposes}"] if proposes else []
    parts.append(f"The paper's equations:\n{equations}")
    if stated:
        parts.append(
            "Values the paper states (use those that belong to this module):\n" + "\n".join(stated[:12])
        )
    parts += [
        f"Implement the paper's method as `{skill.metadata.get('method', 'method.py')}` for this "
        "repository skeleton" + (f" (the data is {data})." if data else "."),
        with_steps(
            skill.body,
            skill.metadata.get("steps", ""),
            annotated(equation_steps(digest, proposed), " ".join(digest.where.values())),
        )
        if stepped(skill)
        else skill.body,
        "Reply with the complete method.py in one ```python block, and nothing else.",
    ]
    return "\n\n".join(parts)


def init_attributes(code: str, cls: str) -> str:
    """What ``cls.__init__`` builds (``self.w1 = nn.Linear(dim, hidden)``), one line each: what
    a reference needs to use the same weights, without the forward pass it checks."""
    try:
        init = init_of(ast.parse(code), cls)
    except SyntaxError:
        return ""
    if init is None:
        return ""
    lines = []
    for node in ast.walk(init):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(isinstance(t, ast.Attribute) and ast.unparse(t.value) == "self" for t in flat):
                lines.append(ast.unparse(node)[:140])
    return "\n".join(lines[:20])


def reference_ask(
    instructions: str,
    digest: Digest,
    attributes: str = "",
    proposes: str = "",
    constants: dict[str, Any] | None = None,
    proposed: Collection[str] = (),
    steps: Sequence[str] = (),
) -> str:
    """The reference is written from the equations, in its own call, never seeing the method's
    forward pass, so that comparing the two can catch a method that is not the paper's. A block
    with weights shows its constructor's attributes, so that both sides share the weights; the
    method's configured constants (β, ε, the number of groups) are given, so that a reference
    that picks β = 2 where the method runs with β = 1 does not fail a faithful method. ``steps``
    scaffold its function as they do the method's (a reference nested the equations wrongly as
    often as a method did)."""
    if "{attributes}" in instructions:
        instructions = instructions.replace("{attributes}", attributes or "# (none)")
    instructions = with_steps(instructions, "reference", list(steps))
    equations = digest.equation_list(proposed=proposed) or "- (none extracted; follow the method text)"
    if proposed:
        equations += "\n" + PROPOSED_NOTE
    stated = [f"- {h.name} = {h.value}" for h in digest.stated()]
    parts = [f"The paper proposes: {proposes}"] if proposes else []
    parts.append(f"The paper's equations:\n{equations}")
    if stated:
        parts.append("Values the paper states:\n" + "\n".join(stated[:12]))
    told = numbers(constants or {})
    if told:
        listed = ", ".join(f"{k} = {v}" for k, v in told.items())
        parts.append(
            f"The module under test runs with {listed}: use these values for the equations' constants."
        )
    parts += [
        instructions.strip(),
        "Plain torch, a few lines, exactly the equations; no classes, no training, no prints. "
        "Reply with the complete reference.py in one ```python block, and nothing else.",
    ]
    return "\n\n".join(parts)


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def method_defaults(code: str, cls: str) -> dict[str, Any]:
    """The keyword arguments of ``cls.__init__`` that have literal defaults, in order (the
    leading ones without a default are the skeleton's: dim, num_channels)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    init = init_of(tree, cls)
    if init is None:
        return {}
    a = init.args
    positional = a.posonlyargs + a.args
    pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults, strict=True))
    pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
    out = {}
    for arg, default in pairs:
        value = _literal(default)
        if isinstance(value, int | float | str | bool) or value is None:
            out[arg.arg] = value
    return out


def key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def paper_values(digest: Digest) -> dict[str, tuple[Any, bool, str]]:
    """The paper's stated hyper-parameters: name -> (typed value, verified, quote). A value that
    is not a number or a short word (a formula fragment, a sentence) is not a value."""
    out: dict[str, tuple[Any, bool, str]] = {}
    for h in digest.hyperparameters:
        if h.value == UNKNOWN:
            continue
        value = config_value(h.value)
        if isinstance(value, str) and (len(value.split()) > 3 or re.search(r"[=+*/()^\\]", value)):
            continue
        out.setdefault(h.name, (value, h.verified, h.quote))
    return out


def method_config(code: str, cls: str, digest: Digest) -> dict[str, Any]:
    """The method's keyword arguments with the paper's verified values where the names match,
    else the defaults the model wrote."""
    defaults = method_defaults(code, cls)
    stated = {key(name): value for name, (value, verified, _) in paper_values(digest).items() if verified}
    out: dict[str, Any] = {}
    for arg, default in defaults.items():
        value = stated.get(key(arg), default)
        # A paper's value replaces a default of its type (an int may stand where a float was).
        fits = (
            default is None
            or isinstance(value, type(default))
            or (isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool))
        )
        out[arg] = value if fits else default
    return out


def config_text(skeleton: str, method: dict[str, Any], data: str | None, digest: Digest) -> str:
    """The blueprint's config.yaml with the method's values, the data the paper's method works on,
    and, for the record, every value the paper states (with whether its quote was found)."""
    config = yaml.safe_load(skeleton) or {}
    config["method"] = method
    if data and isinstance(config.get("data"), dict) and "input" in config["data"]:
        config["data"]["input"] = data
    smoke = config.pop("smoke", {})
    lines = [
        "# Written by smolab from the blueprint and the paper. `method:` holds the arguments of the",
        "# paper's module (method.py); `--smoke` lays the `smoke:` section over the rest.",
        yaml.safe_dump(config, sort_keys=False).strip(),
        yaml.safe_dump({"smoke": smoke}, sort_keys=False).strip(),
    ]
    stated = paper_values(digest)
    if stated:
        lines.append("# What the paper states (not used by the synthetic run; unverified ones are marked):")
        lines.append("paper:")
        for name, (value, verified, _) in stated.items():
            lines.append("  " + yaml_line(name, value, "" if verified else "unverified"))
    return "\n".join(lines) + "\n"


def architecture(tree: dict[str, Path], method: str, skill: Skill) -> Architecture:
    """The repository's files for the README: the skeleton's, each with its docstring's first line."""
    files = [FileSpec(name=method, purpose=f"the paper's method ({skill.metadata.get('class', 'module')})")]
    for rel, src in tree.items():
        if rel.endswith(".py") and "/" not in rel:
            doc = ast.get_docstring(ast.parse(src.read_text())) or ""
            files.append(FileSpec(name=rel, purpose=(doc.splitlines() or [""])[0][:100]))
    return Architecture(files=files[:6], classes=[], calls=[])
