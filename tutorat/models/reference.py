"""Reference data: Gers communes and the ROME repertory (loaded by `flask load-reference-data`)."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutorat.extensions import Base


class Commune(Base):
    __tablename__ = "commune"

    code_insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(String(100))
    nom_normalise: Mapped[str] = mapped_column(String(100), index=True)
    codes_postaux: Mapped[str] = mapped_column(String(40))
    population: Mapped[int] = mapped_column(Integer)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    canton_code: Mapped[str] = mapped_column(String(4))
    canton_nom: Mapped[str] = mapped_column(String(100))
    epci_siren: Mapped[str] = mapped_column(String(9))
    epci_nom: Mapped[str] = mapped_column(String(150))
    # Old commune names (merged communes) that should still be found by search.
    anciens_noms: Mapped[str] = mapped_column(String(300), default="")

    @property
    def label(self) -> str:
        return f"{self.nom} ({self.codes_postaux.replace(';', ', ')})"


class RomeGrandDomaine(Base):
    __tablename__ = "rome_grand_domaine"

    code: Mapped[str] = mapped_column(String(1), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class RomeDomaine(Base):
    __tablename__ = "rome_domaine"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    grand_domaine: Mapped[str] = mapped_column(ForeignKey("rome_grand_domaine.code"))


class RomeMetier(Base):
    """A ROME v3 fiche métier (532 codes, still the parent fiches of ROME 4.0)."""

    __tablename__ = "rome_metier"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    label_rome4: Mapped[str] = mapped_column(String(200))
    domaine: Mapped[str] = mapped_column(ForeignKey("rome_domaine.code"))
    grand_domaine: Mapped[str] = mapped_column(ForeignKey("rome_grand_domaine.code"))


class RomeAppellation(Base):
    """A job title (ROME 4.0 appellation) that a person may type, pointing to its métier."""

    __tablename__ = "rome_appellation"

    code_ogr: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(300))
    label_normalise: Mapped[str] = mapped_column(String(300), index=True)
    metier_code: Mapped[str] = mapped_column(ForeignKey("rome_metier.code"), index=True)
    principale: Mapped[bool] = mapped_column(Boolean, default=False)
    peu_usite: Mapped[bool] = mapped_column(Boolean, default=False)
