"""Settings: command-line flags > SMOLAB_* environment variables > smolab.toml > defaults.

smolab.toml is read from the path in SMOLAB_CONFIG, else ./smolab.toml, else
``$SMOLAB_HOME/smolab.toml``. Keys are the field names below, at top level::

    model = "qwen2.5-coder-1.5b"
    threads = 4
    max_tokens = 1024
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError
from .models.registry import DEFAULT_MODEL


def default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "smolab"


def default_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "smolab"


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = tomllib.loads(self.path.read_text())
        except OSError as err:
            raise ConfigError(f"cannot read {self.path}: {err.strerror}") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{self.path} is not valid TOML: {err}") from err
        unknown = sorted(set(data) - set(self.settings_cls.model_fields))
        if unknown:
            known = ", ".join(self.settings_cls.model_fields)
            raise ConfigError(f"{self.path}: unknown key(s) {', '.join(unknown)}; known keys: {known}")
        return data


def save_profile(name: str, profile: AgentProfile, path: Path | None = None) -> Path:
    """Write ``[agents.NAME]`` into smolab.toml (the one in use, else the home folder's), keeping
    the rest of the file as it was; the file written."""
    import tomlkit

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name):
        raise ConfigError(f"agent name {name!r}: use letters, digits, '-' and '_' (at most 64)")
    if path is None:
        found = find_config_file()
        home = Path(os.environ["SMOLAB_HOME"]) if os.environ.get("SMOLAB_HOME") else default_home()
        path = found or home / "smolab.toml"
    doc = tomlkit.parse(path.read_text()) if path.is_file() else tomlkit.document()
    agents = doc.get("agents")
    if agents is None:
        agents = tomlkit.table(is_super_table=True)
        doc["agents"] = agents
    agents[name] = {k: v for k, v in profile.model_dump().items() if v is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(doc))
    return path


def find_config_file() -> Path | None:
    explicit = os.environ.get("SMOLAB_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"SMOLAB_CONFIG points to {path}, which does not exist")
        return path
    home = Path(os.environ["SMOLAB_HOME"]) if os.environ.get("SMOLAB_HOME") else default_home()
    for candidate in (Path.cwd() / "smolab.toml", home / "smolab.toml"):
        if candidate.is_file():
            return candidate
    return None


class AgentProfile(BaseModel):
    """A named agent (``[agents.NAME]`` in smolab.toml): what `smolab run --agent NAME` and the
    web app's agent builder start."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("", description="model name (empty: the default model)")
    builtin: list[str] = Field(
        default_factory=lambda: ["files", "shell", "jobs", "research"],
        description="built-in tool groups: files, shell, jobs, research",
    )
    tools: list[str] = Field(default_factory=list, description="the user's tools: tools.py files or modules")
    mcp: list[str] = Field(default_factory=list, description="names of mcp_servers to connect")
    skills: bool = Field(True, description="tell the instruction skills chosen for each task")
    allow: list[str] = Field(default_factory=list, description="actions allowed without asking")
    max_steps: int = Field(30, ge=1, le=500)
    max_tokens: int | None = Field(None, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMOLAB_", extra="forbid", validate_default=True)

    home: Path = Field(default_factory=default_home, description="data folder: models, runs, caches")
    cache: Path = Field(
        default_factory=default_cache, description="what can be rebuilt: the llama.cpp build's canary verdict"
    )
    model: str = Field(DEFAULT_MODEL, description="model name, .gguf path, openai:URL or litellm:P/M")
    threads: int | None = Field(None, ge=1, description="CPU threads for llama.cpp (default: all available)")
    context_window: int | None = Field(None, ge=256, description="context size to open / assume")
    max_tokens: int = Field(1024, ge=1, description="reply length cap")
    lookahead: int = Field(
        10,
        ge=0,
        le=64,
        description="tokens a local model drafts ahead from its prompt (0: off)",
    )
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    seed: int | None = Field(None, description="sampling seed (fixed seed + temperature 0 = repeatable)")
    max_repairs: int = Field(2, ge=0, le=10, description="re-asks after an invalid structured reply")
    retries: int = Field(4, ge=0, le=20, description="retries of transient HTTP failures")
    request_timeout: float = Field(600.0, gt=0, description="seconds per HTTP request")
    arxiv_url: str = Field("https://arxiv.org", description="arXiv (or a mirror) for papers given by id")
    arxiv_interval: float = Field(3.0, ge=0, description="seconds between requests to arXiv (its policy: 3)")
    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query", description="arXiv search API for the agent's search_papers"
    )
    hf_url: str = Field("https://huggingface.co", description="Hugging Face hub for the agent's search tools")
    github_api_url: str = Field("https://api.github.com", description="GitHub API for search_github_code")
    allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="agent actions allowed without asking: network, install, write_outside, read_outside, "
        "delete, job, destructive, all, or tool:NAME",
    )
    tools: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="the user's tools for the agent: tools.py files or modules[:function]",
    )
    mcp_servers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="MCP servers for the agent: name -> {command, args, env} (stdio) or {url} "
        "(streamable HTTP)",
    )
    hub_url: str = Field(
        "http://127.0.0.1:8765", description="the skill hub `smolab skills push/pull/share` use"
    )
    hub_token: str = Field("", description="your hub API token (from `smolab hub token`)")
    hub_db: str = Field("", description="the hub's database URL (`smolab hub serve`); default SQLite in home")
    agents: dict[str, AgentProfile] = Field(
        default_factory=dict, description="named agents: name -> model, tools, mcp, skills, allow, budgets"
    )

    @field_validator("allow", "tools", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        # SMOLAB_ALLOW=network,install as well as a TOML list
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def papers_dir(self) -> Path:
        return self.home / "papers"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def skills_dir(self) -> Path:
        """Installed skills and their revisions (``skills/store.py``)."""
        return self.home / "skills"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _TomlSource(settings_cls, find_config_file())


def load_settings(**overrides: Any) -> Settings:
    """Settings with ``overrides`` (from flags) on top; None values are ignored."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as err:
        e = err.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        raise ConfigError(
            f"invalid setting {where}={e.get('input')!r}: {e['msg']} "
            f"(from a flag, SMOLAB_{where.upper()} or smolab.toml)"
        ) from err
