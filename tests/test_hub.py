"""The skill hub over real HTTP (uvicorn on loopback) and real databases (a SQLite file; a
PostgreSQL server the test starts): tokens, groups, push and pull, limits, the audit log,
scrubbing of what is shared, 20 users at once, and evolution over shared evidence published
to a second client."""

from __future__ import annotations

import io
import json
import stat
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from smolab.hub.app import Limits
from smolab.hub.bundle import pack
from smolab.hub.client import HubClient, HubError
from smolab.hub.db import AUDIT, EVIDENCE, SKILLS, TOKENS, HubDB, engine_for
from smolab.hub.evolve import evolve_group
from smolab.hub.redact import findings, scrub
from smolab.skills import SkillLibrary, SkillStore
from smolab.skills.evidence import RunEvidence, SkillRef
from smolab.skills.evolve import PITFALLS
from smolab.skills.replay import Score

from .hubserver import postgres, postgres_bin, serve_hub
from .test_skill_guide import write_skill

SHAPE = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (NxN and NxN)"

# Fake secrets of every kind the hub must never store (none is a real credential).
SECRETS = {
    "anthropic": "sk-ant-api03-FAKEfakeFAKEfakeFAKEfake0123456789",
    "openai": "sk-proj-FAKEfakeFAKEfake0123456789abcd",
    "aws": "AKIAFAKEFAKEFAKE1234",
    "google": "AIzaSyFAKEfakeFAKEfakeFAKEfake0123456",
    "github": "ghp_FAKEfakeFAKEfakeFAKEfake0123456789",
    "slack": "xoxb-1234567890-FAKEfakeFAKE",
    "huggingface": "hf_FAKEfakeFAKEfakeFAKEfake01234",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.FAKEsignatureFAKE12",
    "bearer": "Bearer FAKEfakeFAKEfake0123456789",
    "password": "password=Tr0ub4dor&3xyz",
    "url password": "postgresql://alice:s3cretpass@db.internal/prod",
    "private key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKEFAKEFAKE\n-----END RSA PRIVATE KEY-----",
    "email": "alice.lab@example.org",
    "ipv4": "10.23.45.67",
    "ipv6": "2001:db8:85a3:0:0:8a2e:370:7334",
    "path": "/home/alice/projects/secret-lab/train.py",
    "windows path": "C:\\Users\\alice\\papers\\draft.pdf",
    "user": "alicelab",
    "host": "gpu-node-17.lab.internal",
}


@pytest.fixture
def hub(tmp_path):
    db = HubDB(engine_for(f"sqlite:///{tmp_path / 'hub.db'}"))
    with serve_hub(db) as url:
        yield url, db


def evidence(n: int, skill: str = "blueprint-layer", errors=(SHAPE,), source: str = "") -> RunEvidence:
    return RunEvidence(
        run=f"run-{n}",
        source=source or f"p{n}.pdf",
        status="done",
        skills=[SkillRef(name=skill, version="5")],
        tests_before=(2, 6),
        tests_after=(6, 6),
        errors=list(errors),
    )


def test_every_route_needs_a_valid_token_and_refusals_are_audited(hub, tmp_path):
    url, db = hub
    token = db.add_user("ann", ["lab"])
    writes = [
        ("PUT", "/v1/skills/lab/x", {"content": b"zip"}),
        ("POST", "/v1/evidence", {"json": {"group": "lab", "records": []}}),
    ]
    reads = [("GET", "/v1/skills", {}), ("GET", "/v1/evidence", {}), ("GET", "/v1/audit", {})]
    for method, path, kw in writes + reads:
        for header in (
            {},
            {"authorization": "Bearer smolab_not-a-real-token"},
            {"authorization": "Basic abc"},
        ):
            r = httpx.request(method, url + path, headers=header, **kw)
            assert r.status_code == 401, (method, path, header)
            assert "smolab hub token" in r.json()["detail"]
    assert db.revoke(token)
    r = httpx.get(url + "/v1/skills", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 401  # a revoked token is refused
    refused = [a for a in db.audit_log() if not a["ok"]]
    assert len(refused) == 16 and all(a["user"] is None for a in refused)
    # Only the hash is stored.
    with db.engine.connect() as c:
        stored = list(c.execute(select(TOKENS.c.hash)).scalars())
    assert token not in stored and len(stored[0]) == 64


def test_a_skill_pushed_by_one_member_is_pulled_by_another_untrusted(hub, tmp_path):
    url, db = hub
    ann, bob = HubClient(url, db.add_user("ann", ["lab"])), HubClient(url, db.add_user("bob", ["lab"]))
    folder = write_skill(
        tmp_path / "mine", "plot-curves", "Plotting training curves with matplotlib.", "agent"
    )
    assert ann.push(folder, "lab") == {"group": "lab", "name": "plot-curves", "revision": 1, "new": True}
    assert ann.push(folder, "lab")["new"] is False  # the same files again add nothing
    (folder / "SKILL.md").write_text((folder / "SKILL.md").read_text() + "\nLabel both axes.\n")
    assert ann.push(folder, "lab")["revision"] == 2
    store = SkillStore(tmp_path / "bob-store")
    state, added = bob.pull("plot-curves", store)
    assert added and not state.trusted and state.revisions[0].source.endswith("/lab/plot-curves@2")
    assert "plot-curves" not in {s.name for s in SkillLibrary(store=store)}  # not used before accepted
    store.accept("plot-curves")
    assert "Label both axes." in SkillLibrary(store=store).get("plot-curves").body
    # A group one does not belong to is closed.
    eve = HubClient(url, db.add_user("eve", ["other"]))
    with pytest.raises(HubError, match="403.*not a member of group 'lab'"):
        eve.push(folder, "lab")
    with pytest.raises(HubError, match="no skill 'plot-curves'"):
        eve.pull("plot-curves", SkillStore(tmp_path / "eve"))
    assert [a["detail"] for a in db.audit_log() if a["action"] == "push_skill" and a["ok"]][0] == "revision 2"


def _zip(entries: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, data)
    return buffer.getvalue()


SKILL_MD = b"---\nname: good-skill\ndescription: A fine skill.\n---\n\nDo it.\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not a zip at all", "not a zip archive"),
        (_zip({"SKILL.md": SKILL_MD, "../escape.py": b"x"}), "points outside the skill's folder"),
        (_zip({"SKILL.md": SKILL_MD, "/etc/passwd": b"x"}), "points outside the skill's folder"),
        (_zip({"SKILL.md": SKILL_MD, "link": b"/etc/passwd"}, links=("link",)), "is a link"),
        (_zip({"SKILL.md": SKILL_MD, **{f"f{i}.txt": b"x" for i in range(201)}}), "at most 200"),
        (_zip({"SKILL.md": SKILL_MD, "big.bin": b"\0" * (3 * 1024 * 1024)}), "unpacks to more than"),
        (_zip({"README.md": b"hi"}), "no SKILL.md"),
        (_zip({"SKILL.md": b"---\nname: Bad_Name\n---\n"}), "not a valid skill"),
        (_zip({"SKILL.md": SKILL_MD.replace(b"good-skill", b"other-skill")}), "must match skill name"),
        (_zip({"SKILL.md": SKILL_MD, "notes.md": b"key: sk-ant-api03-FAKEfakeFAKEfakeFAKE01"}), "API key"),
    ],
)
def test_malformed_oversized_and_climbing_bundles_are_refused_in_one_line(hub, body, expected):
    url, db = hub
    r = httpx.put(
        url + "/v1/skills/lab/good-skill",
        content=body,
        headers={"authorization": f"Bearer {db.add_user('ann', ['lab'])}"},
    )
    assert r.status_code in (413, 422), r.text
    detail = r.json()["detail"]
    assert expected in detail and "\n" not in detail
    with db.engine.connect() as c:
        assert c.execute(select(SKILLS)).first() is None  # nothing stored


def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path):
    db = HubDB(engine_for(f"sqlite:///{tmp_path / 'hub.db'}"))
    with serve_hub(db, Limits(body_bytes=1000)) as url:
        r = httpx.put(
            url + "/v1/skills/lab/good-skill",
            content=b"\0" * 5000,
            headers={"authorization": f"Bearer {db.add_user('ann', ['lab'])}"},
        )
    assert r.status_code == 413 and "at most 1,000" in r.json()["detail"]


def test_a_client_over_the_rate_limit_waits(tmp_path):
    db = HubDB(engine_for(f"sqlite:///{tmp_path / 'hub.db'}"))
    with serve_hub(db, Limits(requests_per_minute=5)) as url:
        headers = {"authorization": f"Bearer {db.add_user('ann', ['lab'])}"}
        codes = [httpx.get(url + "/v1/skills", headers=headers).status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2


def test_no_fake_secret_reaches_the_hubs_database(hub, tmp_path):
    url, db = hub
    token = db.add_user("ann", ["lab"])
    leaky = [
        evidence(
            i,
            errors=[f"RuntimeError: failed near {secret}"],
            source=secret if "path" in kind else f"p{i}.pdf",
        )
        for i, (kind, secret) in enumerate(SECRETS.items())
    ]
    names = ["alicelab", "gpu-node-17"]
    # The client scrubs before sending; the server finds nothing left.
    records = [scrub(e.model_dump(mode="json"), names) for e in leaky]
    assert all(findings(r) == [] for r in records)
    r = httpx.post(
        url + "/v1/evidence",
        json={"group": "lab", "records": records},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200 and r.json() == {"stored": len(SECRETS), "duplicates": 0}
    # A client that skips scrubbing is refused, record by record, and nothing is stored.
    for e in leaky[:-2]:  # the bare user and host names are only known to the client
        raw = e.model_dump(mode="json")
        r = httpx.post(
            url + "/v1/evidence",
            json={"group": "lab", "records": [raw]},
            headers={"authorization": f"Bearer {token}"},
        )
        assert r.status_code == 422 and "must not be shared" in r.json()["detail"], e.errors
    # The whole database file, every table and the audit log included, holds none of them.
    dump = b"".join(p.read_bytes() for p in tmp_path.glob("hub.db*"))
    for kind, secret in SECRETS.items():
        for piece in {secret, *[p for p in secret.replace("\\", "/").split("/") if len(p) > 6]}:
            if kind in ("path", "windows path") and piece.endswith(".pdf"):
                continue  # a paper keeps its file name: the case a replay needs
            assert piece.encode() not in dump, (kind, piece)
    with db.engine.connect() as c:
        stored = [json.loads(t) for t in c.execute(select(EVIDENCE.c.record)).scalars()]
        details = [a.detail for a in c.execute(select(AUDIT))]
    assert len(stored) == len(SECRETS) and not any(s in d for d in details for s in SECRETS.values())


def _hammer(url: str, db: HubDB, tmp_path: Path, users: int = 20, runs: int = 10) -> None:
    """``users`` members at once, each pushing evidence (twice: a retry) and a skill, and pulling."""
    tokens = [db.add_user(f"user{i}", ["lab"]) for i in range(users)]
    pushed = threading.Barrier(users, timeout=120)

    def member(i: int) -> tuple[int, int, int]:
        client = HubClient(url, tokens[i])
        mine = [evidence(i * 100 + k) for k in range(runs)]
        first = client.share(mine, "lab")
        again = client.share(mine, "lab")  # a retry stores nothing twice
        folder = write_skill(tmp_path / f"u{i}", f"skill-{i}", f"Skill number {i} for the lab.", "agent")
        client.push(folder, "lab")
        shared = write_skill(
            tmp_path / f"s{i}", "shared-notes", f"Notes everyone edits, version {i}.", "agent"
        )
        client.push(shared, "lab")  # twenty pushes of one skill at once: each its own revision
        pushed.wait()  # everyone's skill is there before anyone pulls another's
        pulled, _ = (
            client.pull(f"skill-{(i + 1) % users}", SkillStore(tmp_path / f"store{i}"), "lab")
            if i
            else (None, None)
        )
        client.close()
        return first["stored"], again["duplicates"], 0 if pulled is None else pulled.current

    with ThreadPoolExecutor(users) as pool:
        results = list(pool.map(member, range(users)))
    assert all(stored == runs and dup == runs for stored, dup, _ in results)
    with db.engine.connect() as c:
        rows = c.execute(select(EVIDENCE.c.record)).scalars().all()
        shared = c.execute(select(SKILLS.c.revision).where(SKILLS.c.name == "shared-notes")).scalars().all()
    runs_seen = [json.loads(r)["run"] for r in rows]
    assert len(runs_seen) == users * runs == len(set(runs_seen))  # nothing lost, nothing duplicated
    assert sorted(shared) == list(range(1, users + 1))
    assert len([s for s in db.skills(frozenset(["lab"])) if s["name"].startswith("skill-")]) == users


def test_twenty_users_at_once_on_sqlite(hub, tmp_path):
    url, db = hub
    _hammer(url, db, tmp_path)


@pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed (install.sh installs it)")
def test_twenty_users_at_once_on_a_real_postgresql_server(tmp_path):
    with postgres() as pg_url:
        db = HubDB(engine_for(pg_url))
        with serve_hub(db) as url:
            _hammer(url, db, tmp_path)
            token = db.add_user("ann", ["lab"])
            r = httpx.post(
                url + "/v1/evidence",
                json={"group": "lab", "records": [{"run": SECRETS["openai"]}]},
                headers={"authorization": f"Bearer {token}"},
            )
            assert r.status_code == 422  # the same checks whatever the database
        db.engine.dispose()


def test_evolution_on_the_hub_publishes_a_validated_version_a_second_client_pulls(hub, tmp_path):
    url, db = hub
    ann, bob = HubClient(url, db.add_user("ann", ["lab"])), HubClient(url, db.add_user("bob", ["lab"]))
    papers = tmp_path / "papers"
    papers.mkdir()
    for name in ("gate.pdf", "mixer.pdf"):
        (papers / name).write_bytes(b"%PDF-1.4 stand-in")
    shared = [
        evidence(1, source="/home/ann/papers/gate.pdf"),
        evidence(2, source="/home/ann/papers/mixer.pdf"),
    ]
    assert ann.share(shared, "lab") == {"stored": 2, "duplicates": 0}
    replayed: list[tuple[str, bool]] = []

    def replay(paper: str, extra: list[Path]) -> Score:
        replayed.append((Path(paper).name, bool(extra)))
        return Score(passed=True, tests=(6 if extra else 5, 6), checks_failing=0)

    def phrase(instructions: str, sig: str, changed) -> str:
        return (
            "Give every linear layer the input size its input really has, from the sizes __init__ receives."
        )

    outcomes = evolve_group(db, "lab", phrase, replay, papers)
    [o] = outcomes
    assert o.proposal.action == "refine" and o.published == 1 and o.comparison is not None
    assert replayed == [("gate.pdf", False), ("gate.pdf", True), ("mixer.pdf", False), ("mixer.pdf", True)]
    [published] = bob.revisions("lab", "blueprint-layer")
    assert published["published_by"] == "evolver" and published["evidence"]["not_worse"] is True
    assert published["evidence"]["totals"]["candidate"]["tests"] == 12
    store = SkillStore(tmp_path / "bob")
    state, _ = bob.pull("blueprint-layer", store)
    assert not state.trusted
    store.accept("blueprint-layer")
    body = SkillLibrary(store=store).get("blueprint-layer").body
    assert PITFALLS in body and "input size its input really has" in body
    # What the candidate was built from is the shared evidence: paths were cut to file names.
    assert {r["source"] for r in bob.evidence("lab")} == {"gate.pdf", "mixer.pdf"}


def test_pack_round_trips_a_builtin_blueprint(hub, tmp_path):
    url, db = hub
    client = HubClient(url, db.add_user("ann", ["lab"]))
    skill = SkillLibrary().get("blueprint-activation")
    assert len(pack(skill.path)) < 4 * 1024 * 1024
    assert client.push(skill.path, "lab")["revision"] == 1  # a real skeleton, code and all, passes the checks
    state, _ = client.pull("blueprint-activation", SkillStore(tmp_path / "s"))
    files = sorted(
        p.name for p in (SkillStore(tmp_path / "s").folder("blueprint-activation")).rglob("*") if p.is_file()
    )
    assert "SKILL.md" in files and "experiment.py" in files


def test_the_hub_and_its_client_from_the_command_line(tmp_path):
    """`smolab hub serve`, `hub token`, and `skills push | pull | share` as a user runs them."""
    import subprocess
    import sys
    import time

    from .conftest import run_cli
    from .hubserver import free_port

    db_url, port = f"sqlite:///{tmp_path / 'hub.db'}", free_port()
    home = {"SMOLAB_HOME": str(tmp_path / "home")}
    server = subprocess.Popen(
        [sys.executable, "-m", "smolab.cli", "hub", "serve", "--db", db_url, "--port", str(port)],
        env={**{k: v for k, v in __import__("os").environ.items() if not k.startswith("SMOLAB_")}, **home},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = run_cli("hub", "token", "ann", "--group", "lab", "--db", db_url, env=home).stdout.strip()
        assert token.startswith("smolab_")
        env = {**home, "SMOLAB_HUB_URL": url, "SMOLAB_HUB_TOKEN": token}
        folder = write_skill(tmp_path / "mine", "plot-curves", "Plotting training curves.", "agent")
        r = run_cli("skills", "push", str(folder), "--group", "lab", env=env)
        assert r.returncode == 0 and r.stdout.strip() == "lab/plot-curves revision 1", r.stderr
        other = {**env, "SMOLAB_HOME": str(tmp_path / "other")}
        r = run_cli("skills", "pull", "plot-curves", env=other)
        assert r.returncode == 0 and "not used until you accept it" in r.stdout, r.stderr
        # Bad input: one line and a non-zero exit, no traceback.
        for args, env_, said in [
            (("skills", "pull", "plot-curves"), {**other, "SMOLAB_HUB_TOKEN": ""}, "no hub token"),
            (("skills", "pull", "nope"), other, "no skill 'nope'"),
            (("skills", "pull", "plot-curves"), {**other, "SMOLAB_HUB_TOKEN": "smolab_wrong"}, "not valid"),
            (
                ("skills", "pull", "plot-curves", "--hub", f"http://127.0.0.1:{free_port()}"),
                other,
                "cannot reach",
            ),
            (
                ("skills", "share", "--group", "lab", "--runs", str(tmp_path / "mine")),
                other,
                "no finished reproduce run",
            ),
        ]:
            r = run_cli(*args, env=env_)
            assert r.returncode != 0 and said in r.stderr and len(r.stderr.strip().splitlines()) == 1, (
                r.stderr
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
