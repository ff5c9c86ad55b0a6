"""Errors of the skill library.

::

    SkillError    a skill folder is missing, invalid, or names no known skill
"""

from __future__ import annotations

from ..errors import SmolabError


class SkillError(SmolabError):
    exit_code = 2
