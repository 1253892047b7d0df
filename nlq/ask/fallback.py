"""The provider one answer uses: the configured one, or, when it cannot answer and the operator
opted in (`VANGUARD_LLM_FALLBACK=offline`), the offline parser, saying so.

One `ProviderChoice` per request: providers are shared by every request, so whether this answer
fell back is the request's state, never the provider's.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlq.ask.providers import LlmReply, LlmUnavailable
from prompts.render import Prompt


@dataclass
class ProviderChoice:
    primary: object
    fallback: object | None = None
    fell_back: dict | None = None  # what failed, once it did
    announced: bool = False

    def __post_init__(self) -> None:
        self.active = self.primary

    @property
    def name(self) -> str:
        return getattr(self.active, "name", "unknown")

    @property
    def model(self) -> str | None:
        return getattr(self.active, "model", None)

    async def generate(self, prompt: Prompt, **context) -> LlmReply:
        try:
            return await self.active.generate(prompt, **context)
        except LlmUnavailable as exc:
            if self.fallback is None or self.active is self.fallback:
                raise
            self.fell_back = {"from": getattr(self.primary, "name", "unknown"),
                              "model": getattr(self.primary, "model", None),
                              "host": exc.details.get("host"), "reason": exc.details.get("reason"),
                              "message": exc.message}
            self.active = self.fallback
            return await self.active.generate(prompt, **context)

    @property
    def stream_explanation(self):
        """The active provider's explanation stream, or None when it writes none (the offline
        parser's reading comes with its statement)."""
        return getattr(self.active, "stream_explanation", None)

    def announcement(self) -> dict | None:
        """The `fallback` event's data the first time it is due, else None."""
        if self.fell_back is None or self.announced:
            return None
        self.announced = True
        failed = {k: v for k, v in self.fell_back.items() if k != "message"}
        return {"provider": self.name, "model": self.model, "instead_of": failed, "message": self.note()}

    def note(self) -> str:
        """The explanation's line about the fallback."""
        return (f"{self.fell_back['message']} The offline parser answered instead."
                if self.fell_back else "")
