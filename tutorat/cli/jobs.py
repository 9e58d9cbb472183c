"""What cron runs: `flask send-mail`, `flask run-reminders`, `flask send-digest`, `flask purge`."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from tutorat.extensions import db
from tutorat.services import sms, voices
from tutorat.services.followup import remind_tomorrow, run_reminders, send_digests
from tutorat.services.notifications import send_pending
from tutorat.services.privacy import purge


@click.command("send-mail")
@with_appcontext
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
    """Envoyer les courriels et les SMS en attente (un passage, ou en continu avec --loop)."""
    passes = 0
    while True:
        try:
            sent, failed = send_pending()
        except Exception as exc:
            db.session.rollback()
            click.echo(f"Passage interrompu : {type(exc).__name__} ; nouvel essai.", err=True)
            sent = failed = 0
        try:
            sms_sent, sms_failed = sms.send_pending()
        except Exception as exc:
            db.session.rollback()
            click.echo(
                f"Passage des SMS interrompu : {type(exc).__name__} ; nouvel essai.", err=True
            )
            sms_sent = sms_failed = 0
        passes += 1
        if sent or failed or not loop:
            click.echo(f"{sent} courriel(s) envoyé(s), {failed} en échec (nouvel essai plus tard).")
        if sms_sent or sms_failed or not loop:
            click.echo(f"{sms_sent} SMS envoyé(s), {sms_failed} en échec (nouvel essai plus tard).")
        if not loop or (max_passes and passes >= max_passes):
            break
        time.sleep(interval)


@click.command("purge")
@with_appcontext
def purge_command():
    """Anonymiser les personnes sans contact depuis 2 ans (réglable), supprimer les vieux courriels
    et le vieux journal, les candidatures refusées ou retirées anciennes ; pour cron, relançable."""
    report = purge()
    days = current_app.config["RETENTION_DAYS"]
    click.echo(
        f"{report['anonymisées']} personne(s) sans contact depuis {days} jours anonymisée(s) ; "
        f"{report['journal']} ligne(s) du journal des accès supprimée(s) ; "
        f"{report['messages']} courriel(s) de plus de {current_app.config['OUTBOX_RETENTION_DAYS']} "
        "jours supprimé(s) ; "
        f"{report['imports']} fichier(s) d'import de plus de "
        f"{current_app.config['IMPORT_RETENTION_DAYS']} jours supprimé(s) ; "
        f"{report['candidatures']} candidature(s) de tuteur refusée(s) ou retirée(s) depuis plus "
        f"de {current_app.config['APPLICATION_RETENTION_DAYS']} jours supprimée(s)."
    )


@click.command("run-reminders")
@with_appcontext
def run_reminders_command():
    """Relances (3 et 7 jours) et expiration (10 jours) des propositions sans réponse, fin des
    pauses de binômes, rappel la veille d'une rencontre prévue, invitations à devenir tuteur
    (anciens bénéficiaires) ; pour cron."""
    report = run_reminders()
    back = report["listes d'attente"]
    report.update(voices.run_scheduled())
    tomorrow = remind_tomorrow()
    db.session.commit()
    click.echo(
        f"{report['rappels']} proposition(s) relancée(s), {report['expirées']} expirée(s), "
        f"{back} demande(s) sortie(s) de la liste d'attente, "
        f"{report['pauses terminées']} pause(s) terminée(s), "
        f"{report['points']} question(s) « Comment se passe le tutorat ? » posée(s), "
        f"{tomorrow} rencontre(s) du lendemain rappelée(s), "
        f"{report['invitations à devenir tuteur']} ancien(ne)(s) bénéficiaire(s) invité(e)(s) "
        "à devenir tuteur."
    )


@click.command("send-digest")
@with_appcontext
def send_digest_command():
    """Résumé hebdomadaire à chaque référent (une fois par semaine au plus) ; pour cron."""
    click.echo(f"{send_digests()} résumé(s) préparé(s) ; « flask send-mail » les envoie.")


COMMANDS = [send_mail_command, run_reminders_command, send_digest_command, purge_command]

__all__ = ["COMMANDS"]
