"""What a CDS service is (`Service`) and what its handler receives (`ServiceCall`).

The types live apart from the list of services (services.py) so that handlers (patient_view.py,
order.py, pipeline.py) can name them while services.py imports the handlers: no import cycle.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from cds_service.config import Config


@dataclass(frozen=True)
class ServiceCall:
    """What a handler receives: the validated request body, its service and the config."""

    service: Service
    body: dict
    config: Config
    as_of: date | None = None  # development-only `?asOf=` (hooks/routes.py); None: today


Handler = Callable[[ServiceCall], dict]


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    handler: Handler
    prefetch: dict[str, str] = field(default_factory=dict)
    # Prefetch keys without which the service cannot answer (412 when unobtainable).
    required_prefetch: tuple[str, ...] = ()
    usage_requirements: str | None = None

    def discovery_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
        }
        if self.prefetch:
            entry["prefetch"] = dict(self.prefetch)
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry
