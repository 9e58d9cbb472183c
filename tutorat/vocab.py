"""The lists users choose from, with their French labels (codes are stored, labels are shown)."""

from __future__ import annotations

from matching.types import OBSTACLES as MATCHING_OBSTACLES

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
PARTS = ("matin", "après-midi", "soir")

# matching's codes and labels (the explanation names them), the form saying more on mobility.
OBSTACLES = {**MATCHING_OBSTACLES, "mobility": "Mobilité (pas de moyen de transport)"}

TOPICS = {
    "job_search": "Chercher un emploi",
    "cv": "Faire ou refaire son CV",
    "job_interview": "Préparer un entretien d'embauche",
    "self_confidence": "Reprendre confiance",
    "mobility": "Trouver une solution de transport",
    "childcare": "Trouver une solution de garde d'enfants",
    "rights": "Connaître et faire valoir ses droits",
    "training": "Trouver une formation",
    "discover_occupation": "Découvrir un métier",
}

MEETING_MODES = {
    "in_person": "En personne",
    "phone": "Par téléphone",
    "video": "En visio",
}

DECLINE_REASONS = {
    "unavailable": "Pas disponible en ce moment",
    "too_far": "Trop loin",
    "wrong_occupation": "Ce n'est pas le bon métier",
    "not_ready": "Pas prêt ou prête pour l'instant",
    "other": "Autre raison (à préciser)",
}
# Recorded by the system when a proposal gets no answer in time (never chosen by a person).
EXPIRY_REASON = ("no_answer", "Pas de réponse dans les délais")
END_REASONS = {**DECLINE_REASONS, EXPIRY_REASON[0]: EXPIRY_REASON[1]}

OUTCOMES = {
    "job": "A trouvé un emploi",
    "training": "Est entré en formation",
    "rights": "A ouvert de nouveaux droits",
    "mobility": "A trouvé une solution de mobilité",
    "childcare": "A trouvé une solution de garde d'enfants",
    "left_rsa": "Est sorti du RSA",
    "stopped": "Arrêt sans résultat",
}

CONTRACT_TYPES = {
    "permanent": "CDI",
    "fixed_term": "CDD",
    "temporary": "Intérim",
    "work_study": "Alternance ou apprentissage",
    "integration": "Contrat d'insertion (IAE)",
    "self_employed": "Création d'activité",
    "other": "Autre",
}

RIGHTS = {
    "activity_bonus": "Prime d'activité",
    "health_cover": "Complémentaire santé solidaire",
    "mobility_aid": "Aide à la mobilité",
    "childcare_aid": "Aide à la garde d'enfants",
    "housing_aid": "Aide au logement",
    "other": "Autre droit",
}

# Outcomes after which the demande goes back to the queue for a new proposal. A binôme has one or
# several outcomes (a job and leaving the RSA); "stopped" is alone, with a reason from STOP_REASONS.
FAILED_OUTCOMES = {"stopped"}
STOPPED_OUTCOME = "stopped"
# Outcomes after which the mentee is asked whether she would like, later, to help someone in turn
# (services/loop.py: the loop of the action, people who left the RSA help those on it).
LOOP_OUTCOMES = frozenset({"job", "left_rsa"})

STOP_REASONS = {
    "dropped_out": "Abandon",
    "disagreement": "Désaccord dans le binôme",
    "moved": "Déménagement",
    "health": "Santé",
    "other": "Autre raison (à préciser)",
}

ROME_LEVELS = {
    "occupation": "même métier",
    "domain": "même domaine professionnel",
    "broad_domain": "même grand domaine",
    None: "secteurs différents",
}


def slot_label(bit: int) -> str:
    return f"{DAYS[bit // 3]} {PARTS[bit % 3]}"


def slots_labels(mask: int) -> list[str]:
    return [slot_label(b) for b in range(21) if mask >> b & 1]


def labels(codes: list[str], vocabulary: dict) -> list[str]:
    return [vocabulary.get(c, c) for c in codes]


# Why the mentee or the tutor asks to stop their binôme (the référent reads it, the other does not).
STOP_REQUEST_REASONS = {
    "goal_reached": "L'objectif est atteint",
    "no_time": "Je n'ai plus le temps",
    "not_helpful": "Le tutorat ne m'aide pas",
    "not_comfortable": "Je ne me sens pas à l'aise dans ce binôme",
    "situation_changed": "Ma situation a changé (emploi, déménagement, santé…)",
    "other": "Autre raison",
}

# "Comment se passe le tutorat ?" — the answers of a check-in.
CHECKIN_ANSWERS = {"good": "Bien", "average": "Moyen", "bad": "Pas bien"}

# Goals a mentee may pick (or she writes her own).
GOALS = {
    "cv": "Avoir un CV à jour",
    "job_interview": "Passer un entretien d'embauche",
    "driving_licence": "Passer le permis de conduire",
    "childcare": "Trouver un mode de garde",
    "rights": "Ouvrir mes droits",
    "training": "Entrer en formation",
    "job": "Trouver un emploi",
}
GOAL_STATUSES = {"todo": "Pas commencé", "in_progress": "En cours", "reached": "Atteint"}
