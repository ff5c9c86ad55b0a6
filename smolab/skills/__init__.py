"""Skills in the Agent Skills format: blueprints for reproduce, instructions for the agent."""

from .errors import SkillError
from .library import BUILTIN, Installed, Skill, SkillLibrary, read_skill
from .store import Revision, SkillState, SkillStore

__all__ = [
    "BUILTIN",
    "Installed",
    "Revision",
    "SkillState",
    "Skill",
    "SkillError",
    "SkillLibrary",
    "SkillStore",
    "read_skill",
]
