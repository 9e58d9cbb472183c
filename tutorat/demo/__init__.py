"""The demo population (`flask seed-demo`), produced through the product's own services."""

from tutorat.demo.population import (
    COMMON_METIERS,
    DEMO_EMAILS,
    DEMO_PASSWORD,
    FIRST_NAMES,
    LAST_NAMES,
    seed_demo,
)
from tutorat.demo.story import MESSAGES

__all__ = [
    "COMMON_METIERS",
    "DEMO_EMAILS",
    "DEMO_PASSWORD",
    "FIRST_NAMES",
    "LAST_NAMES",
    "MESSAGES",
    "seed_demo",
]
