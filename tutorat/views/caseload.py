"""Importing beneficiaries from a CSV file (référents for their caseload, the admin for anyone):
upload, preview, import, report of the rejected rows."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tutorat.extensions import db
from tutorat.forms import ActionForm, ImportForm
from tutorat.models import AccessAction, BeneficiaryImport, ImportRowStatus, Role, User
from tutorat.permissions import guard_blueprint
from tutorat.services import audit, imports
from tutorat.views._helpers import handle_post, success

bp = Blueprint("caseload", __name__, url_prefix="/import-beneficiaires")
guard_blueprint(bp, Role.REFERENT, Role.ADMIN)

PREVIEW_ROWS = 100
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "exemple-import.csv"
STATUS_FILTERS = {
    "": None,
    "a-creer": ImportRowStatus.CREATE,
    "deja-suivis": ImportRowStatus.EXISTS,
    "erreurs": ImportRowStatus.ERROR,
}


def _referents() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.REFERENT, User.active.is_(True))
            .order_by(User.last_name, User.first_name)
        )
    )


@bp.route("/", methods=["GET", "POST"])
def upload():
    form = ImportForm()
    is_admin = current_user.role == Role.ADMIN
    referents = _referents() if is_admin else []
    form.referent_choices(referents)

    def action():
        referent = None
        if is_admin and form.referent.data:
            referent = next(r for r in referents if str(r.id) == form.referent.data)
        data = form.file.data
        content = data.read(imports.MAX_BYTES + 1)
        return imports.upload(content, data.filename or "", actor=current_user, referent=referent)

    return handle_post(
        form,
        action,
        on_success=lambda item: success(
            "Le fichier est lu. Vérifiez l'aperçu : rien n'est encore importé.",
            url_for("caseload.preview", import_id=item.id),
        ),
        render=lambda status: (
            render_template(
                "caseload/upload.html",
                form=form,
                columns=imports.COLUMNS,
                is_admin=is_admin,
                max_rows=imports.MAX_ROWS,
                recent=imports.recent_imports(current_user),
            ),
            status,
        ),
    )


def _own_import(import_id: int) -> BeneficiaryImport:
    item = db.session.scalars(
        imports.visible_imports(current_user).where(BeneficiaryImport.id == import_id)
    ).first()
    if item is None:
        abort(404)
    return item


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 1000 else 1


@bp.route("/<int:import_id>", methods=["GET", "POST"])
def preview(import_id: int):
    item = _own_import(import_id)
    form = ActionForm()
    which = request.args.get("statut", "")
    status_filter = STATUS_FILTERS.get(which)

    def page(status: int):
        if which not in STATUS_FILTERS:
            abort(404)
        try:
            result = imports.preview(item.content, actor=current_user, referent=item.referent)
        except imports.ImportFileError:
            abort(410)
        # Seeing the rows of a file is seeing people's records: logged as such.
        audit.note(
            AccessAction.VIEW,
            target=f"aperçu de l'import n° {item.id}",
            actor=current_user,
            status=status,
        )
        rows = [r for r in result.rows if status_filter is None or r.status == status_filter]
        number = _page_number()
        pages = max(1, -(-len(rows) // PREVIEW_ROWS))
        number = min(number, pages)
        shown = rows[(number - 1) * PREVIEW_ROWS : number * PREVIEW_ROWS]
        return render_template(
            "caseload/preview.html",
            item=item,
            result=result,
            rows=shown,
            matching=len(rows),
            page=number,
            pages=pages,
            which=which,
            filters=STATUS_FILTERS,
            form=form,
            labels={c.field: c.label for c in imports.COLUMNS},
            is_admin=current_user.role == Role.ADMIN,
        ), status

    def done(outcome: imports.Outcome):
        parts = [
            f"{outcome.created} personne{'s' if outcome.created > 1 else ''} créée"
            + ("s" if outcome.created > 1 else "")
        ]
        if outcome.invited:
            parts.append(
                f"{outcome.invited} invitation{'s' if outcome.invited > 1 else ''} envoyée"
                + ("s" if outcome.invited > 1 else "")
                + " par courriel"
            )
        if outcome.existing:
            parts.append(f"{outcome.existing} déjà suivie{'s' if outcome.existing > 1 else ''}")
        if outcome.rejected:
            parts.append(
                f"{outcome.rejected} ligne{'s' if outcome.rejected > 1 else ''} refusée"
                + ("s" if outcome.rejected > 1 else "")
                + " : téléchargez le rapport pour les corriger"
            )
        return success(
            "Import terminé : " + ", ".join(parts) + ".",
            url_for("caseload.preview", import_id=item.id),
        )

    return handle_post(
        form, lambda: imports.run(item, actor=current_user), on_success=done, render=page
    )


@bp.get("/<int:import_id>/rapport.csv")
def report(import_id: int):
    item = _own_import(import_id)
    try:
        result = imports.preview(item.content, actor=current_user, referent=item.referent)
    except imports.ImportFileError:
        abort(410)
    audit.note(
        AccessAction.EXPORT,
        target=f"rapport de l'import n° {item.id}",
        actor=current_user,
        status=200,
    )
    return Response(
        imports.report_csv(result),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="lignes-refusees-import-{item.id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/exemple.csv")
def sample():
    """The sample file of the README (docs/exemple-import.csv), to start from."""
    return Response(
        SAMPLE.read_bytes(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="exemple-import.csv"'},
    )
