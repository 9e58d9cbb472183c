"""Algorithm transparency (CRPA L311-3-1, R311-3-1-2): the explanation of one proposal, in plain French."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import markdown

import matching
from tutorat.models import Pair, User
from tutorat.services import disclosure

README = Path(matching.__file__).resolve().parent / "README.md"

DATA_SOURCES = [
    (
        "Commune de résidence (son centre géographique, jamais l'adresse)",
        "Déclarée par la personne ; liste et centres des communes : INSEE (Code officiel géographique 2026), IGN "
        "(ADMIN EXPRESS).",
    ),
    (
        "Métiers visés et métier exercé",
        "Choisis dans le ROME, le répertoire des métiers de France Travail.",
    ),
    (
        "Moments libres dans la semaine",
        "Déclarés par chaque personne (7 jours × matin, après-midi, soir).",
    ),
    ("Voiture, distance maximale, rencontres à distance", "Déclarées par chaque personne."),
    (
        "Difficultés rencontrées ou surmontées",
        "Cochées librement dans une liste fixe ; ne rien cocher est possible.",
    ),
    ("Places libres du tuteur, date de sa dernière sollicitation", "Tenues par l'application."),
]

OPERATIONS = [
    "Écarter les tuteurs impossibles : trop loin pour l'une des deux personnes (sauf si les deux acceptent les "
    "rencontres à distance), aucun moment libre en commun (même exception), plus de place ou en repos.",
    "Pour chaque tuteur restant, calculer quatre notes entre 0 et 1 : distance, métier (même métier, même "
    "domaine, même grand domaine ROME), moments libres en commun, difficultés surmontées en commun.",
    "Faire la somme de ces notes pondérée par les poids fixés par le Département : c'est le score, entre 0 et 1.",
    "Classer les tuteurs du plus haut score au plus bas ; à égalité, le tuteur sollicité le moins récemment "
    "passe devant.",
    "Montrer ce classement au référent, avec les raisons. Le référent choisit ; il peut ne pas suivre l'ordre.",
]


def explanation_context(pair: Pair, viewer: User) -> dict[str, Any]:
    """What the explanation page shows to `viewer`: only what `disclosure.pair_view` allows."""
    view = disclosure.pair_view(pair, viewer)
    others = max((pair.candidates_count or 0) - 1, 0)
    return {
        "pair": pair,
        "view": view,
        "weights": pair.weights or {},
        "rank": pair.rank,
        "candidates": pair.candidates_count,
        "others": others,
        "sources": DATA_SOURCES,
        "operations": OPERATIONS,
        "no_car_km": matching.NO_CAR_MAX_KM,
        "version": pair.algorithm_version,
        "chooser": pair.proposed_by,
    }


@lru_cache(maxsize=1)
def public_description_html() -> str:
    """matching/README.md rendered as HTML (the published rules of the algorithm)."""
    return markdown.markdown(README.read_text(encoding="utf-8"), extensions=["tables"])
