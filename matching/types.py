"""Plain, validated values that the matching library works on: people, weights and vocabularies."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from .errors import MatchingInputError

__all__ = [
    "DAYS",
    "NO_CAR_MAX_KM",
    "OBSTACLES",
    "PARTS_OF_DAY",
    "ROME_LEVEL_LABELS",
    "SLOT_COUNT",
    "Mentee",
    "Tutor",
    "Weights",
    "slot_label",
    "slots_to_labels",
]

#: Number of weekly slots: 7 days x (matin, après-midi, soir). Bit ``3 * day + part``.
SLOT_COUNT = 21
ALL_SLOTS = (1 << SLOT_COUNT) - 1
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
PARTS_OF_DAY = ("matin", "après-midi", "soir")

#: Effective maximum distance (km) of a person without a car, whatever larger distance they
#: state: in the rural Gers, about one hour by bike or the length of a local bus or TER hop to
#: the nearest market town (see README.md).
NO_CAR_MAX_KM = 15.0

#: Obstacles a mentee may face now, or a tutor may have overcome (code -> French label), in
#: display order. Codes not listed here are accepted too and shown as they are.
OBSTACLES: Mapping[str, str] = MappingProxyType(
    {
        "mobility": "Mobilité",
        "childcare": "Garde d'enfants",
        "health": "Santé",
        "housing": "Logement",
        "digital_access": "Accès au numérique",
        "french_language": "Langue française",
        "self_confidence": "Confiance en soi",
        "rights_access": "Accès aux droits",
    }
)

#: French labels of the levels at which two ROME codes can agree, best first.
ROME_LEVEL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "occupation": "Même métier",
        "domain": "Même domaine professionnel",
        "broad_domain": "Même grand domaine",
    }
)

#: A tutor follows 1 to 3 people; `Tutor.capacity` is the places left (0 when full).
MAX_CAPACITY = 3

# A ROME code: grand domaine letter (A..N), optionally the 2 digits of the domaine
# professionnel, optionally the 2 digits of the fiche métier (K, K13 or K1302).
ROME_CODE = re.compile(r"[A-N](?:[0-9]{2}(?:[0-9]{2})?)?")


def slot_label(bit: int) -> str:
    """French label of one weekly slot.

    Parameters
    ----------
    bit : int
        Slot index ``3 * day + part`` in ``range(SLOT_COUNT)``; day 0 is lundi, part 0 matin,
        1 après-midi, 2 soir.

    Returns
    -------
    str
        For instance ``"mardi soir"`` for bit 5.
    """
    if isinstance(bit, bool) or not isinstance(bit, numbers.Integral):
        raise MatchingInputError(f"Un créneau est un nombre entier, pas {bit!r}.")
    if not 0 <= int(bit) < SLOT_COUNT:
        raise MatchingInputError(f"Un créneau est un nombre de 0 à {SLOT_COUNT - 1}, pas {bit}.")
    day, part = divmod(int(bit), 3)
    return f"{DAYS[day]} {PARTS_OF_DAY[part]}"


def slots_to_labels(mask: int) -> list[str]:
    """French labels of the slots set in an availability bitmask, in week order.

    Parameters
    ----------
    mask : int
        Availability bitmask (bits ``0 .. SLOT_COUNT - 1``).

    Returns
    -------
    list of str
        ``["mardi soir", "samedi matin"]`` for ``(1 << 5) | (1 << 15)``.
    """
    mask = _check_mask(mask, "availability")
    return [slot_label(bit) for bit in range(SLOT_COUNT) if mask >> bit & 1]


#: French names of the fields, for error messages.
_FIELD_LABELS = {
    "id": "Identifiant",
    "lat": "Latitude",
    "lon": "Longitude",
    "availability": "Disponibilités",
    "max_km": "Distance maximale",
    "has_car": "Voiture",
    "remote_ok": "Rencontres à distance",
    "capacity": "Places libres",
    "last_asked": "Dernière sollicitation",
    "distance": "distance",
    "sector": "métier",
    "experience": "expérience vécue",
}


def _label(name: str) -> str:
    return _FIELD_LABELS.get(name, name)


def _check_mask(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise MatchingInputError(
            f"{_label(name)} : un nombre entier est attendu (masque des créneaux), pas {value!r}."
        )
    value = int(value)
    if value < 0:
        raise MatchingInputError(
            f"{_label(name)} : une valeur positive ou nulle est attendue, pas {value}."
        )
    if value > ALL_SLOTS:
        extra = [bit for bit in range(SLOT_COUNT, value.bit_length()) if value >> bit & 1]
        raise MatchingInputError(
            f"{_label(name)} : des créneaux hors des {SLOT_COUNT} de la semaine (bits {extra}) ; "
            f"les créneaux vont de 0 à {SLOT_COUNT - 1} (3 × jour + moment)."
        )
    return value


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise MatchingInputError(f"{_label(name)} : un nombre est attendu, pas {value!r}.")
    result = float(value)
    if not math.isfinite(result):
        raise MatchingInputError(f"{_label(name)} : un nombre fini est attendu, pas {value!r}.")
    return result


def _check_bool(value: Any, name: str) -> bool:
    # numpy.bool_ is not a bool subclass but is a fine value here.
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise MatchingInputError(
        f"{_label(name)} : oui ou non (True ou False) est attendu, pas {value!r}."
    )


def _check_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise MatchingInputError(f"{_label(name)} : un nombre entier est attendu, pas {value!r}.")
    return int(value)


def _check_sectors(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise MatchingInputError(
            f"Les métiers sont une liste de codes ROME comme ('K1302',), pas {value!r}."
        )
    codes = tuple(value)
    for code in codes:
        if not isinstance(code, str) or not ROME_CODE.fullmatch(code):
            raise MatchingInputError(
                f"Code ROME mal formé : {code!r}. Un code ROME est une lettre de A à N (grand "
                "domaine), suivie ou non de 2 chiffres (domaine professionnel) puis de 2 autres "
                "(métier), par exemple « K1302 »."
            )
    return codes


def _check_obstacles(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise MatchingInputError(
            f"Les difficultés sont un ensemble de codes comme {{'mobility'}}, pas {value!r}."
        )
    codes = frozenset(value)
    for code in codes:
        if not isinstance(code, str) or not code.strip():
            raise MatchingInputError(f"Un code de difficulté est un texte non vide, pas {code!r}.")
    return codes


def _validate_person(person: Mentee | Tutor) -> None:
    """Check and normalise the fields shared by mentees and tutors (in place, frozen or not)."""
    put = object.__setattr__
    put(person, "id", _check_int(person.id, "id"))
    lat = _check_real(person.lat, "lat")
    if not -90.0 <= lat <= 90.0:
        raise MatchingInputError(f"La latitude va de -90 à 90 degrés, pas {lat}.")
    lon = _check_real(person.lon, "lon")
    if not -180.0 <= lon <= 180.0:
        raise MatchingInputError(f"La longitude va de -180 à 180 degrés, pas {lon}.")
    put(person, "lat", lat)
    put(person, "lon", lon)
    put(person, "sectors", _check_sectors(person.sectors))
    put(person, "availability", _check_mask(person.availability, "availability"))
    max_km = _check_real(person.max_km, "max_km")
    if max_km < 0:
        raise MatchingInputError(f"La distance maximale est positive ou nulle, pas {max_km} km.")
    put(person, "max_km", max_km)
    put(person, "has_car", _check_bool(person.has_car, "has_car"))
    put(person, "remote_ok", _check_bool(person.remote_ok, "remote_ok"))
    put(person, "obstacles", _check_obstacles(person.obstacles))


@dataclass(frozen=True, slots=True)
class Mentee:
    """A person looking for a tutor (bénéficiaire), as plain values.

    Parameters
    ----------
    id : int
        Stable identifier (the application's user id).
    lat, lon : float
        WGS84 degrees of the centroid of the person's commune.
    sectors : tuple of str
        Target ROME codes, best as métiers (``"K1302"``); a domaine (``"K13"``) or grand
        domaine (``"K"``) is accepted when the person has no precise métier in mind.
    availability : int
        Bitmask of the weekly slots (bit ``3 * day + part``).
    max_km : float
        The longest distance the person accepts to travel, in km.
    has_car : bool
        Without a car the effective limit is ``min(max_km, NO_CAR_MAX_KM)``.
    remote_ok : bool
        Accepts meetings at a distance (phone, video) and asynchronous contact.
    obstacles : frozenset of str
        Obstacles the person faces now and chose to declare (codes of ``OBSTACLES`` or others).
    """

    id: int
    lat: float
    lon: float
    sectors: tuple[str, ...]
    availability: int
    max_km: float
    has_car: bool
    remote_ok: bool
    obstacles: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _validate_person(self)

    @property
    def effective_max_km(self) -> float:
        """The distance limit that counts: lower without a car."""
        return self.max_km if self.has_car else min(self.max_km, NO_CAR_MAX_KM)


@dataclass(frozen=True, slots=True)
class Tutor:
    """A tutor (tuteur or tutrice), as plain values.

    Same fields as :class:`Mentee` (``sectors`` holds the tutor's current métier, or several
    métiers they know), plus:

    Parameters
    ----------
    obstacles : frozenset of str
        Obstacles the tutor overcame and chose to declare.
    capacity : int
        Remaining places (0 means the tutor cannot be proposed now).
    last_asked : float or None
        POSIX timestamp of the last time the tutor was proposed; ``None`` means never. Among
        equal scores, tutors asked least recently come first.
    """

    id: int
    lat: float
    lon: float
    sectors: tuple[str, ...]
    availability: int
    max_km: float
    has_car: bool
    remote_ok: bool
    obstacles: frozenset[str] = field(default_factory=frozenset)
    capacity: int = 1
    last_asked: float | None = None

    def __post_init__(self) -> None:
        _validate_person(self)
        capacity = _check_int(self.capacity, "capacity")
        if capacity < 0:
            raise MatchingInputError(
                f"Places libres d'un tuteur : de 0 à {MAX_CAPACITY}, pas {capacity} (un tuteur "
                "accompagne 1 à 3 personnes)."
            )
        if capacity > MAX_CAPACITY:
            raise MatchingInputError(
                f"Places libres d'un tuteur : au plus {MAX_CAPACITY}, pas {capacity} (un tuteur "
                "accompagne 1 à 3 personnes)."
            )
        object.__setattr__(self, "capacity", capacity)
        if self.last_asked is not None:
            object.__setattr__(self, "last_asked", _check_real(self.last_asked, "last_asked"))

    @property
    def effective_max_km(self) -> float:
        """The distance limit that counts: lower without a car."""
        return self.max_km if self.has_car else min(self.max_km, NO_CAR_MAX_KM)


@dataclass(frozen=True, slots=True)
class Weights:
    """Weight of each part of the score; the score is the weighted mean of the parts.

    Weights are relative: only their ratios matter. The defaults add up to 1 so that each reads
    as a share (see README.md for why these values).

    Parameters
    ----------
    distance : float
        How comfortably the distance fits both people's limits.
    sector : float
        Shared ROME métier, domaine professionnel or grand domaine.
    availability : float
        Share of common weekly slots.
    experience : float
        Share of the mentee's current obstacles that the tutor overcame.
    """

    distance: float = 0.30
    sector: float = 0.35
    availability: float = 0.15
    experience: float = 0.20

    PARTS: ClassVar[tuple[str, ...]] = ("distance", "sector", "availability", "experience")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise MatchingInputError(
                    f"Poids « {_label(f.name)} » : un nombre est attendu, pas {value!r}."
                )
            value = float(value)
            if not math.isfinite(value):
                raise MatchingInputError(
                    f"Poids « {_label(f.name)} » : un nombre fini est attendu, pas {value!r}."
                )
            if value < 0:
                raise MatchingInputError(
                    f"Poids « {_label(f.name)} » : entre 0 et 1, pas {value} (négatif)."
                )
            if value > 1:
                raise MatchingInputError(f"Poids « {_label(f.name)} » : entre 0 et 1, pas {value}.")
            object.__setattr__(self, f.name, value)
        if self.total <= 0:
            raise MatchingInputError(
                "Tous les poids sont nuls : au moins un poids doit être positif."
            )

    @property
    def total(self) -> float:
        """Sum of the weights, in the order the score uses."""
        return (self.distance + self.sector) + (self.availability + self.experience)

    def to_dict(self) -> dict[str, float]:
        """The weights as a JSON-ready dict ``{part: weight}``."""
        return {name: float(getattr(self, name)) for name in self.PARTS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Weights:
        """Build weights from a mapping such as the one :meth:`to_dict` returns.

        Missing parts take their default; an unknown part is an error.
        """
        if not isinstance(data, Mapping):
            raise MatchingInputError(f"Les poids sont donnés critère par critère, pas {data!r}.")
        unknown = sorted(set(data) - set(cls.PARTS))
        if unknown:
            raise MatchingInputError(
                f"Poids inconnu(s) : {unknown} ; les critères sont {list(cls.PARTS)}."
            )
        return cls(**{name: data[name] for name in cls.PARTS if name in data})
