"""The hub's database: users, hashed API tokens, groups, skill revisions, shared evidence and the
audit log, through SQLAlchemy Core (SQLite by default, PostgreSQL by URL).

A token is shown once when it is made; only its SHA-256 is stored, so a copy of the database
gives no one a way in. Evidence is stored once per (user, record): a client that retries a push
adds nothing. A skill's revisions are numbered per group and name; pushing the files of the
latest revision again adds none.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

META = MetaData()
USERS = Table(
    "users",
    META,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), unique=True, nullable=False),
    Column("admin", Boolean, nullable=False, default=False),
    Column("created", Float, nullable=False),
)
GROUPS = Table(
    "groups",
    META,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), unique=True, nullable=False),
)
MEMBERS = Table(
    "members",
    META,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
)
TOKENS = Table(
    "tokens",
    META,
    Column("hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)
SKILLS = Table(
    "skills",
    META,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("version", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("bundle", LargeBinary, nullable=False),
    Column("description", Text, nullable=False),
    Column("published_by", String(64), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("evidence", Text, nullable=False, default="{}"),
    Column("created", Float, nullable=False),
    UniqueConstraint("group_id", "name", "revision"),
)
EVIDENCE = Table(
    "evidence",
    META,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), unique=True, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("record", Text, nullable=False),
    Column("created", Float, nullable=False),
)
AUDIT = Table(
    "audit",
    META,
    Column("id", Integer, primary_key=True),
    Column("at", Float, nullable=False),
    Column("user", String(64), nullable=True),
    Column("action", String(32), nullable=False),
    Column("target", String(200), nullable=False, default=""),
    Column("ok", Boolean, nullable=False),
    Column("detail", Text, nullable=False, default=""),
)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    admin: bool
    groups: frozenset[str]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def engine_for(url: str) -> Engine:
    """An engine for ``url``; SQLite waits for the lock instead of failing under many writers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _wal(conn: Any, _: Any) -> None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class HubDB:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        META.create_all(engine)

    # -- people and tokens ---------------------------------------------------------------

    def add_user(self, name: str, groups: list[str], admin: bool = False) -> str:
        """Create the user (or add groups to an existing one) and a new token for them; the
        token, which is not stored."""
        token = "smolab_" + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            row = c.execute(select(USERS.c.id).where(USERS.c.name == name)).first()
            if row is not None:
                uid = int(row.id)
            else:
                made = c.execute(insert(USERS).values(name=name, admin=admin, created=time.time()))
                uid = int(made.inserted_primary_key[0])  # type: ignore[index]
            for g in groups:
                gid = self._group(c, g)
                if (
                    c.execute(
                        select(MEMBERS).where(MEMBERS.c.user_id == uid, MEMBERS.c.group_id == gid)
                    ).first()
                    is None
                ):
                    c.execute(insert(MEMBERS).values(user_id=uid, group_id=gid))
            c.execute(
                insert(TOKENS).values(hash=token_hash(token), user_id=uid, created=time.time(), revoked=False)
            )
        return token

    def _group(self, c: Any, name: str) -> int:
        row = c.execute(select(GROUPS.c.id).where(GROUPS.c.name == name)).first()
        return (
            int(row.id) if row else int(c.execute(insert(GROUPS).values(name=name)).inserted_primary_key[0])
        )

    def user_for(self, token: str) -> User | None:
        with self.engine.connect() as c:
            row = c.execute(
                select(USERS.c.id, USERS.c.name, USERS.c.admin)
                .join(TOKENS, TOKENS.c.user_id == USERS.c.id)
                .where(TOKENS.c.hash == token_hash(token), TOKENS.c.revoked.is_(False))
            ).first()
            if row is None:
                return None
            groups = c.execute(
                select(GROUPS.c.name)
                .join(MEMBERS, MEMBERS.c.group_id == GROUPS.c.id)
                .where(MEMBERS.c.user_id == row.id)
            ).scalars()
            return User(row.id, row.name, bool(row.admin), frozenset(groups))

    def revoke(self, token: str) -> bool:
        with self.engine.begin() as c:
            return bool(
                c.execute(
                    TOKENS.update().where(TOKENS.c.hash == token_hash(token)).values(revoked=True)
                ).rowcount
            )

    # -- skills --------------------------------------------------------------------------

    def add_skill(
        self,
        group: str,
        name: str,
        version: str,
        description: str,
        bundle: bytes,
        by: str,
        note: str = "",
        evidence: dict[str, Any] | None = None,
    ) -> tuple[int, bool]:
        """Store a revision (the next number in its group); (revision, whether it is new)."""
        digest = hashlib.sha256(bundle).hexdigest()
        for _ in range(20):  # two pushes of one skill at once: the loser takes the next number
            try:
                with self.engine.begin() as c:
                    gid = self._group(c, group)
                    last = c.execute(
                        select(SKILLS.c.revision, SKILLS.c.digest)
                        .where(SKILLS.c.group_id == gid, SKILLS.c.name == name)
                        .order_by(SKILLS.c.revision.desc())
                        .limit(1)
                    ).first()
                    if last is not None and last.digest == digest:
                        return int(last.revision), False
                    n = (last.revision if last else 0) + 1
                    c.execute(
                        insert(SKILLS).values(
                            group_id=gid,
                            name=name,
                            revision=n,
                            version=version,
                            digest=digest,
                            bundle=bundle,
                            description=description,
                            published_by=by,
                            note=note,
                            evidence=json.dumps(evidence or {}),
                            created=time.time(),
                        )
                    )
                    return n, True
            except IntegrityError:
                time.sleep(0.01)
        raise RuntimeError(f"could not number a revision of {name}: too many pushes at once")

    def skills(self, groups: frozenset[str]) -> list[dict[str, Any]]:
        """The latest revision of each skill in ``groups``."""
        latest = (
            select(SKILLS.c.group_id, SKILLS.c.name, func.max(SKILLS.c.revision).label("revision"))
            .group_by(SKILLS.c.group_id, SKILLS.c.name)
            .subquery()
        )
        query = (
            select(
                GROUPS.c.name.label("group"),
                SKILLS.c.name,
                SKILLS.c.revision,
                SKILLS.c.version,
                SKILLS.c.description,
                SKILLS.c.published_by,
                SKILLS.c.digest,
                SKILLS.c.created,
            )
            .join(
                latest,
                (SKILLS.c.group_id == latest.c.group_id)
                & (SKILLS.c.name == latest.c.name)
                & (SKILLS.c.revision == latest.c.revision),
            )
            .join(GROUPS, GROUPS.c.id == SKILLS.c.group_id)
            .where(GROUPS.c.name.in_(groups))
            .order_by(GROUPS.c.name, SKILLS.c.name)
        )
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(query)]

    def revisions(self, group: str, name: str) -> list[dict[str, Any]]:
        query = (
            select(
                SKILLS.c.revision,
                SKILLS.c.version,
                SKILLS.c.digest,
                SKILLS.c.published_by,
                SKILLS.c.note,
                SKILLS.c.evidence,
                SKILLS.c.created,
            )
            .join(GROUPS, GROUPS.c.id == SKILLS.c.group_id)
            .where(GROUPS.c.name == group, SKILLS.c.name == name)
            .order_by(SKILLS.c.revision)
        )
        with self.engine.connect() as c:
            rows = [dict(r._mapping) for r in c.execute(query)]
        for r in rows:
            r["evidence"] = json.loads(r["evidence"])
        return rows

    def bundle(self, group: str, name: str, revision: int) -> bytes | None:
        query = (
            select(SKILLS.c.bundle)
            .join(GROUPS, GROUPS.c.id == SKILLS.c.group_id)
            .where(GROUPS.c.name == group, SKILLS.c.name == name, SKILLS.c.revision == revision)
        )
        with self.engine.connect() as c:
            return c.execute(query).scalar()

    # -- evidence ------------------------------------------------------------------------

    def add_evidence(self, user: User, group: str, records: list[dict[str, Any]]) -> tuple[int, int]:
        """Store each record once per user; (stored, already there)."""
        stored = duplicates = 0
        for record in records:
            text = json.dumps(record, sort_keys=True)
            digest = hashlib.sha256(f"{user.id}\n{text}".encode()).hexdigest()
            try:
                with self.engine.begin() as c:
                    gid = self._group(c, group)
                    c.execute(
                        insert(EVIDENCE).values(
                            digest=digest, user_id=user.id, group_id=gid, record=text, created=time.time()
                        )
                    )
                stored += 1
            except IntegrityError:
                duplicates += 1
        return stored, duplicates

    def evidence(self, groups: frozenset[str]) -> list[dict[str, Any]]:
        query = (
            select(GROUPS.c.name.label("group"), EVIDENCE.c.record)
            .join(GROUPS, GROUPS.c.id == EVIDENCE.c.group_id)
            .where(GROUPS.c.name.in_(groups))
            .order_by(EVIDENCE.c.id)
        )
        with self.engine.connect() as c:
            return [{"group": r.group, **json.loads(r.record)} for r in c.execute(query)]

    def groups(self) -> list[str]:
        with self.engine.connect() as c:
            return list(c.execute(select(GROUPS.c.name).order_by(GROUPS.c.name)).scalars())

    # -- audit ---------------------------------------------------------------------------

    def audit(self, user: str | None, action: str, target: str, ok: bool, detail: str = "") -> None:
        with self.engine.begin() as c:
            c.execute(
                insert(AUDIT).values(
                    at=time.time(), user=user, action=action, target=target[:200], ok=ok, detail=detail[:2000]
                )
            )

    def audit_log(self, limit: int = 1000) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]
