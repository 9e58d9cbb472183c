"""Operator commands: `flask create-user`, `flask match` (batch matching), `flask import-beneficiaires`."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import with_appcontext

import matching
from tutorat.cli._progress import StageBar
from tutorat.extensions import db
from tutorat.models import ImportRowStatus, Role
from tutorat.services import accounts, batch, imports
from tutorat.services.errors import DomainError


def _fr(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


@click.command("create-user")
@with_appcontext
@click.option(
    "--role",
    type=click.Choice([r.value for r in (Role.ADMIN, Role.REFERENT, Role.TUTOR)]),
    required=True,
)
@click.option("--email", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.password_option()
def create_user_command(role, email, first_name, last_name, password):
    """Créer un compte (administration, référent ou tuteur)."""
    try:
        user = accounts.create_user(
            role=Role(role),
            email=email,
            first_name=first_name,
            last_name=last_name,
            password=password,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Compte créé : {user.email} ({user.role_label})")


@click.command("match")
@with_appcontext
@click.option(
    "--dry-run/--create",
    "dry_run",
    default=True,
    show_default=True,
    help="Montrer les propositions (par défaut) ou les créer (--create).",
)
@click.option(
    "--k",
    "k",
    default=10,
    show_default=True,
    type=int,
    help="Tuteurs gardés par demande dans le graphe (au moins 1).",
)
@click.option(
    "--summary-only", is_flag=True, help="N'afficher que le bilan, pas chaque proposition."
)
@click.option("--yes", is_flag=True, help="Avec --create : ne pas demander de confirmation.")
def match_command(dry_run: bool, k: int, summary_only: bool, yes: bool):
    """Affectation groupée de toutes les demandes ouvertes (simulation par défaut)."""
    if k < 1:
        raise click.ClickException(f"--k : au moins 1 tuteur gardé par demande, pas {k}.")
    started = time.perf_counter()
    bar = StageBar()
    try:
        result = batch.plan(k=k, progress=bar)
    except matching.MatchingInputError as error:
        raise click.ClickException(f"Affectation impossible avec ces données : {error}") from None
    finally:
        bar.close()
    if not summary_only:
        for p in result.proposals:
            click.echo(
                f"demande n° {p.request_id} (bénéficiaire n° {p.mentee_id}, commune {p.mentee_commune}, "
                f"référent n° {p.referent_id}) → tuteur n° {p.tutor_id} (commune {p.tutor_commune}), "
                f"score {_fr(p.score)}"
            )
    elapsed = time.perf_counter() - started
    mean = result.total_score / result.matched if result.matched else 0.0
    click.echo("")
    click.echo(
        "Bilan de l'affectation groupée"
        + (" (simulation : rien n'est enregistré)" if dry_run else "")
    )
    click.echo(
        f"  demandes ouvertes         {result.open_requests} (profil incomplet : {result.incomplete})"
    )
    click.echo(f"  tuteurs disponibles       {result.tutors}, {result.places} places libres")
    click.echo(
        f"  bénéficiaires appariés    {result.matched} ; score total {_fr(result.total_score)}"
        f" (moyenne {_fr(mean)})"
    )
    gain_pairs = result.matched - result.greedy_pairs
    gain_score = result.total_score - result.greedy_score
    click.echo(
        f"  référence gloutonne       {result.greedy_pairs} appariés ; score total "
        f"{_fr(result.greedy_score)} (meilleure paire d'abord)"
    )
    click.echo(
        f"  gain sur la référence     {gain_pairs:+d} appariés ; {'+' if gain_score >= 0 else ''}"
        f"{_fr(gain_score)} de score"
    )
    bound = "—" if result.score_bound is None else _fr(result.score_bound)
    click.echo(
        f"  bornes prouvées           au plus {result.max_pairs} appariés ; score au plus {bound}"
        f" ({result.optimality})"
    )
    timings = ", ".join(f"{name} {_fr(s, 1)} s" for name, s in result.seconds.items())
    click.echo(f"  durée                     {_fr(elapsed, 1)} s ({timings})")
    if dry_run:
        click.echo(
            "Pour créer ces propositions : flask match --create "
            "(le tuteur et le bénéficiaire répondent, le référent confirme chaque binôme)."
        )
        return
    if not result.proposals:
        return
    if not yes:
        click.confirm(
            f"Créer {result.matched} propositions, au nom des référents, et prévenir les tuteurs et "
            "les bénéficiaires ?",
            abort=True,
        )
    with click.progressbar(
        length=len(result.proposals), label="Propositions".ljust(16), show_pos=True
    ) as pbar:
        made, refused = batch.propose_all(result.proposals, on_each=lambda p, e: pbar.update(1))
    click.echo(
        f"{made} proposition(s) créée(s), {refused} refusée(s) (tuteur pris ou demande changée entre-temps)."
    )


@click.command("import-beneficiaires")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--referent",
    "referent_email",
    required=True,
    help="Adresse électronique du référent qui suivra ces personnes.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Vérifier seulement : le bilan et les raisons de chaque refus, rien n'est écrit.",
)
@click.option(
    "--rapport",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Écrire les lignes refusées, avec leur motif, dans ce fichier CSV.",
)
def import_beneficiaries_command(path: Path, referent_email: str, dry_run: bool, report_path):
    """Importer des bénéficiaires depuis un fichier CSV (les mêmes règles que la page d'import)."""
    referent = imports.referent_by_email(referent_email)
    if referent is None or not referent.active:
        raise click.ClickException(f"Aucun référent actif n'a l'adresse « {referent_email} ».")
    content = path.read_bytes()
    bar = StageBar()
    started = time.perf_counter()
    try:
        if dry_run:
            result = imports.preview(content, actor=referent, referent=referent, progress=bar)
        else:
            item = imports.upload(content, path.name, actor=referent, referent=referent)
            outcome, result = imports.run_with_preview(item, actor=referent, progress=bar)
    except DomainError as error:
        bar.close()
        db.session.rollback()
        raise click.ClickException(error.message) from error
    bar.close()
    if not dry_run:
        db.session.commit()
    seconds = time.perf_counter() - started
    counts = result.counts
    click.echo(
        f"{len(result.rows)} ligne(s) lue(s) en {result.table.encoding}, en {_fr(seconds, 1)} s : "
        f"{counts[ImportRowStatus.CREATE]} "
        + ("à créer" if dry_run else "créée(s)")
        + f", {counts[ImportRowStatus.EXISTS]} déjà suivie(s), "
        f"{counts[ImportRowStatus.ERROR]} en erreur."
    )
    if not dry_run:
        click.echo(f"{outcome.invited} invitation(s) envoyée(s) par courriel.")
    else:
        click.echo("Rien n'a été écrit (--dry-run).")
    errors = [r for r in result.rows if r.status == ImportRowStatus.ERROR]
    for row in errors[:20]:
        click.echo(f"  ligne {row.line} : {row.reason}")
    if len(errors) > 20:
        click.echo(f"  … et {len(errors) - 20} autre(s) : voyez le rapport (--rapport).")
    if report_path is not None:
        report_path.write_text(imports.report_csv(result), encoding="utf-8", newline="")
        click.echo(f"Lignes refusées écrites dans {report_path}.")


COMMANDS = [create_user_command, match_command, import_beneficiaries_command]

__all__ = ["COMMANDS"]
