"""What the model fills in at each planning stage: small, bounded schemas.

Every array has ``max_length`` and every string ``max_length``, so a grammar-bound
small model cannot loop until its token limit. Diagrams are drawn from these
records by smolab (see ``plan.py``); a 0.5B model writes a list of calls far more
reliably than Mermaid syntax.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

Short = Annotated[str, Field(max_length=120)]
FileName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}[.]py$", max_length=34)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$", max_length=40)]
MethodName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,30}$", max_length=31)]
Package = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", max_length=40)]


class OverallPlan(BaseModel):
    """The plan: what to build and how it is trained and checked."""

    summary: str = Field(max_length=300, description="what the repository implements, in two sentences")
    components: list[Short] = Field(
        min_length=1, max_length=6, description="parts of the method to implement"
    )
    training: str = Field(max_length=240, description="how the model is trained: data, loss, optimizer")
    evaluation: list[Short] = Field(max_length=3, description="what is measured and how")


class FileSpec(BaseModel):
    name: FileName
    purpose: str = Field(max_length=100)


class ClassSpec(BaseModel):
    name: Identifier
    file: FileName
    methods: list[MethodName] = Field(max_length=4, description="method names, e.g. forward")


class Call(BaseModel):
    caller: Identifier
    callee: Identifier
    message: str = Field(max_length=50)


class Architecture(BaseModel):
    """Files, classes and the program's call flow."""

    files: list[FileSpec] = Field(min_length=1, max_length=6, description="Python files; main.py runs it all")
    classes: list[ClassSpec] = Field(max_length=6)
    calls: list[Call] = Field(max_length=6, description="the call flow of main.py, in order")


class FileLogic(BaseModel):
    name: FileName
    depends_on: list[FileName] = Field(max_length=5, description="files of this repository it imports")
    logic: str = Field(max_length=300, description="what the file does, step by step")


class Logic(BaseModel):
    """Per-file logic, dependencies and what every file must agree on."""

    packages: list[Package] = Field(max_length=8, description="third-party packages, e.g. torch, numpy")
    files: list[FileLogic] = Field(min_length=1, max_length=6)
    shared: list[Short] = Field(max_length=5, description="names, shapes and settings all files share")


Severity = Literal["high", "medium", "low"]


class Critique(BaseModel):
    file: str = Field(max_length=60)
    function: str = Field(max_length=60)
    severity: Severity
    problem: str = Field(max_length=200)


class Judgement(BaseModel):
    """A Paper2Code-style evaluation: critiques first, then a 1 to 5 correctness score."""

    critiques: list[Critique] = Field(max_length=6)
    score: int = Field(ge=1, le=5, description="5: implements the paper fully and correctly; 1: unrelated")
