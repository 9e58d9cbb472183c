"""Plain values: validation with clear messages, slot labels, vocabularies, weights."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import matching
from matching import Mentee, Tutor, Weights


def mentee(**changes):
    values = dict(
        id=1,
        lat=43.6465,
        lon=0.5855,
        sectors=("K1302",),
        availability=1 << 5,
        max_km=30.0,
        has_car=False,
        remote_ok=True,
        obstacles=frozenset({"mobility"}),
    )
    values.update(changes)
    return Mentee(**values)


def tutor(**changes):
    values = dict(
        id=7,
        lat=43.66,
        lon=0.45,
        sectors=("K1302",),
        availability=1 << 5,
        max_km=40.0,
        has_car=True,
        remote_ok=True,
        obstacles=frozenset({"mobility"}),
        capacity=2,
    )
    values.update(changes)
    return Tutor(**values)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lat": 91.0}, "latitude va de -90 à 90"),
        ({"lat": -90.5}, "latitude va de -90 à 90"),
        ({"lon": 180.01}, "longitude va de -180 à 180"),
        ({"lat": math.nan}, "Latitude : un nombre fini"),
        ({"lon": "0.5"}, "Longitude : un nombre est attendu"),
        ({"availability": 1 << 21}, "hors des 21 de la semaine"),
        ({"availability": -1}, "Disponibilités : une valeur positive"),
        ({"availability": 2.0}, "Disponibilités : un nombre entier"),
        ({"sectors": ("K13021",)}, "Code ROME mal formé"),
        ({"sectors": ("k1302",)}, "Code ROME mal formé"),
        ({"sectors": ("O1302",)}, "Code ROME mal formé"),
        ({"sectors": ("K130",)}, "Code ROME mal formé"),
        ({"sectors": "K1302"}, "liste de codes ROME"),
        ({"max_km": -1.0}, "distance maximale est positive"),
        ({"max_km": math.inf}, "Distance maximale : un nombre fini"),
        ({"has_car": "yes"}, "Voiture : oui ou non"),
        ({"remote_ok": 1}, "Rencontres à distance : oui ou non"),
        ({"obstacles": "mobility"}, "Les difficultés sont un ensemble"),
        ({"obstacles": frozenset({""})}, "texte non vide"),
        ({"id": "12"}, "Identifiant : un nombre entier"),
    ],
)
def test_person_validation(changes, message):
    with pytest.raises(ValueError, match=message):
        mentee(**changes)
    with pytest.raises(ValueError, match=message):
        tutor(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity": -1}, "Places libres d'un tuteur : de 0 à 3"),
        ({"capacity": 1.5}, "Places libres : un nombre entier"),
        ({"last_asked": math.nan}, "Dernière sollicitation : un nombre fini"),
    ],
)
def test_tutor_validation(changes, message):
    with pytest.raises(ValueError, match=message):
        tutor(**changes)


def test_values_are_normalised_and_frozen():
    m = mentee(
        sectors=["K1302", "K13"],
        obstacles={"mobility", "other"},
        lat=np.float64(43.5),
        id=np.int64(3),
        availability=np.int64(5),
        has_car=np.bool_(True),
    )
    assert m.sectors == ("K1302", "K13")
    assert m.obstacles == frozenset({"mobility", "other"})
    assert type(m.lat) is float and type(m.id) is int and type(m.availability) is int
    assert m.has_car is True
    with pytest.raises(AttributeError):
        m.lat = 44.0  # type: ignore[misc]
    assert hash(m) == hash(
        mentee(
            sectors=("K1302", "K13"),
            obstacles=frozenset({"mobility", "other"}),
            lat=43.5,
            id=3,
            availability=5,
            has_car=True,
        )
    )


def test_partial_rome_codes_and_unknown_obstacles_are_accepted():
    m = mentee(sectors=("K", "K13", "N4101"), obstacles=frozenset({"dettes"}))
    assert m.obstacles == {"dettes"}


def test_effective_distance_without_car():
    assert mentee(has_car=False, max_km=30.0).effective_max_km == matching.NO_CAR_MAX_KM == 15.0
    assert mentee(has_car=False, max_km=5.0).effective_max_km == 5.0
    assert mentee(has_car=True, max_km=30.0).effective_max_km == 30.0


def test_slot_labels():
    assert matching.SLOT_COUNT == 21
    assert matching.slot_label(0) == "lundi matin"
    assert matching.slot_label(4) == "mardi après-midi"
    assert matching.slot_label(5) == "mardi soir"
    assert matching.slot_label(15) == "samedi matin"
    assert matching.slot_label(20) == "dimanche soir"
    assert matching.slots_to_labels((1 << 5) | (1 << 15)) == ["mardi soir", "samedi matin"]
    assert matching.slots_to_labels(0) == []
    assert len(set(map(matching.slot_label, range(21)))) == 21
    for bad in (-1, 21, 2.0, True):
        with pytest.raises(ValueError):
            matching.slot_label(bad)
    with pytest.raises(ValueError, match="hors des 21"):
        matching.slots_to_labels(1 << 22)


def test_vocabularies():
    assert list(matching.OBSTACLES) == [
        "mobility",
        "childcare",
        "health",
        "housing",
        "digital_access",
        "french_language",
        "self_confidence",
        "rights_access",
    ]
    assert matching.OBSTACLES["childcare"] == "Garde d'enfants"
    assert set(matching.ROME_LEVEL_LABELS) == {"occupation", "domain", "broad_domain"}
    with pytest.raises(TypeError):
        matching.OBSTACLES["x"] = "y"  # type: ignore[index]


def test_weights_defaults_roundtrip_and_validation():
    w = Weights()
    assert math.isclose(w.total, 1.0)
    assert Weights.from_dict(w.to_dict()) == w
    assert json.loads(json.dumps(w.to_dict())) == w.to_dict()
    assert Weights.from_dict({"sector": 0.5}) == Weights(sector=0.5)
    assert Weights(distance=0, sector=0, availability=0, experience=1).total == 1.0
    for bad, message in [
        ({"distance": -0.1}, "négatif"),
        ({"distance": 1.5}, "entre 0 et 1"),
        ({"sector": math.nan}, "nombre fini"),
        ({"availability": math.inf}, "nombre fini"),
        ({"experience": "1"}, "un nombre est attendu"),
        ({"distance": True}, "un nombre est attendu"),
        (
            {"distance": 0, "sector": 0, "availability": 0, "experience": 0},
            "Tous les poids sont nuls",
        ),
    ]:
        with pytest.raises(ValueError, match=message):
            Weights(**bad)
    with pytest.raises(ValueError, match="Poids inconnu"):
        Weights.from_dict({"distance": 1, "age": 2})
    with pytest.raises(ValueError, match="critère par critère"):
        Weights.from_dict([("distance", 1)])  # type: ignore[arg-type]


def test_silent_inputs_are_refused():
    import matching
    from matching.types import MAX_CAPACITY

    base = {
        "id": 1,
        "lat": 43.6,
        "lon": 0.5,
        "sectors": ("K1302",),
        "availability": 1,
        "max_km": 20.0,
        "has_car": True,
        "remote_ok": False,
    }
    with pytest.raises(ValueError, match="au plus 3"):
        matching.Tutor(**base, capacity=MAX_CAPACITY + 1)
    assert matching.Tutor(**base, capacity=MAX_CAPACITY).capacity == 3
    mentee = matching.Mentee(**base)
    tutors = [matching.Tutor(**base)]
    for k in (0, -1):
        with pytest.raises(ValueError, match="au moins 1"):
            matching.top_candidates(mentee, tutors, k=k)
        with pytest.raises(ValueError, match="au moins 1"):
            matching.candidate_graph([mentee], tutors, k=k)
    with pytest.raises(ValueError, match="entre 0 et 1"):
        Weights(distance=2)
    with pytest.raises(ValueError, match="Code ROME mal formé"):
        matching.Mentee(**{**base, "sectors": ("Z9999",)})
