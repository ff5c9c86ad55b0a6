"""Skills in the Agent Skills format: blueprints for reproduce, instructions for the agent."""

from .errors import SkillError
from .library import BUILTIN, Skill, SkillLibrary, read_skill

__all__ = ["BUILTIN", "Skill", "SkillError", "SkillLibrary", "read_skill"]
