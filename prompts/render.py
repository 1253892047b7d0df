"""Rendering prompt templates: StrictUndefined, and only the inputs a template may see.

Every render takes named inputs (catalog, question, and for repairs the failed SQL with its
reasons). There is no parameter through which rows could reach a prompt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jinja2


@dataclass(frozen=True)
class Prompt:
    template: str
    system: str
    user: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.system}\n\n{self.user}".encode()).hexdigest()

    @property
    def estimated_tokens(self) -> int:
        """About four characters a token: enough to watch prompt size, not to bill by."""
        return (len(self.system) + len(self.user)) // 4 + 1

    def messages(self) -> list[dict]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@cache
def _environment() -> jinja2.Environment:
    folder = resources.files("prompts") / "templates"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), undefined=jinja2.StrictUndefined,
                              autoescape=False, keep_trailing_newline=False, trim_blocks=False)


def template_source_sha256(name: str) -> str:
    """Hash of the template file itself (what changed between two audit rows)."""
    source = (resources.files("prompts") / "templates" / f"{name}.j2").read_text(encoding="utf-8")
    return hashlib.sha256(source.encode()).hexdigest()


def render(name: str, **inputs) -> Prompt:
    """Render `prompts/templates/<name>.j2` into its system and user parts."""
    template = _environment().get_template(f"{name}.j2")
    context = template.new_context(inputs)
    system = "".join(template.blocks["system"](context)).strip()
    user = "".join(template.blocks["user"](context)).strip()
    return Prompt(template=name, system=system, user=user)
