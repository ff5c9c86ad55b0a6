"""The index of runs: one SQLite row per run, of either kind, in ``$SMOLAB_HOME/runs.db``.

The run folders are the truth and the index a cache of their summaries: a missing or damaged
database is rebuilt from them, and a run still in progress is read again from its folder.
The schema grows by numbered migrations that are only ever appended (``PRAGMA user_version``
records how many ran).
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, delete, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError

from .errors import RunsError
from .folder import RunRef, all_runs
from .summary import FINAL, RunSummary, SkillUse, summarize

MIGRATIONS: tuple[str, ...] = (
    # 1: the runs
    """CREATE TABLE runs (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, model TEXT, task TEXT,
        folder TEXT NOT NULL, started REAL, seconds REAL, prompt_tokens INTEGER,
        completion_tokens INTEGER, cost REAL, steps INTEGER)""",
    "CREATE INDEX runs_started ON runs (started)",
    # 3: why a run ended as it did
    "ALTER TABLE runs ADD COLUMN reason TEXT",
    # 4: the trajectory's modification time when indexed (a resumed run is read again)
    "ALTER TABLE runs ADD COLUMN stamp REAL",
    # 5, 6: the skills each run used (the evidence a skill is judged by)
    """CREATE TABLE skill_uses (
        run_id TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, revision INTEGER,
        PRIMARY KEY (run_id, name))""",
    "CREATE INDEX skill_uses_name ON skill_uses (name)",
)

_meta = MetaData()
RUNS = Table(
    "runs",
    _meta,
    Column("id", String, primary_key=True),
    Column("kind", String),
    Column("status", String),
    Column("model", String),
    Column("task", String),
    Column("folder", String),
    Column("started", Float),
    Column("seconds", Float),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("cost", Float),
    Column("steps", Integer),
    Column("reason", String),
    Column("stamp", Float),
)
SKILL_USES = Table(
    "skill_uses",
    _meta,
    Column("run_id", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("version", String),
    Column("revision", Integer),
)


def _stamp(ref: RunRef) -> float:
    try:
        return (ref.folder / "trajectory.jsonl").stat().st_mtime
    except OSError:
        return 0.0


def migrate(conn: Connection) -> int:
    """Run the migrations this database has not had; how many it has now."""
    done = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    for number, statement in enumerate(MIGRATIONS[done:], start=done + 1):
        conn.exec_driver_sql(statement)
        conn.exec_driver_sql(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


class RunIndex:
    def __init__(self, path: Path, runs_dir: Path):
        self.path = path
        self.runs_dir = runs_dir
        self._engine: Engine | None = None

    def _connect(self) -> Engine:
        if self._engine is not None:
            return self._engine
        fresh = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{self.path}")
        try:
            with engine.begin() as conn:
                done = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
                if done > len(MIGRATIONS):
                    raise RunsError(
                        f"{self.path} was written by a newer smolab (schema {done}); upgrade smolab"
                    )
                migrate(conn)
        except DatabaseError:
            # Damaged: it is only a cache of the run folders, so start it again from them.
            engine.dispose()
            self.path.unlink(missing_ok=True)
            engine = create_engine(f"sqlite:///{self.path}")
            with engine.begin() as conn:
                migrate(conn)
            fresh = True
        self._engine = engine
        if fresh:
            self.rebuild()
        return engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def record(self, summary: RunSummary, stamp: float = 0.0) -> None:
        row = {**summary.model_dump(exclude={"skills"}), "stamp": stamp}
        stmt = insert(RUNS).values(**row)
        stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=row)
        with self._connect().begin() as conn:
            conn.execute(stmt)
            conn.execute(delete(SKILL_USES).where(SKILL_USES.c.run_id == summary.id))
            if summary.skills:
                rows = [{"run_id": summary.id, **u.model_dump()} for u in summary.skills]
                conn.execute(insert(SKILL_USES), rows)

    def update(self, ref: RunRef) -> RunSummary:
        """Read the run's folder again and index what it says now."""
        stamp = _stamp(ref)
        summary = summarize(ref)
        self.record(summary, stamp)
        return summary

    def rebuild(self) -> int:
        """Index every run findable from the runs folder; how many."""
        refs = all_runs(self.runs_dir)
        for ref in refs:
            self.update(ref)
        return len(refs)

    def sync(self) -> None:
        """Add runs the index lacks, read again those not finished when last indexed or written
        to since (a resumed run), and drop those whose folder is gone."""
        engine = self._connect()
        with engine.connect() as conn:
            rows = conn.execute(select(RUNS.c.id, RUNS.c.status, RUNS.c.stamp))
            known = {r.id: (r.status, r.stamp) for r in rows}
        refs = all_runs(self.runs_dir)
        for ref in refs:
            status, stamp = known.get(ref.id, (None, None))
            if status not in FINAL or stamp != _stamp(ref):
                self.update(ref)
        gone = set(known) - {r.id for r in refs}
        if gone:
            with engine.begin() as conn:
                conn.execute(delete(RUNS).where(RUNS.c.id.in_(gone)))
                conn.execute(delete(SKILL_USES).where(SKILL_USES.c.run_id.in_(gone)))

    def list(self) -> list[RunSummary]:
        """Every run, newest first."""
        self.sync()
        with self._connect().connect() as conn:
            rows = conn.execute(select(RUNS).order_by(RUNS.c.started.desc(), RUNS.c.id.desc())).all()
            uses = _uses(conn)
        return [_summary(r._mapping, uses.get(r.id, [])) for r in rows]

    def get(self, run_id: str) -> RunSummary | None:
        with self._connect().connect() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
            uses = _uses(conn, run_id)
        return _summary(row._mapping, uses.get(run_id, [])) if row is not None else None

    def uses_of(self, skill: str) -> builtins.list[tuple[RunSummary, SkillUse]]:
        """The runs that used ``skill``, newest first, each with the version it used."""
        self.sync()
        with self._connect().connect() as conn:
            joined = (
                select(RUNS, SKILL_USES.c.version, SKILL_USES.c.revision)
                .join(SKILL_USES, SKILL_USES.c.run_id == RUNS.c.id)
                .where(SKILL_USES.c.name == skill)
                .order_by(RUNS.c.started.desc())
            )
            rows = conn.execute(joined).all()
        out = []
        for r in rows:
            m = dict(r._mapping)
            use = SkillUse(name=skill, version=m.pop("version"), revision=m.pop("revision"))
            out.append((_summary(m, [use]), use))
        return out


def _uses(conn: Connection, run_id: str | None = None) -> dict[str, list[SkillUse]]:
    query = select(SKILL_USES)
    if run_id is not None:
        query = query.where(SKILL_USES.c.run_id == run_id)
    out: dict[str, list[SkillUse]] = {}
    for r in conn.execute(query):
        out.setdefault(r.run_id, []).append(SkillUse(name=r.name, version=r.version, revision=r.revision))
    return out


def _summary(row: Any, uses: list[SkillUse]) -> RunSummary:
    fields = {k: v for k, v in row.items() if v is not None and k != "stamp"}
    return RunSummary.model_validate({**fields, "skills": uses})
