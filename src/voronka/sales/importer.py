"""Importing deals from a CSV or XLSX file: read, map the columns, create every row or none.

Each row becomes a deal through ``do_create_deal``, so the stage gate, the loss reasons and the
custom-field rules hold exactly as on the board or over the API. The import is all or nothing:
every row is tried (each in a savepoint, so one bad row does not hide the problems of the next),
and if any row fails the whole import is rolled back and the report lists each problem by row
number, field and message. The file's SHA-256 is the idempotency key: the same file imports once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.access import assignable_users, may_write
from voronka.clients.access import visible_companies, visible_contacts
from voronka.core import custom_fields as cf
from voronka.core.errors import DomainError, Invalid, NotAllowed
from voronka.core.models import CustomField

from . import gates
from .actions import do_create_deal
from .models import DealImport, Pipeline, Stage

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
PREVIEW_ROWS = 10
#: A report longer than this stops listing: the file needs fixing as a whole.
MAX_ERRORS = 500
#: Uploads never imported are forgotten after this long.
UPLOAD_KEPT = timedelta(days=1)

TITLE = "title"
STAGE = "stage"
OWNER = "owner"
COMPANY = "company"
CONTACT = "contact"
PRODUCT = "product"
CURRENCY = "currency"
LOSS_REASON = "loss_reason"

#: Headers people write for each target (compared case-insensitively, «ё» as «е»).
ALIASES = {
    TITLE: ["title", "deal", "name", "название", "сделка", "наименование", "название сделки"],
    STAGE: ["stage", "этап", "стадия", "этап сделки"],
    OWNER: ["owner", "manager", "ответственный", "менеджер", "владелец"],
    COMPANY: ["company", "client", "компания", "клиент", "организация", "контрагент"],
    CONTACT: ["contact", "contact email", "email", "e-mail", "контакт", "почта", "email контакта"],
    PRODUCT: ["product", "product line", "продукт", "товар", "услуга", "продуктовая линейка"],
    "amount": ["amount", "sum", "budget", "сумма", "бюджет", "сумма сделки"],
    CURRENCY: ["currency", "валюта"],
    "source": ["source", "источник"],
    "expected_close": ["expected close", "close date", "ожидаемое закрытие", "дата закрытия"],
    "invoice_no": ["invoice", "invoice no", "invoice number", "счет", "номер счета"],
    "invoice_amount": ["invoice amount", "сумма счета"],
    LOSS_REASON: ["loss reason", "причина", "причина проигрыша", "причина отказа"],
}


# -- Reading the file ----------------------------------------------------------------------------


@dataclass
class Table:
    """A file's header row and the rows under it (cells as the file holds them)."""

    headers: list[str]
    rows: list[list[object]]

    def preview(self) -> list[list[str]]:
        width = len(self.headers)
        return [
            [cell_text(c) for c in (row + [None] * width)[:width]]
            for row in self.rows[:PREVIEW_ROWS]
        ]


def bad_file(message: str) -> Invalid:
    return Invalid(message, {"file": message}, code="bad_file")


def read_table(content: bytes, file_name: str) -> Table:
    """The table in a CSV or XLSX file; ``Invalid`` naming ``file`` when it cannot be read."""
    if len(content) > MAX_BYTES:
        raise bad_file(_("The file is larger than %(size)s MB.") % {"size": MAX_BYTES // 2**20})
    name = (file_name or "").lower()
    if name.endswith(".xlsx") or content[:2] == b"PK":
        rows = _xlsx_rows(content)
    elif name.endswith(".xls"):
        raise bad_file(_("Save the spreadsheet as .xlsx or .csv: the old .xls format is not read."))
    else:
        rows = _csv_rows(content)
    rows = [r for r in rows if any(cell_text(c) for c in r)]
    if not rows:
        raise bad_file(_("The file holds no rows."))
    headers = [cell_text(c) for c in rows[0]]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise bad_file(_("The first row must name the columns."))
    data = [list(r[: len(headers)]) for r in rows[1:]]
    if not data:
        raise bad_file(_("The file has a header row but no deals under it."))
    if len(data) > MAX_ROWS:
        raise bad_file(
            _("The file has %(count)s rows; import at most %(max)s at a time.")
            % {"count": len(data), "max": MAX_ROWS}
        )
    return Table(headers, data)


def _csv_rows(content: bytes) -> list[list[object]]:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1251 decodes nearly anything
        raise bad_file(_("The file is not text in UTF-8 or Windows-1251."))
    if "\x00" in text:
        raise bad_file(_("The file is not a CSV table."))
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error:
        raise bad_file(_("The file is not a CSV table.")) from None


def _xlsx_rows(content: bytes) -> list[list[object]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise bad_file(_("The file is not an XLSX spreadsheet.")) from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 2:
                break
        return rows
    finally:
        book.close()


def cell_text(value) -> str:
    """A cell as text: whole numbers without «.0», dates as YYYY-MM-DD, blanks trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


# -- What the columns mean -----------------------------------------------------------------------


def targets(workspace_id: int) -> list[tuple[str, str]]:
    """(name, label) of what a column may fill, in the order the mapping offers them."""
    from .models import Deal

    def label(name):
        text = str(Deal._meta.get_field(name).verbose_name)
        return text[:1].upper() + text[1:]

    out = [(TITLE, label("title")), (STAGE, label("stage")), (OWNER, label("owner"))]
    out += [(COMPANY, label("company")), (CONTACT, _("Contact (email)"))]
    out.append((PRODUCT, label("product")))
    for name in ("amount", CURRENCY, "source", "expected_close", "invoice_no", "invoice_amount"):
        out.append((name, label(name)))
    out.append((LOSS_REASON, label("loss_reason")))
    for f in cf.fields_for(workspace_id, CustomField.Entity.DEAL):
        if f.type != CustomField.Type.FILE:
            out.append((cf.CUSTOM_PREFIX + f.key, f.label))
    return out


def _fold(text: str) -> str:
    return " ".join(str(text or "").replace("ё", "е").replace("Ё", "Е").casefold().split())


def guess_mapping(headers: Sequence[str], workspace_id: int) -> list[str]:
    """For each column, the target its header names, or "" (each target taken once)."""
    known: dict[str, str] = {}
    for name, label in targets(workspace_id):
        known.setdefault(_fold(label), name)
        if name.startswith(cf.CUSTOM_PREFIX):
            known.setdefault(_fold(name.removeprefix(cf.CUSTOM_PREFIX)), name)
            known.setdefault(_fold(name), name)
        known.setdefault(_fold(name), name)
        for alias in ALIASES.get(name, ()):
            known.setdefault(_fold(alias), name)
    taken: set[str] = set()
    out = []
    for header in headers:
        name = known.get(_fold(header), "")
        if name in taken:
            name = ""
        taken.add(name)
        out.append(name)
    return out


def check_mapping(mapping: Sequence[str], workspace_id: int) -> None:
    """The title must come from a column, and no target from two."""
    allowed = {name for name, _label in targets(workspace_id)}
    chosen = [m for m in mapping if m]
    if any(m not in allowed for m in chosen):
        message = _("Choose what each column holds from the list.")
        raise Invalid(message, {"mapping": message})
    if TITLE not in chosen:
        message = _("Choose the column that holds the deal's title.")
        raise Invalid(message, {"mapping": message})
    doubled = sorted({m for m in chosen if chosen.count(m) > 1})
    if doubled:
        labels = dict(targets(workspace_id))
        message = _("Each field comes from one column; twice: %(fields)s.") % {
            "fields": ", ".join(f"«{labels[m]}»" for m in doubled)
        }
        raise Invalid(message, {"mapping": message})


# -- Uploading and importing ---------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Set when the file was imported before: nothing was done this time.
    already: DealImport | None = None
    truncated: bool = False


def _check_importer(actor) -> None:
    if not may_write(actor) or not assignable_users(actor).exists():
        raise NotAllowed(_("Your role may not import deals."))


@transaction.atomic
def do_upload_deal_file(actor, *, file_name: str, content: bytes) -> DealImport:
    """Keep an uploaded file until it is imported; the same file again returns the same upload.

    The file is read once here, so a file that cannot be read is refused at once.
    """
    _check_importer(actor)
    read_table(content, file_name)
    digest = hashlib.sha256(content).hexdigest()
    DealImport.objects.filter(
        workspace_id=actor.workspace_id,
        imported_at__isnull=True,
        created_at__lt=timezone.now() - UPLOAD_KEPT,
    ).delete()
    existing = DealImport.objects.filter(workspace_id=actor.workspace_id, sha256=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return DealImport.objects.create(
                workspace_id=actor.workspace_id,
                sha256=digest,
                file_name=(file_name or "deals")[:255],
                content=content,
                uploaded_by=actor,
            )
    except IntegrityError:  # the same file, uploaded at the same moment in another tab
        return DealImport.objects.get(workspace_id=actor.workspace_id, sha256=digest)


def do_import_deals(
    actor, upload: DealImport, *, pipeline: Pipeline, mapping: Sequence[str]
) -> ImportResult:
    """Create a deal from every row of the upload, or none: see the module's docstring."""
    _check_importer(actor)
    if upload.workspace_id != actor.workspace_id or pipeline.workspace_id != actor.workspace_id:
        raise Invalid(_("Not found."), {"file": _("Not found.")})
    check_mapping(mapping, actor.workspace_id)
    with transaction.atomic():
        locked = DealImport.objects.select_for_update().get(pk=upload.pk)
        if locked.imported_at is not None:
            return ImportResult(already=locked)
        table = read_table(bytes(locked.content), locked.file_name)
        result = _import_rows(actor, table, pipeline, list(mapping))
        if result.errors:
            transaction.set_rollback(True)
            result.created = 0
            return result
        locked.imported_at = timezone.now()
        locked.deal_count = result.created
        locked.content = b""
        locked.save(update_fields=["imported_at", "deal_count", "content", "updated_at"])
        return result


class _Rows:
    """What the rows name, looked up once per import: stages, people, companies, contacts."""

    def __init__(self, actor, pipeline: Pipeline):
        self.actor = actor
        self.pipeline = pipeline
        self.stages = {
            _fold(s.name): s for s in Stage.objects.filter(pipeline=pipeline, is_archived=False)
        }
        self.people = {}
        for u in assignable_users(actor):
            for key in (u.username, u.email, u.get_full_name(), f"{u.last_name} {u.first_name}"):
                if _fold(key):
                    self.people.setdefault(_fold(key), u)
        self.companies: dict[str, object] = {}
        self.contacts: dict[str, object] = {}
        from .models import Product

        #: The products offered (archived ones are not), by their folded name.
        self.products = {
            _fold(p.name): p
            for p in Product.objects.filter(workspace_id=actor.workspace_id, is_archived=False)
        }
        self.currency = actor.workspace.currency or "RUB"
        self.multi = {
            f.key
            for f in cf.fields_for(actor.workspace_id, CustomField.Entity.DEAL)
            if f.type == CustomField.Type.MULTI_CHOICE
        }

    def stage(self, text: str):
        if not text:
            return None
        found = self.stages.get(_fold(text))
        if found is None:
            raise ValueError(
                _("«%(pipeline)s» has no stage «%(stage)s».")
                % {"pipeline": self.pipeline.name, "stage": text}
            )
        return found

    def product(self, text: str):
        """The product of this name among those offered; a product is never made up here."""
        if not text:
            return None
        found = self.products.get(_fold(text))
        if found is None:
            raise ValueError(
                _("No product «%(name)s» on the list: the head adds it in the settings.")
                % {"name": text}
            )
        return found

    def owner(self, text: str):
        if not text:
            return None
        found = self.people.get(_fold(text))
        if found is None:
            raise ValueError(
                _("No one you may give deals to is called «%(name)s».") % {"name": text}
            )
        return found

    def company(self, text: str, owner, created: dict):
        """The visible company of this name, or a new one (kept once the row is imported)."""
        if not text:
            return None
        key = _fold(text)
        if key in self.companies:
            return self.companies[key]
        if key in created:
            return created[key]
        visible = visible_companies(self.actor)
        found = visible.filter(name=text).order_by("id").first()
        if found is None:
            found = next(
                (c for c in visible.filter(name__icontains=text[:40]) if _fold(c.name) == key),
                None,
            )
        if found is None:
            from voronka.clients.actions import do_create_company

            found = do_create_company(self.actor, name=text, owner=owner or self.actor)
            created[key] = found
            return found
        self.companies[key] = found
        return found

    def contact(self, text: str):
        if not text:
            return None
        key = text.strip().lower()
        if key not in self.contacts:
            found = visible_contacts(self.actor).filter(email__iexact=key).order_by("id").first()
            if found is None:
                raise ValueError(
                    _("No contact of yours has the email «%(email)s».") % {"email": text}
                )
            self.contacts[key] = found
        return self.contacts[key]


def _import_rows(actor, table: Table, pipeline: Pipeline, mapping: list[str]) -> ImportResult:
    result = ImportResult()
    lookup = _Rows(actor, pipeline)
    labels = dict(targets(actor.workspace_id))
    column_of = {name: table.headers[i] for i, name in enumerate(mapping) if name}

    def where(name: str) -> str:
        # The report names the file's own column when there is one.
        if name in column_of:
            return column_of[name]
        api_name = name.removesuffix("_id")
        return labels.get(api_name, labels.get(name, name))

    for index, row in enumerate(table.rows, start=2):
        cells = {name: row[i] if i < len(row) else None for i, name in enumerate(mapping) if name}
        if not any(cell_text(v) for v in cells.values()):
            continue
        created_companies: dict = {}
        problems: dict[str, str] = {}
        try:
            with transaction.atomic():
                values = _row_values(lookup, cells, created_companies, problems)
                if problems:
                    raise Invalid(_("Check the fields."), problems)
                do_create_deal(actor, pipeline=pipeline, **values)
        except DomainError as exc:
            fields = exc.fields or {"": exc.message}
            for name, message in fields.items():
                result.errors.append(RowError(index, where(name) if name else "", str(message)))
        else:
            lookup.companies.update(created_companies)
            result.created += 1
        if len(result.errors) >= MAX_ERRORS:
            result.truncated = True
            break
    return result


def _row_values(lookup: _Rows, cells: dict, created_companies: dict, problems: dict) -> dict:
    """The arguments of ``do_create_deal`` for one row; problems are collected, not raised."""
    text = {name: cell_text(value) for name, value in cells.items()}
    values: dict[str, object] = {"title": text.get(TITLE, "")}
    if not values["title"]:
        problems[TITLE] = _("Give the deal a title.")
    elif len(values["title"]) > 255:
        problems[TITLE] = _("At most %(count)s characters.") % {"count": 255}
    finders = (
        (STAGE, lookup.stage),
        (OWNER, lookup.owner),
        (CONTACT, lookup.contact),
        (PRODUCT, lookup.product),
    )
    for name, finder in finders:
        try:
            found = finder(text.get(name, ""))
        except ValueError as exc:
            problems[name] = str(exc)
        else:
            if found is not None:
                values[name] = found
    currency = text.get(CURRENCY, "").upper() or lookup.currency
    if len(currency) != 3 or not currency.isalpha():
        problems[CURRENCY] = _("A currency is three letters, e.g. RUB.")
    values[CURRENCY] = currency
    builtin = {
        name: cells[name]
        for name in ("amount", "source", "expected_close", "invoice_no", "invoice_amount")
        if name in cells
    }
    try:
        given = gates.clean_given_values(lookup.actor.workspace_id, builtin)
    except Invalid as exc:
        problems.update(exc.fields)
    else:
        values.update(given.attrs)
    if LOSS_REASON in text:
        reason = text[LOSS_REASON]
        if len(reason) > 255:
            problems[LOSS_REASON] = _("At most %(count)s characters.") % {"count": 255}
        values[LOSS_REASON] = reason
    custom = {}
    for name, value in cells.items():
        if name.startswith(cf.CUSTOM_PREFIX):
            key = name.removeprefix(cf.CUSTOM_PREFIX)
            custom[key] = _custom_cell(value, several=key in lookup.multi)
    if custom:
        values["custom"] = custom
    if COMPANY in text and not problems:
        values[COMPANY] = lookup.company(text[COMPANY], values.get(OWNER), created_companies)
    return values


def _custom_cell(value, *, several: bool):
    """A cell as the custom-field cleaning takes it; a multi-choice lists its choices as «a; b»."""
    text = cell_text(value)
    if several:
        return [part.strip() for part in text.split(";") if part.strip()]
    return text
