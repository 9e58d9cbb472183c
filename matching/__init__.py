"""Tutorat matching: explainable scores, the best tutors for one mentee, exact batch assignment.

Pure computation on plain values: no web framework, no database, no file or network access.
"""

from .assignment import (
    SCORE_UNIT,
    Assignment,
    Certificate,
    assign,
    assign_sparse,
    check_min_score,
    tie_order,
)
from .batch import BatchResult, Round, assign_all, assign_batch
from .candidates import CandidateGraph, TutorIndex, candidate_graph, top_candidates
from .diagnosis import (
    HOLD_REASONS,
    LEFT_OUT_REASONS,
    REASON_BITS,
    Group,
    Partition,
    Roster,
    Suggestion,
    diagnose,
    partition,
)
from .errors import MatchingInputError
from .geo import EARTH_RADIUS_KM, haversine_km
from .scoring import (
    PART_LABELS,
    SECTOR_LEVEL_VALUES,
    Explanation,
    PartDetail,
    explain,
    reason_part,
    rome_level,
    score_matrix,
)
from .types import (
    NO_CAR_MAX_KM,
    OBSTACLES,
    ROME_LEVEL_LABELS,
    SLOT_COUNT,
    Mentee,
    Tutor,
    Weights,
    slot_label,
    slots_to_labels,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "HOLD_REASONS",
    "LEFT_OUT_REASONS",
    "NO_CAR_MAX_KM",
    "OBSTACLES",
    "PART_LABELS",
    "REASON_BITS",
    "ROME_LEVEL_LABELS",
    "SCORE_UNIT",
    "SECTOR_LEVEL_VALUES",
    "SLOT_COUNT",
    "Assignment",
    "BatchResult",
    "CandidateGraph",
    "Certificate",
    "Explanation",
    "Group",
    "MatchingInputError",
    "Mentee",
    "PartDetail",
    "Partition",
    "Roster",
    "Round",
    "Suggestion",
    "Tutor",
    "TutorIndex",
    "Weights",
    "assign",
    "assign_all",
    "assign_batch",
    "assign_sparse",
    "candidate_graph",
    "check_min_score",
    "diagnose",
    "explain",
    "haversine_km",
    "partition",
    "reason_part",
    "rome_level",
    "score_matrix",
    "slot_label",
    "slots_to_labels",
    "tie_order",
    "top_candidates",
]
