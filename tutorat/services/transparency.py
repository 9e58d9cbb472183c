"""Algorithm transparency (CRPA L311-3-1, R311-3-1-2): the explanation of one proposal, in plain French."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import markdown
from flask import current_app

import matching
from tutorat.links import absolute_url
from tutorat.models import Pair, User
from tutorat.services import disclosure, letters

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


def _percent(value: float) -> str:
    return f"{round(value * 100)} %"


def _figure(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def criteria_in_words(view: disclosure.PairView) -> list[dict[str, Any]]:
    """Each criterion in plain words, for this viewer: its share of the score, what was found for
    these two people (the reasons the viewer may read), what it gave. A hidden criterion keeps its
    share (a published weight) and says nothing else."""
    total = sum(part.weight for part in view.parts) or 1.0
    out = []
    for part in view.parts:
        share = part.weight / total
        found = [r for r in view.reasons if matching.reason_part(r) == part.name]
        if part.hidden or part.value is None or part.contribution is None:
            sentence = (
                f"Ce critère compte pour {_percent(share)} de la note. Sa valeur ne vous est pas "
                "communiquée : la personne accompagnée n'a pas choisi de partager l'information "
                "qu'il utilise."
            )
        else:
            found_text = " ; ".join(f.rstrip(".") for f in found)
            sentence = (
                f"Ce critère compte pour {_percent(share)} de la note"
                + (f" ; {found_text[0].lower() + found_text[1:]}" if found_text else "")
                + f", ce qui donne {_figure(part.value)} sur 1 pour ce critère, soit "
                f"{round(part.contribution * 100)} point{'s' if part.contribution >= 0.015 else ''} "
                "sur 100."
            )
        out.append({"label": part.label, "sentence": sentence, "hidden": part.hidden})
    return out


def explanation_context(pair: Pair, viewer: User) -> dict[str, Any]:
    """What the explanation page shows to `viewer`: only what `disclosure.pair_view` allows."""
    view = disclosure.pair_view(pair, viewer)
    explanation = pair.explanation or {}
    outside = bool(explanation.get("outside_ranking"))
    others = max((pair.candidates_count or 0) - (0 if outside else 1), 0)
    referent = pair.mentee.mentee_profile.referent if pair.mentee.mentee_profile else None
    return {
        "person_name": view.mentee_name,
        "tutor_name": view.tutor_name,
        "referent": referent,
        "proposed_at": pair.proposed_at,
        "criteria": criteria_in_words(view),
        "algorithm_url": absolute_url("main.algorithm"),
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
        # Proposed outside the ranking: the algorithm had no part in the choice (CRPA).
        "outside": outside,
        "outside_reason": str(explanation.get("outside_reason") or ""),
    }


def explanation_pdf(pair: Pair, viewer: User) -> bytes:
    """The same explanation as the page, as an A4 PDF one can hand over (addresses printed)."""
    template = current_app.jinja_env.get_template("transparency/explanation.html")
    html = template.render(
        **explanation_context(pair, viewer),
        layout="transparency/print_layout.html",
        letterhead=letters.letterhead_data_uri(),
        printed=True,
        printed_on=datetime.now(UTC),
    )
    return letters.html_to_pdf(html)


@lru_cache(maxsize=1)
def public_description_html() -> str:
    """matching/README.md rendered as HTML (the published rules of the algorithm)."""
    return markdown.markdown(README.read_text(encoding="utf-8"), extensions=["tables"])
