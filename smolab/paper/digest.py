"""The digest: what an implementer needs from a paper, small enough for any context.

The paper is read chunk by chunk (each chunk sized to the model's window), each
chunk is condensed into a bounded schema, the pieces are merged, and the result
is trimmed until its rendering fits the caller's token budget. Small models
paraphrase and invent quotes, so every hyper-parameter's quote is checked against
the paper's text (tolerant of whitespace, case and hyphenation) and a value whose
quote is not there, or whose quote does not contain it, is flagged unverified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..models import ChatModel, ContextLengthError, Message, StructuredOutputError
from .context import learned_symbols, sentences
from .errors import PaperError
from .model import Algorithm, Equation, Paper
from .notation import readable

UNKNOWN = "unknown"


class HyperParameter(BaseModel):
    name: str = Field(max_length=40, description="e.g. d_model, learning rate, dropout")
    value: str = Field(max_length=30, description="the value as the paper states it, or 'unknown'")
    # No upper bound: llama.cpp's grammar caps integers at 16 digits but not by value, and a
    # number that names no sentence just leaves the value unverified.
    sentence: int = Field(ge=0, description="the number S of the sentence that states it")


Short = Annotated[str, Field(max_length=120)]


# What the model fills in for one chunk of the paper. (No docstring: it would reach the
# prompt as the schema's description, and small models copy it into their answers.)
class ChunkDigest(BaseModel):
    problem: str = Field(max_length=240)
    method_steps: list[Short] = Field(max_length=5, description="steps of the method")
    architecture: str = Field(max_length=240, description="model architecture with dimensions")
    losses: list[Short] = Field(max_length=3)
    datasets: list[Short] = Field(max_length=3)
    metrics: list[Short] = Field(max_length=3)
    hyperparameters: list[HyperParameter] = Field(max_length=10)
    unclear: list[Short] = Field(max_length=3, description="what the paper leaves unspecified")


# The facts a chunk holds when the overview questions ask for problem, architecture and steps
# separately: fewer fields, so a shorter grammar-bound reply, which is the slow kind.
class ChunkFacts(BaseModel):
    hyperparameters: list[HyperParameter] = Field(max_length=10)
    losses: list[Short] = Field(max_length=3)
    datasets: list[Short] = Field(max_length=3)
    metrics: list[Short] = Field(max_length=3)
    unclear: list[Short] = Field(max_length=2, description="what the paper leaves unspecified")


class CheckedHyperParameter(BaseModel):
    name: str
    value: str
    quote: str = ""
    """The paper's own sentence the value was taken from (never text the model wrote)."""
    verified: bool = False
    """The quote is in the paper and contains the value."""


def _restates(h: CheckedHyperParameter) -> bool:
    """A value with no digit whose words are all taken from the name."""
    words = re.findall(r"[a-z]+", h.value.lower())
    return (
        bool(words)
        and not re.search(r"\d", h.value)
        and set(words)
        <= set(re.findall(r"[a-z]+", h.name.lower()))
        | {
            "ratio",
            "rate",
            "size",
            "value",
            "the",
            "of",
        }
    )


class Digest(BaseModel):
    title: str = ""
    problem: str = ""
    method_steps: list[str] = Field(default_factory=list)
    architecture: str = ""
    losses: list[str] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    hyperparameters: list[CheckedHyperParameter] = Field(default_factory=list)
    unclear: list[str] = Field(default_factory=list)
    outline: list[str] = Field(default_factory=list)
    """The paper's section titles (method sections first), taken from the paper itself."""
    equations: list[str] = Field(default_factory=list)
    """Key equations as the paper writes them (LaTeX where the source has it)."""
    where: dict[str, str] = Field(default_factory=dict)
    """For a key equation, the paper's sentences around it that introduce it and say what its
    symbols are, verbatim (see :mod:`smolab.paper.context`)."""
    sections: dict[str, str] = Field(default_factory=dict)
    """For a key equation, the title of the section it sits in."""
    tokens: int = 0
    """Tokens of :meth:`render` under the model that made it."""

    def stated(self) -> list[CheckedHyperParameter]:
        """The values the paper states: known, found in its text, and a value rather than the
        name said again ("dropout = dropout ratio" is found in the text and states nothing)."""
        return [h for h in self.hyperparameters if h.value != UNKNOWN and h.verified and not _restates(h)]

    def equation_list(self, budget: int = 1200, proposed: Collection[str] = ()) -> str:
        """The key equations as a prompt lists them, each followed by the paper's own words
        around it while ``budget`` characters of those last (the ``proposed`` ones, which are
        marked, served first): a small model told that ``T_cur`` counts the epochs since the last
        restart stops guessing what it is."""
        said: dict[str, str] = {}
        for e in sorted(self.equations, key=lambda e: e not in proposed):
            words = self.where.get(e, "")
            if words and len(words) <= budget:
                said[e] = words
                budget -= len(words)
        lines = []
        for e in self.equations:
            lines.append(f"- [proposed] {e}" if e in proposed else f"- {e}")
            if e in said:
                lines.append(f"  (the paper around it: {said[e]})")
        return "\n".join(lines)

    def learned(self) -> set[str]:
        """Symbols the sentences around the equations say are learned (``alpha`` for "where α
        is a learned scalar initialised to 0"), as :func:`~smolab.paper.context.symbol_name`
        writes them."""
        return {name for said in self.where.values() for name in learned_symbols(said)}

    def render(self, keep: Callable[[str], bool] | None = None) -> str:
        """The digest as prompts carry it; ``keep`` picks the hyper-parameters by name (all by
        default)."""
        lines = [f"# {self.title}"] if self.title else []
        if self.problem:
            lines.append(f"Problem: {self.problem}")
        if self.architecture:
            lines.append(f"Architecture: {self.architecture}")
        for label, items in (
            ("Method", self.method_steps),
            ("Losses", self.losses),
            ("Datasets", self.datasets),
            ("Metrics", self.metrics),
        ):
            if items:
                lines.append(f"{label}: " + "; ".join(items))
        if self.outline:
            lines.append("Sections: " + "; ".join(self.outline))
        if self.equations:
            lines.append("Equations:")
            lines += [f"- {e}" for e in self.equations]
        # Unknown and unverified values stay in the data (the config marks them) but not in
        # prompts: a Transformer's heads listed as unknown, or a width of 128 the text never
        # states, pulled the method of a paper about a block towards a whole Transformer.
        stated = [h for h in self.stated() if keep is None or keep(h.name)]
        if stated:
            lines.append("Hyper-parameters:")
            lines += [f"- {h.name} = {h.value}" for h in stated]
        if self.unclear:
            lines.append("Unclear: " + "; ".join(self.unclear))
        return "\n".join(lines)


def normalize(text: str) -> str:
    """Lower case, hyphenated breaks joined, every run of non-alphanumerics one space."""
    text = re.sub(r"(\d)\s*\.\s*(\d)", r"\1.\2", text)  # PDF text spaces numbers out: "0 . 1"
    text = re.sub(r"(\w)-\s*(\w)", r"\1\2", text.lower())  # "warm-up", "warm-\\nup": "warmup"
    return re.sub(r"[^a-z0-9.]+", " ", text).strip()


def quote_holds(quote: str, value: str, paper_text_norm: str) -> bool:
    q = normalize(quote)
    if len(q) < 8 or q not in paper_text_norm:
        return False
    v = normalize(value)
    return bool(v) and v in q


def chunks(paper: Paper, max_tokens: int, count: Callable[[str], int]) -> list[str]:
    """The paper's text in pieces of at most ``max_tokens``, cut at section boundaries where possible."""
    pieces = [f"Title: {paper.title}\nAbstract: {paper.abstract}"]
    for s in paper.all_sections():
        head = f"{s.number + ' ' if s.number else ''}{s.title}"
        pieces.append(f"## {head}\n{s.text}")
    out: list[str] = []
    current = ""
    for piece in pieces:
        while count(piece) > max_tokens:  # one section bigger than a chunk: split by paragraphs/words
            words = piece.split(" ")
            cut = max(1, int(len(words) * max_tokens / count(piece) * 0.9))
            head_part, piece = " ".join(words[:cut]), " ".join(words[cut:])
            if current:
                out.append(current)
                current = ""
            out.append(head_part)
        candidate = f"{current}\n\n{piece}" if current else piece
        if count(candidate) > max_tokens and current:
            out.append(current)
            current = piece
        else:
            current = candidate
    if current:
        out.append(current)
    return out


INSTRUCTIONS = (
    "You extract what an engineer needs to implement a machine-learning paper. From the paper text "
    "below, fill in the JSON fields. Every sentence starts with its number, like (S12). For every "
    "hyper-parameter give its name, its value exactly as written, and the number of the sentence "
    "that states it. If the text does not state something, write unknown. Do not invent values."
)


def number_sentences(text: str, start: int, table: dict[int, str]) -> tuple[str, int]:
    """Prefix each sentence with (S<n>), recording n -> sentence; so a model cites, never quotes."""
    out = []
    n = start
    for para in text.split("\n"):
        parts = []
        for sentence in sentences(para):
            table[n] = sentence
            parts.append(f"(S{n}) {sentence}")
            n += 1
        out.append(" ".join(parts))
    return "\n".join(out), n


# Sections whose numbers are other people's results or citations, not this paper's settings.
NOT_FACTS = re.compile(r"related|reference|bibliograph|acknowledg|conclusion|future work", re.I)
# Words of sentences that state a setting; each one found raises a sentence's rank.
FACT_WORDS = re.compile(
    r"=|set to|we use|learning rate|batch|epoch|iteration|steps?\b|decay|momentum|dropout|"
    r"dimension|hidden|layers?\b|channels|groups?\b|ratio|size|temperature|margin|coefficient|"
    r"weight|initiali[sz]|optimi[sz]er|schedule|[α-ωΑ-Ω]|train",
    re.I,
)
CITATION = re.compile(r"et al\.|\b(?:19|20)\d\d\b|\[\d+(?:,\s*\d+)*\]")


def fact_sentences(paper: Paper, max_tokens: int, count: Callable[[str], int], table: dict[int, str]) -> str:
    """The sentences most likely to state the paper's settings, numbered, within ``max_tokens``.

    Every sentence of the paper is numbered into ``table`` (the narrow questions search all of
    them); the prompt carries only those with a number, ranked by the words that state settings
    and kept in the paper's order, so the facts pass reads a page instead of the whole paper.
    """
    found: list[tuple[float, int, str]] = []  # (rank, number, section heading)
    n = 1
    sections = [("Abstract", paper.abstract)] + [
        (f"{s.number + ' ' if s.number else ''}{s.title}", s.text) for s in paper.all_sections()
    ]
    for order, (head, text) in enumerate(sections):
        for para in text.split("\n"):
            for sentence in sentences(para):
                table[n] = sentence
                if re.search(r"\d", sentence) and not NOT_FACTS.search(head) and len(sentence) < 600:
                    rank = len(FACT_WORDS.findall(sentence)) - 2 * len(CITATION.findall(sentence))
                    found.append((rank - order / 100, n, head))
                n += 1
    chosen: list[tuple[int, str]] = []
    used = 0
    for _rank, k, head in sorted(found, reverse=True):
        cost = count(table[k]) + 4
        if used + cost > max_tokens:
            continue
        chosen.append((k, head))
        used += cost
    lines: list[str] = []
    last = ""
    for k, head in sorted(chosen):
        if head != last:
            lines.append(f"## {head}")
            last = head
        lines.append(f"(S{k}) {table[k]}")
    return f"Title: {paper.title}\n" + "\n".join(lines)


def _merge(
    title: str, parts: list[ChunkDigest | ChunkFacts], paper_norm: str, sentences: dict[int, str]
) -> Digest:
    d = Digest(title=title)
    seen: dict[str, CheckedHyperParameter] = {}
    for part in parts:
        if isinstance(part, ChunkDigest):
            d.problem = d.problem or (part.problem if normalize(part.problem) not in ("", UNKNOWN) else "")
            d.architecture = d.architecture or (
                part.architecture if normalize(part.architecture) not in ("", UNKNOWN) else ""
            )
        for name in ("method_steps", "losses", "datasets", "metrics", "unclear"):
            have = getattr(d, name)
            for item in getattr(part, name, []):
                if normalize(item) not in ("", UNKNOWN) and normalize(item) not in {
                    normalize(x) for x in have
                }:
                    have.append(item)
        for h in part.hyperparameters:
            key = normalize(h.name)
            if not key:
                continue
            value = h.value.strip() or UNKNOWN
            quote = sentences.get(h.sentence, "")
            checked = CheckedHyperParameter(
                name=h.name,
                value=value,
                quote=quote,
                verified=value != UNKNOWN and quote_holds(quote, value, paper_norm),
            )
            old = seen.get(key)
            # A verified value beats an unverified one; a stated value beats unknown.
            if (
                old is None
                or (checked.verified and not old.verified)
                or (old.value == UNKNOWN and value != UNKNOWN)
            ):
                seen[key] = checked
    d.hyperparameters = list(seen.values())
    return d


class Stated(BaseModel):
    value: str = Field(max_length=30, description="the value, or 'unknown'")
    sentence: int = Field(ge=0, description="the number S of the sentence that states it")


# Hyper-parameters most ML papers state, with words that find the sentences saying them.
COMMON: dict[str, tuple[str, ...]] = {
    "d_model (model width)": ("d_model", "dmodel", "dimension", "dimensionality"),
    "number of layers": ("layers", "N =", "stack of"),
    "attention heads": ("heads", "h ="),
    "d_ff (feed-forward width)": ("d_ff", "dff", "inner-layer", "feed-forward"),
    "dropout": ("dropout", "P_drop", "Pdrop", "P drop"),
    "label smoothing": ("label smoothing", "ls"),
    "warmup steps": ("warmup",),
    "learning rate": ("learning rate", "lrate", "lr ="),
    "batch size": ("batch",),
    "optimizer": ("Adam", "SGD", "optimizer", "beta"),
    "training steps or epochs": ("steps", "epochs", "iterations"),
}


def ask_common(model: ChatModel, sentences: dict[int, str], paper_norm: str) -> list[CheckedHyperParameter]:
    """One small question per common hyper-parameter, over the few sentences that mention it.

    Small models answer a narrow question about three sentences far better than they fill
    a whole schema from pages of text; a parameter no sentence mentions is unknown without
    asking.
    """
    found = []
    for name, words in COMMON.items():
        pattern = re.compile("|".join(r"(?<!\w)" + re.escape(w) + r"(?!\w)" for w in words), re.I)
        hits = [(n, t) for n, t in sentences.items() if re.search(r"\d", t) and pattern.search(t)][:3]
        if not hits:
            found.append(CheckedHyperParameter(name=name, value=UNKNOWN))
            continue
        listing = "\n".join(f"(S{n}) {t[:400]}" for n, t in hits)
        try:
            ans = model.chat(
                [
                    Message(
                        "system",
                        "You read sentences of a research paper and report one value exactly as written.",
                    ),
                    Message(
                        "user",
                        f"{listing}\n\nWhat {name} do these sentences state? "
                        "Give the value and the sentence number, or unknown.",
                    ),
                ],
                schema=Stated,
                max_tokens=60,
                temperature=0.0,
            )
        except StructuredOutputError:
            continue
        value = ans.value.strip() or UNKNOWN
        # The cited sentence first; small models often cite the wrong one of the few they were
        # shown, so any shown sentence that holds the value verifies it too.
        shown = [sentences.get(ans.sentence, "")] + [t for _, t in hits]
        quote = next((t for t in shown if value != UNKNOWN and quote_holds(t, value, paper_norm)), "")
        found.append(CheckedHyperParameter(name=name, value=value, quote=quote, verified=bool(quote)))
    return found


METHOD_TITLE = re.compile(r"model|architecture|method|approach|algorithm|framework|network", re.I)
SKIP_TITLE = re.compile(
    r"introduction|related|background|conclusion|acknowledg|reference|appendix|why|result|discussion|"
    r"limitation|future|ablation|analysis",
    re.I,
)
JUNK_NAMES = {normalize(n) for n in ChunkDigest.model_fields} | {"sentence", "value", "name", "unknown"}


def outline(paper: Paper, limit: int = 16) -> list[str]:
    """Section titles, the method's sections first: a table of contents costs few tokens and tells
    a planner what the parts of the method are."""
    titles = [s for s in paper.all_sections() if not SKIP_TITLE.search(s.title)]
    method = [s for s in titles if METHOD_TITLE.search(s.title)]
    if method:
        first = titles.index(method[0])
        titles = titles[first:] + titles[:first]
    return [f"{s.number + ' ' if s.number else ''}{s.title}"[:80] for s in titles][:limit]


# Sections whose displays are rarely the method's own: proofs, bounds, baselines, set-up.
NOT_METHOD_EQUATION = re.compile(
    r"introduction|related|background|preliminar|proof|theorem|lemma|appendix|experiment|set.?up|"
    r"implementation|evaluation|result|discussion|conclusion",
    re.I,
)
BOUND = re.compile(r"\bTheorem\b|\bLemma\b|≤ ?O\b|\bO ?\(")
WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")
PLAIN_WORDS = frozenset(
    re.findall(
        r"\w+",
        "with from that this these their which where when than then into over under using used also "
        "such each more most only other show shows paper method methods model models network networks "
        "deep learning neural training propose proposed approach results based work state improve",
    )
)


def stems(text: str) -> set[str]:
    """Content words cut to five letters, so "penalize" and "penalty" meet."""
    return {w.lower()[:5] for w in WORD.findall(text) if w.lower() not in PLAIN_WORDS}


PLAIN_WORD = re.compile(r"^[A-Za-z]{4,}[.,;:]?$")


def inline_formulas(text: str) -> list[str]:
    """Formulas written into prose ("the best function, f(x) = x · sigmoid(βx), which we
    name Swish"): the clauses with an "=" made of symbols and calls rather than words."""
    found = []
    for clause in re.split(r",\s|;\s|:\s|\.\s", text):
        if "=" not in clause or "==" in clause:
            continue
        tokens = clause.split()
        words = sum(bool(PLAIN_WORD.match(t)) for t in tokens)
        left = clause.split("=", 1)[0].split()
        if 3 <= len(tokens) <= 16 and words <= 1 and 1 <= len(left) <= 2:
            found.append(" ".join(tokens))
    return found


HEADLINE = "Abstract"
"""The section :func:`key_equations` gives the formulas it takes from the abstract."""

# A derivative's display ("f′(x) = ...") is not the definition a small model should implement.
DERIVATIVE = re.compile(r"^[^=]*(?:′|∂|\bd/d|\bgrad)")
# A line that opens on a script mark lost the glyphs its scripts hang on (an algorithm box read
# as displays: "_S + L^t", "_j = c^t_j − α ..."); a small model asked to implement it writes
# code for the fragment, which crashes.
FRAGMENT = re.compile(r"^\s*[_^]")


# A line of an algorithm box that assigns (``m_t = β_1 m_{t−1} + ...``, ``t ← t + 1``), after
# the words that lead into it ("Compute the ratio r_t = ...", "Update W by W^{t+1} = ...").
_ASSIGNS = re.compile(r"(?:^|\s)((?:[^\s=←]+\s?){1,3}\s(?:=|←|\\gets|\\leftarrow)\s+\S.*)$")
_LEAD_IN = re.compile(
    r"^(?:(?:compute|set|update|let|draw|sample)\b[^=←]*?\b(?:by|as)\s+|(?:set|let)\s+)", re.I
)
_HEADER = re.compile(r"^\s*(?:input|output|require|ensure|parameters?)\b", re.I)
_CONTROL = re.compile(r"^\s*(?:for|while|if|else|end|until|repeat|return)\b", re.I)
_GLUED = re.compile(r"[a-z]{2,}[_^]")
"""A word run into a script mark: a fraction the reader could not set on one line."""
_NAMED = re.compile(r"\b(?:called|named|dubbed|termed|coined)\s+(?:it\s+)?([A-Za-z][\w-]{2,})")
_PLAIN_CAPTION = {"algorithm", "the", "and", "for", "with", "our", "proposed", "method", "training"}


def _caption_words(caption: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z0-9-]{2,}", caption.lower())} - _PLAIN_CAPTION


def _focus_boxes(paper: Paper) -> list[Algorithm]:
    """The boxes the paper's title and abstract speak of: the one named as the proposal ("a
    new optimizer called LAMB") first, else those sharing words with the title, else with the
    abstract, else all."""
    named = {m.group(1).lower() for m in _NAMED.finditer(paper.abstract)}
    title = set(re.findall(r"[a-z][a-z0-9-]{2,}", paper.title.lower()))
    abstract = set(re.findall(r"[a-z][a-z0-9-]{2,}", paper.abstract.lower()))
    for words in (named, title, abstract):
        chosen = [a for a in paper.algorithms if _caption_words(a.caption) & words]
        if chosen:
            return chosen
    return list(paper.algorithms)


def algorithm_steps(paper: Paper, limit: int = 8) -> list[str]:
    """The assignments of the paper's algorithm boxes, in order, from the box its title and
    abstract speak of: an update rule set out as "Algorithm 2 LAMB" is the method itself, and
    reached no prompt before boxes were read. Header lines (input, require) and what continues
    them, control lines (for, while, end) and lines the reader could not set are left out."""
    steps: list[str] = []
    for box in _focus_boxes(paper):
        in_header = False
        for raw in box.text.splitlines():
            line = re.sub(r"\\(?:State|STATE|Statex)\b", "", raw).strip()
            if _HEADER.match(line):
                in_header = True
                continue
            if in_header and raw.startswith(" ") and re.match(r"[a-z]{3,}\s", line):
                continue  # the header's sentence running on ("and learning rate µ^t. ...")
            in_header = False
            if not line or _CONTROL.match(line) or FRAGMENT.match(line):
                continue
            m = _ASSIGNS.search(_LEAD_IN.sub("", line))
            if m is None or _GLUED.search(m.group(1).split("=", 1)[0]):
                continue
            step = re.sub(r"\s*(?:←|\\gets|\\leftarrow)\s*", " = ", m.group(1)).rstrip(" .")
            step = readable(step) if "\\" in step or "$" in step else step
            if 5 <= len(step) <= 200 and step not in steps:
                steps.append(step)
    return steps[:limit]


def key_equations(paper: Paper, limit: int = 8) -> list[str]:
    """The method's equations, one line each, in the paper's order: the displays of the sections
    that the title and abstract speak of first, those of proofs, bounds, related work and
    experimental set-up left out when any other remains; plots and lists (read as displays) left
    out too. Formulas the abstract writes inline lead; a derivative ranks below a definition."""
    focus = stems(f"{paper.title} {paper.abstract}")
    scored = []
    seen: set[str] = set()
    for i, e in enumerate(paper.equations):
        line = equation_line(e)
        digits = sum(c.isdigit() for c in line)
        if not 8 <= len(line) <= 240 or line in seen or digits > len(line) / 4 or FRAGMENT.match(line):
            continue
        seen.add(line)
        section = e.source.section or ""
        words = stems(section)
        score = 2.0 * len(words & focus) / len(words) if words else 0.0
        score += 1.0 if METHOD_TITLE.search(section) else 0.0
        score -= 3.0 if NOT_METHOD_EQUATION.search(section) else 0.0
        score -= 4.0 if BOUND.search(line) else 0.0
        score -= 2.0 if "=" not in line and line.count(",") >= 4 else 0.0  # a list, not an equation
        score += 0.5 if re.search(r"\(\d{1,2}\)", line) else 0.0  # numbered: a display of its own
        score -= 1.0 if DERIVATIVE.match(line) else 0.0
        scored.append((score, i, line[:200]))
    if any(score >= 0 for score, _, _ in scored):
        scored = [t for t in scored if t[0] >= 0]
    # The abstract's own formulas come first: a paper names its headline there.
    headline = [f for f in inline_formulas(paper.abstract) if f not in seen][:2]
    # An algorithm box's update rule comes before bounds and the displays of other sections.
    boxed = [a for a in algorithm_steps(paper, limit - len(headline)) if a not in headline]
    chosen = sorted(scored, key=lambda t: (-t[0], t[1]))[: max(0, limit - len(headline) - len(boxed))]
    return headline + boxed + [line for _, _, line in sorted(chosen, key=lambda t: t[1])]


def equation_line(e: Equation) -> str:
    """One display as prompts list it: LaTeX in the readers' common notation, on one line."""
    return readable(e.text) if e.latex else " ".join(e.text.split())


def equation_context(paper: Paper, lines: list[str]) -> dict[str, str]:
    """The prose the paper puts around each of ``lines`` (as :func:`key_equations` wrote them)."""
    chosen = set(lines)
    found = {}
    for e in paper.equations:
        line = equation_line(e)[:200]
        if line in chosen and e.context and line not in found:
            found[line] = e.context
    return found


def _method_text(paper: Paper, words: int = 350) -> str:
    sections = [
        s for s in paper.all_sections() if METHOD_TITLE.search(s.title) and not SKIP_TITLE.search(s.title)
    ]
    text = " ".join(f"{s.title}: {s.text}" for s in sections[:4]) or paper.abstract
    return " ".join(text.split()[:words])


def _ask(model: ChatModel, context: str, question: str, max_tokens: int) -> str:
    """A free-text answer (no grammar: fast on small models) to one narrow question."""
    try:
        reply = model.chat(
            [
                Message(
                    "system", "You answer questions about a research paper briefly and only from its text."
                ),
                Message("user", f"{context}\n\n{question}"),
            ],
            max_tokens=max_tokens,
            temperature=0.0,
        )
    except ContextLengthError:
        return ""  # this question's text does not fit: the digest goes on without its answer
    return reply.text.strip()


def ask_overview(model: ChatModel, paper: Paper) -> dict[str, Any]:
    """Problem, architecture and method steps, each asked on its own over the text that holds it
    (the abstract, the method sections), which small models answer far better than one big schema."""
    abstract = f"Title: {paper.title}\nAbstract: {' '.join(paper.abstract.split()[:300])}"
    method = _method_text(paper)
    toc = "; ".join(outline(paper))
    problem = _ask(model, abstract, "In one sentence: what problem does this paper solve?", 70)
    arch = _ask(
        model,
        f"{abstract}\n\nFrom the method sections: {method}",
        "In at most three sentences, describe the model's architecture with its sizes.",
        130,
    )
    steps_text = _ask(
        model,
        f"Sections of the paper: {toc}\n\n{method}",
        "List the parts an engineer must implement to reproduce this method, one short line each, at most 5.",
        150,
    )
    steps = []
    for line in steps_text.splitlines():
        item = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().rstrip(".")
        if len(item) >= 3 and normalize(item) not in JUNK_NAMES and item not in steps:
            steps.append(item[:120])
    return {
        "problem": " ".join(problem.split())[:300],
        "architecture": " ".join(arch.split())[:400],
        "method_steps": steps[:5],
    }


def _grounded(items: list[str], paper_norm: str) -> list[str]:
    """Items the paper's text contains (datasets, metrics, losses are names: an invented one is dropped)."""
    return [
        x
        for x in items
        if normalize(x) not in JUNK_NAMES and len(normalize(x)) >= 2 and normalize(x) in paper_norm
    ]


def fit_budget(digest: Digest, budget: int, count: Callable[[str], int]) -> Digest:
    """Trim the least needed parts until the rendering fits ``budget`` tokens."""
    d = digest.model_copy(deep=True)
    order = ["unclear", "equations", "outline", "metrics", "datasets", "losses", "method_steps"]
    while count(d.render()) > budget:
        for name in order:
            items = getattr(d, name)
            if len(items) > 1 or (name == "unclear" and items):
                items.pop()
                break
        else:
            unverified = [h for h in d.hyperparameters if not h.verified]
            if unverified:
                d.hyperparameters.remove(unverified[-1])
            elif len(d.architecture) > 40:
                d.architecture = d.architecture[: len(d.architecture) // 2]
            elif len(d.problem) > 40:
                d.problem = d.problem[: len(d.problem) // 2]
            elif d.hyperparameters:
                d.hyperparameters.pop()
            elif any(getattr(d, n) for n in order):
                for name in order:
                    if getattr(d, name):
                        getattr(d, name).pop()
                        break
            else:
                d.title = d.title[: max(0, len(d.title) // 2)]
                if not d.title and not d.problem and not d.architecture:
                    break
    d.tokens = count(d.render())
    if d.tokens > budget:
        raise PaperError(f"even an empty digest takes {d.tokens} tokens, over the {budget}-token budget")
    return d


def digest_paper(
    paper: Paper,
    model: ChatModel,
    budget: int = 2000,
    reply_tokens: int = 700,
    chunk_tokens: int = 3000,
    facts_tokens: int | None = 1800,
    ask_common_values: bool = True,
    ask_overview_questions: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Digest:
    """Condense ``paper`` with ``model`` into a Digest whose rendering is at most ``budget`` tokens.

    With the overview questions on and ``facts_tokens`` set, the grammar-bound pass reads only the
    sentences likeliest to state settings (one call of at most ``facts_tokens``) and fills the
    smaller :class:`ChunkFacts`; otherwise it reads the whole paper in chunks of ``chunk_tokens``.
    """
    if not paper.all_sections() and not paper.abstract:
        raise PaperError("the paper has no text to digest")

    def count(text: str) -> int:
        return model.count_tokens([Message("user", text)])

    overhead = count(INSTRUCTIONS) + 400  # the schema line the structured call appends
    room = model.context_window - reply_tokens - overhead
    if room < 300:
        raise PaperError(
            f"{model.name} has a {model.context_window}-token window, too small to read a paper "
            f"(it needs at least {reply_tokens + overhead + 300}); pick a larger model"
        )
    sentences: dict[int, str] = {}
    schema: type[ChunkDigest] | type[ChunkFacts] = ChunkDigest
    if facts_tokens and ask_overview_questions:
        schema = ChunkFacts
        pieces = [fact_sentences(paper, min(room, facts_tokens), count, sentences)]
    else:
        # Sentence numbers add about a tenth to a chunk; leave room for them.
        pieces, next_id = [], 1
        for piece in chunks(paper, int(min(room, chunk_tokens) * 0.85), count):
            numbered, next_id = number_sentences(piece, next_id, sentences)
            pieces.append(numbered)
    parts: list[ChunkDigest | ChunkFacts] = []
    skipped = 0
    for i, numbered in enumerate(pieces):
        if progress:
            progress(i, len(pieces))
        try:
            parts.append(
                model.chat(
                    [Message("system", INSTRUCTIONS), Message("user", f"Paper text:\n{numbered}")],
                    schema=schema,
                    max_tokens=reply_tokens,
                    temperature=0.0,
                )
            )
        except StructuredOutputError:
            skipped += 1  # one unreadable chunk should not cost the whole digest
    if skipped == len(pieces):
        raise PaperError(f"{model.name} gave no valid digest for any part of the paper; try a larger model")
    if progress:
        progress(len(pieces), len(pieces))
    paper_norm = normalize(paper.full_text() + "\n" + "\n".join(e.text for e in paper.equations))
    merged = _merge(paper.title, parts, paper_norm, sentences)
    # The narrow questions go first: their verified answers lead the list and survive trimming.
    common = ask_common(model, sentences, paper_norm) if ask_common_values else []
    rest = [h for h in merged.hyperparameters if normalize(h.name) not in {normalize(c.name) for c in common}]
    rest = [h for h in rest if normalize(h.name) not in JUNK_NAMES]
    merged.hyperparameters = [c for c in common if c.verified] + rest + [c for c in common if not c.verified]
    for name in ("datasets", "metrics", "losses"):
        setattr(merged, name, _grounded(getattr(merged, name), paper_norm))
    merged.method_steps = [m for m in merged.method_steps if normalize(m) not in JUNK_NAMES]
    if ask_overview_questions:
        for key, value in ask_overview(model, paper).items():
            if value:
                setattr(merged, key, value)
    merged.outline = outline(paper)
    merged.equations = key_equations(paper)
    merged.where = equation_context(paper, merged.equations)
    merged.sections = {
        line: e.source.section
        for e in paper.equations
        if e.source.section and (line := equation_line(e)[:200]) in merged.equations
    }
    for f in inline_formulas(paper.abstract):
        if f in merged.equations:
            merged.sections.setdefault(f, HEADLINE)
    if skipped:
        merged.unclear.insert(0, f"{skipped} of {len(pieces)} parts of the paper could not be digested")
    return fit_budget(merged, budget, count)
