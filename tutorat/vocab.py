"""The lists users choose from, with their French labels (codes are stored, labels are shown)."""

from __future__ import annotations

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
PARTS = ("matin", "après-midi", "soir")

# Same codes as matching.OBSTACLES (a test checks they agree).
OBSTACLES = {
    "mobilite": "Mobilité (pas de moyen de transport)",
    "garde_enfants": "Garde d'enfants",
    "sante": "Santé",
    "logement": "Logement",
    "numerique": "Accès au numérique",
    "langue": "Langue française",
    "confiance": "Confiance en soi",
    "droits": "Accès aux droits",
}

TOPICS = {
    "recherche_emploi": "Chercher un emploi",
    "cv": "Faire ou refaire son CV",
    "entretien": "Préparer un entretien d'embauche",
    "confiance": "Reprendre confiance",
    "mobilite": "Trouver une solution de transport",
    "garde_enfants": "Trouver une solution de garde d'enfants",
    "droits": "Connaître et faire valoir ses droits",
    "formation": "Trouver une formation",
    "metier": "Découvrir un métier",
}

MEETING_MODES = {
    "presentiel": "En personne",
    "telephone": "Par téléphone",
    "video": "En visio",
}

DECLINE_REASONS = {
    "indisponible": "Pas disponible en ce moment",
    "trop_loin": "Trop loin",
    "metier": "Ce n'est pas le bon métier",
    "pas_pret": "Pas prêt ou prête pour l'instant",
    "autre": "Autre raison (à préciser)",
}
# Recorded by the system when a proposal gets no answer in time (never chosen by a person).
EXPIRY_REASON = ("sans_reponse", "Pas de réponse dans les délais")
END_REASONS = {**DECLINE_REASONS, EXPIRY_REASON[0]: EXPIRY_REASON[1]}

OUTCOMES = {
    "emploi": "A trouvé un emploi",
    "formation": "Est entré en formation",
    "droits": "A ouvert de nouveaux droits",
    "mobilite": "A trouvé une solution de mobilité",
    "garde": "A trouvé une solution de garde d'enfants",
    "sortie_rsa": "Est sorti du RSA",
    "arret": "Arrêt sans résultat",
}

CONTRACT_TYPES = {
    "cdi": "CDI",
    "cdd": "CDD",
    "interim": "Intérim",
    "alternance": "Alternance ou apprentissage",
    "iae": "Contrat d'insertion (IAE)",
    "independant": "Création d'activité",
    "autre": "Autre",
}

RIGHTS = {
    "prime_activite": "Prime d'activité",
    "css": "Complémentaire santé solidaire",
    "aide_mobilite": "Aide à la mobilité",
    "aide_garde": "Aide à la garde d'enfants",
    "logement": "Aide au logement",
    "autre": "Autre droit",
}

# Outcomes after which the demande goes back to the queue for a new proposal.
FAILED_OUTCOMES = {"arret"}

ROME_LEVELS = {
    "metier": "même métier",
    "domaine": "même domaine professionnel",
    "grand_domaine": "même grand domaine",
    None: "secteurs différents",
}


def slot_label(bit: int) -> str:
    return f"{DAYS[bit // 3]} {PARTS[bit % 3]}"


def slots_labels(mask: int) -> list[str]:
    return [slot_label(b) for b in range(21) if mask >> b & 1]


def labels(codes: list[str], vocabulary: dict) -> list[str]:
    return [vocabulary.get(c, c) for c in codes]
