"""Forgiving search over short names (communes, job titles): exact and prefix rules, character n-grams, a prior.

People type as they speak: "st clar", "lisle jourdain", "caissiere", "boulanjer", "ausiliaire de vie". A name is
folded (no accents, no case, French abbreviations spelled out, elisions and small words dropped, a plural ``s``
removed), then scored by three things added together:

* rules: the folded query equals a name (+1), a name starts with it (+0.5), every typed word starts a word of the
  name (+0.3);
* resemblance: cosine similarity of TF-IDF vectors over character n-grams taken inside word boundaries
  (scikit-learn ``TfidfVectorizer(analyzer="char_wb")``), which forgives one or two typos and missing letters;
* a prior in [0, 1] (a commune's population, a principal job title) weighing 0.1, which only orders near-ties.

An entry may have several names (old names, masculine and feminine forms); its score is its best name's.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = [
    "SearchEntry",
    "SearchHit",
    "SearchIndex",
    "commune_index",
    "fold",
    "gendered_forms",
    "title_index",
]

ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "stes": "saintes",
}
# Elisions and small words people leave out or add: "agent entretien" = "agent d'entretien".
SMALL_WORDS = frozenset(
    {
        "l",
        "d",
        "j",
        "n",
        "m",
        "qu",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "en",
        "et",
        "a",
        "au",
        "aux",
    }
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'"})

EXACT_BONUS = 1.0
PREFIX_BONUS = 0.5
WORDS_BONUS = 0.3
PRIOR_WEIGHT = 0.1
MIN_RESEMBLANCE = 0.35  # below this, a name that no rule matched is not shown
CANDIDATES = 64  # names kept from the resemblance ranking before the rules are applied
PREFIX_CANDIDATES = 200  # names kept from each prefix look-up
NGRAMS = (3, 3)  # 2–4 finds 1 more title in 167 and costs twice the build time (bench-search)


def _stem(word: str) -> str:
    # Plural "s" (and "x" after "eau": "bureaux") removed on both sides, so "menages" finds "ménage".
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    if len(word) > 4 and word.endswith("eaux"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", (text or "").translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return [w for w in _NON_WORD.split(text) if w]


def fold(text: str) -> str:
    """The searchable form of a name or a query: ``"Ste-Christie-d'Armagnac"`` → ``"sainte christie armagnac"``.

    Parameters
    ----------
    text : str
        Anything typed; any script or length (non-Latin letters are dropped).

    Returns
    -------
    str
        Words separated by single spaces; empty when nothing searchable is left.
    """
    words = [ABBREVIATIONS.get(w, w) for w in _words(text)]
    kept = [_stem(w) for w in words if w not in SMALL_WORDS]
    return " ".join(kept or [_stem(w) for w in words])


def _joined(text: str) -> str:
    """The name with its elisions glued as people often type them: "L'Isle-Jourdain" → "lisle jourdain"."""
    words = _words(text)
    out: list[str] = []
    glue = ""
    for w in words:
        if w in {"l", "d"}:
            glue = w
            continue
        out.append(glue + w)
        glue = ""
    joined = " ".join(_stem(ABBREVIATIONS.get(w, w)) for w in out if w not in SMALL_WORDS)
    return joined


def gendered_forms(label: str) -> list[str]:
    """The masculine and feminine titles in a ROME label.

    ``"Ouvrier maraîcher / Ouvrière maraîchère"`` → both halves; ``"Chef / Cheffe de rang"`` →
    ``["Chef de rang", "Cheffe de rang"]``. A label without `` / `` is returned alone.
    """
    if " / " not in label:
        return [label]
    left, right = label.split(" / ", 1)
    n = len(left.split())
    right_words = right.split()
    tail = " ".join(right_words[n:])
    masculine = f"{left} {tail}".strip()
    return [masculine, right]


@dataclass(frozen=True)
class SearchEntry:
    """One thing to find: its key, the names it is known by, and a prior in [0, 1]."""

    key: str
    names: tuple[str, ...]
    prior: float = 0.0


@dataclass(frozen=True)
class SearchHit:
    """A found entry: its key, its score, and whether a name equals the folded query."""

    key: str
    score: float
    exact: bool


class SearchIndex:
    """An index over entries, built once (a fraction of a second for 13,000 job titles), queried in a millisecond.

    Parameters
    ----------
    entries : sequence of SearchEntry
        Keys must be unique; names may repeat across entries.
    ngram_range : tuple of int
        Character n-gram sizes for the resemblance (inside word boundaries).
    elisions : bool
        Also index each name with its elisions glued ("lisle jourdain"), as people type place names.
    """

    def __init__(
        self,
        entries: Sequence[SearchEntry],
        ngram_range: tuple[int, int] = NGRAMS,
        elisions: bool = True,
    ):
        keys = [e.key for e in entries]
        if len(set(keys)) != len(keys):
            raise ValueError("search entries must have unique keys")
        self.keys = keys
        self.priors = np.array([min(max(e.prior, 0.0), 1.0) for e in entries], dtype=np.float64)
        names: list[str] = []
        owner: list[int] = []
        seen: set[tuple[str, int]] = set()
        for i, entry in enumerate(entries):
            for name in entry.names:
                variants = (fold(name), _joined(name)) if elisions else (fold(name),)
                for variant in variants:
                    if variant and (variant, i) not in seen:
                        seen.add((variant, i))
                        names.append(variant)
                        owner.append(i)
        self.names = names
        self.owner = np.array(owner, dtype=np.int64)
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True, dtype=np.float32
        )
        self.matrix = self.vectorizer.fit_transform(names).tocsc() if names else None
        # The query is vectorised here rather than by `transform`, whose input checks cost more than the search.
        self._analyze = self.vectorizer.build_analyzer()
        self._vocabulary: dict[str, int] = dict(self.vectorizer.vocabulary_) if names else {}
        self._idf = self.vectorizer.idf_.astype(np.float64) if names else np.zeros(0)
        self._unseen_idf = math.log(len(names) + 1) + 1.0  # smooth idf of a term in no document
        # Sorted names and sorted words, for the prefix rules by bisection.
        self._sorted_names = sorted((n, j) for j, n in enumerate(names))
        self._sorted_name_keys = [n for n, _ in self._sorted_names]
        words = sorted({(w, j) for j, n in enumerate(names) for w in n.split()})
        self._sorted_words = words
        self._sorted_word_keys = [w for w, _ in words]
        self._exact: dict[str, list[int]] = {}
        for j, n in enumerate(names):
            self._exact.setdefault(n, []).append(j)

    def __len__(self) -> int:
        return len(self.keys)

    def _prefixed(self, keys: list[str], pairs: list[tuple[str, int]], prefix: str) -> list[int]:
        start = bisect.bisect_left(keys, prefix)
        out: list[int] = []
        for name, j in pairs[start : start + PREFIX_CANDIDATES]:
            if not name.startswith(prefix):
                break
            out.append(j)
        return out

    def _resemblance(self, q: str) -> np.ndarray | None:
        """Cosine similarity of the query's n-gram vector with every name (None when no n-gram is known)."""
        counts: dict[str, int] = {}
        for gram in self._analyze(q):
            counts[gram] = counts.get(gram, 0) + 1
        known = [(self._vocabulary[g], n) for g, n in counts.items() if g in self._vocabulary]
        if not known or self.matrix is None:
            return None
        # An n-gram no name has still counts in the query's length (with the idf of a term in no document), so
        # "qqqqzzzz" does not resemble "jazz" through its one known n-gram.
        unknown = [n for g, n in counts.items() if g not in self._vocabulary]
        unknown_weight = sum(((1.0 + math.log(n)) * self._unseen_idf) ** 2 for n in unknown)
        cols = np.array([c for c, _ in known], dtype=np.int64)
        tf = np.array([n for _, n in known], dtype=np.float64)
        weights = (1.0 + np.log(tf)) * self._idf[cols]
        weights /= math.sqrt(float(weights @ weights) + unknown_weight)
        sims = np.zeros(self.matrix.shape[0], dtype=np.float64)
        indptr, indices, data = self.matrix.indptr, self.matrix.indices, self.matrix.data
        for col, weight in zip(cols.tolist(), weights.tolist(), strict=True):
            start, end = indptr[col], indptr[col + 1]
            sims[indices[start:end]] += weight * data[start:end]
        return sims

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best entries for what was typed, best first (at most `limit`, none when nothing resembles).

        Parameters
        ----------
        query : str
            What the person typed; any length or script.
        limit : int
            How many entries at most.

        Returns
        -------
        list of SearchHit
            Distinct keys, by decreasing score, ties by prior then key.
        """
        q = fold(query[:200])
        if not q or limit < 1 or self.matrix is None:
            return []
        q_words = q.split()
        candidates: set[int] = set(self._exact.get(q, ()))
        candidates.update(self._prefixed(self._sorted_name_keys, self._sorted_names, q))
        candidates.update(self._prefixed(self._sorted_word_keys, self._sorted_words, q_words[0]))
        sims = self._resemblance(q)
        if sims is not None:
            top = min(CANDIDATES, len(sims))
            best = np.argpartition(-sims, top - 1)[:top]
            candidates.update(int(j) for j in best if sims[j] > 0)
        scores: dict[int, tuple[float, bool]] = {}
        for j in candidates:
            name = self.names[j]
            resemblance = float(sims[j]) if sims is not None else 0.0
            exact = name == q
            bonus = 0.0
            if exact:
                bonus += EXACT_BONUS
            if name.startswith(q):
                bonus += PREFIX_BONUS
            name_words = name.split()
            if all(any(w.startswith(qw) for w in name_words) for qw in q_words):
                bonus += WORDS_BONUS
            if bonus == 0.0 and resemblance < MIN_RESEMBLANCE:
                continue
            i = int(self.owner[j])
            score = resemblance + bonus + PRIOR_WEIGHT * float(self.priors[i])
            previous = scores.get(i)
            if previous is None or score > previous[0]:
                scores[i] = (score, exact or (previous[1] if previous else False))
            elif exact:
                scores[i] = (previous[0], True)
        ranked = sorted(
            scores.items(),
            key=lambda item: (-item[1][0], -self.priors[item[0]], self.keys[item[0]]),
        )
        return [SearchHit(self.keys[i], round(s, 6), exact) for i, (s, exact) in ranked[:limit]]


def commune_index(communes: Iterable[tuple[str, str, int, Sequence[str]]]) -> SearchIndex:
    """The index of communes: (INSEE code, name, population, old or delegated names).

    The prior is the population on a log scale (Auch 1, a hamlet near 0): among equally close names, the town most
    people live in comes first.
    """
    rows = list(communes)
    top = math.log1p(max((max(pop, 0) for _, _, pop, _ in rows), default=1)) or 1.0
    return SearchIndex(
        [
            SearchEntry(code, (name, *old), math.log1p(max(pop, 0)) / top)
            for code, name, pop, old in rows
        ],
        ngram_range=NGRAMS,
    )


def title_index(titles: Iterable[tuple[str, str, bool, bool]]) -> SearchIndex:
    """The index of job titles: (key, ROME label, principal title, rarely used).

    Each label is known by its masculine and feminine forms. The prior prefers a principal title (0.6) and a title
    in use (0.4), so "caissier" puts "Caissier / Caissière" before "Caissier / Caissière de bureau de change".
    """
    return SearchIndex(
        [
            SearchEntry(key, tuple(gendered_forms(label)), 0.6 * principal + 0.4 * (not rare))
            for key, label, principal, rare in titles
        ],
        ngram_range=NGRAMS,
        elisions=False,
    )
