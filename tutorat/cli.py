"""Flask commands: load-reference-data, seed-demo, create-user, send-mail."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from tutorat.extensions import db
from tutorat.models import Commune, Role, RomeAppellation, RomeMetier
from tutorat.services.reference import load_reference_data


def _progressbar(rows: list, label: str):
    return click.progressbar(rows, label=label.ljust(28), show_pos=True)


def register(app: Flask) -> None:
    @app.cli.command("load-reference-data")
    def load_reference_data_command():
        """Charger les communes du Gers et le répertoire ROME (sans doublon si relancé)."""
        report = load_reference_data(progress=_progressbar)
        for name, (inserted, updated) in report.items():
            click.echo(f"{name} : {inserted} ajouté(s), {updated} mis à jour")
        counts = {
            "communes": db.session.scalar(select(func.count()).select_from(Commune)),
            "métiers": db.session.scalar(select(func.count()).select_from(RomeMetier)),
            "appellations": db.session.scalar(select(func.count()).select_from(RomeAppellation)),
        }
        click.echo("En base : " + ", ".join(f"{v} {k}" for k, v in counts.items()))

    @app.cli.command("seed-demo")
    @click.option("--seed", default=32, help="Graine du générateur aléatoire.")
    @click.option(
        "--scale",
        type=click.Choice(["demo", "gers"]),
        default="demo",
        show_default=True,
        help="gers : compléter jusqu'à 10 000 bénéficiaires, 3 000 tuteurs, 60 référents, "
        "8 000 binômes et 40 000 rencontres (mesures de performance).",
    )
    def seed_demo_command(seed: int, scale: str):
        """Créer la population de démonstration (une seule fois) et afficher les comptes."""
        from tutorat.demo import DEMO_PASSWORD, seed_demo

        created = seed_demo(seed=seed)
        click.echo(
            "Population de démonstration créée."
            if created
            else "Démonstration déjà présente : rien à faire."
        )
        if scale != "demo":
            from tutorat.demo.scale import SCALES, seed_scale, totals

            report = seed_scale(SCALES[scale], seed=seed)
            if report is None:
                click.echo("Population à l'échelle déjà présente : rien à faire.")
            else:
                click.echo(
                    f"Population à l'échelle créée en {report.pop('secondes')} s : "
                    + ", ".join(f"{v} {k}" for k, v in report.items())
                    + " ajoutés."
                )
            click.echo("En base : " + ", ".join(f"{v} {k}" for k, v in totals().items()))
        click.echo(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for email, role in (
            ("admin@example.org", "administration"),
            ("referent@example.org", "référent"),
            ("tuteur@example.org", "tuteur"),
            ("beneficiaire@example.org", "bénéficiaire"),
        ):
            click.echo(f"  {role:<14} {email}")

    @app.cli.command("create-user")
    @click.option("--role", type=click.Choice(["admin", "referent", "tutor"]), required=True)
    @click.option("--email", required=True)
    @click.option("--first-name", required=True)
    @click.option("--last-name", required=True)
    @click.password_option()
    def create_user_command(role, email, first_name, last_name, password):
        """Créer un compte (administration, référent ou tuteur)."""
        from tutorat.services import accounts
        from tutorat.services.errors import DomainError

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

    @app.cli.command("send-mail")
    @click.option(
        "--loop", is_flag=True, help="Tourner en continu (un worker à lancer à côté de gunicorn)."
    )
    @click.option(
        "--interval", default=10.0, show_default=True, help="Secondes entre deux passages (--loop)."
    )
    @click.option(
        "--max-passes", default=0, help="Arrêter après N passages (0 = jamais ; pour les tests)."
    )
    def send_mail_command(loop: bool, interval: float, max_passes: int):
        """Envoyer les courriels en attente (un passage, ou en continu avec --loop)."""
        import time

        from tutorat.services.notifications import send_pending

        passes = 0
        while True:
            try:
                sent, failed = send_pending()
            except Exception as exc:
                db.session.rollback()
                click.echo(f"Passage interrompu : {type(exc).__name__} ; nouvel essai.", err=True)
                sent = failed = 0
            passes += 1
            if sent or failed or not loop:
                click.echo(
                    f"{sent} courriel(s) envoyé(s), {failed} en échec (nouvel essai plus tard)."
                )
            if not loop or (max_passes and passes >= max_passes):
                break
            time.sleep(interval)

    @app.cli.command("purge")
    def purge_command():
        """Anonymiser les personnes sans contact depuis 2 ans (réglable), supprimer les vieux courriels
        et le vieux journal ; pour cron, relançable."""
        from tutorat.services.privacy import purge

        report = purge()
        days = app.config["RETENTION_DAYS"]
        click.echo(
            f"{report['anonymisées']} personne(s) sans contact depuis {days} jours anonymisée(s) ; "
            f"{report['journal']} ligne(s) du journal des accès supprimée(s) ; "
            f"{report['messages']} courriel(s) de plus de {app.config['OUTBOX_RETENTION_DAYS']} "
            "jours supprimé(s)."
        )

    @app.cli.command("run-reminders")
    def run_reminders_command():
        """Relances (3 et 7 jours) et expiration (10 jours) des propositions sans réponse ; pour cron."""
        from tutorat.services.followup import run_reminders

        report = run_reminders()
        click.echo(
            f"{report['rappels']} proposition(s) relancée(s), {report['expirées']} expirée(s)."
        )

    @app.cli.command("send-digest")
    def send_digest_command():
        """Résumé hebdomadaire à chaque référent (une fois par semaine au plus) ; pour cron."""
        from tutorat.services.followup import send_digests

        click.echo(f"{send_digests()} résumé(s) préparé(s) ; « flask send-mail » les envoie.")


__all__ = ["register"]
