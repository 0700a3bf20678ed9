"""The deals import page: upload a file, check the columns on a preview, import all or nothing.

parse → access → action → render: the work is in ``sales.importer``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.accounts.access import assignable_users, may_write
from voronka.core.errors import DomainError
from voronka.core.forms import StyledForm

from . import importer
from .access import visible_pipelines
from .models import DealImport


class UploadForm(StyledForm, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV or XLSX, the first row naming the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class MappingForm(StyledForm, forms.Form):
    """The pipeline the deals go to and what each column of the file holds."""

    pipeline = forms.ModelChoiceField(label=gettext_lazy("Pipeline"), queryset=None)

    def __init__(self, user, headers, *args, initial_mapping=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = visible_pipelines(user)
        self.fields["pipeline"].empty_label = None
        choices = [("", _("— skip —")), *importer.targets(user.workspace_id)]
        self.columns = []
        for i, header in enumerate(headers):
            name = f"col_{i}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(n)s") % {"n": i + 1},
                choices=choices,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
            if i < len(initial_mapping):
                self.fields[name].initial = initial_mapping[i]
            self.columns.append(name)

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(name) or "" for name in self.columns]

    def column_fields(self):
        return [self[name] for name in self.columns]


def _upload_of(user, upload_id) -> DealImport:
    """An upload of the person's own from their workspace, or one imported already (its file
    is gone then, only the fact remains); anything else is not found."""
    try:
        upload = DealImport.objects.select_related("uploaded_by").get(
            workspace_id=user.workspace_id, id=int(upload_id)
        )
    except (DealImport.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None
    if upload.uploaded_by_id != user.id and upload.imported_at is None:
        raise Http404
    return upload


@login_required
def deal_import(request):
    """Step 1 (no ``upload``): choose a file. Step 2: the preview, the mapping, the import."""
    user = request.user
    if not may_write(user) or not assignable_users(user).exists():
        raise Http404
    upload_id = request.GET.get("upload") or request.POST.get("upload")
    if not upload_id:
        return _choose_file(request)
    upload = _upload_of(user, upload_id)
    ctx = {"upload": upload}
    if upload.imported_at is not None:
        return render(request, "sales/import.html", ctx)
    try:
        table = importer.read_table(bytes(upload.content), upload.file_name)
    except DomainError as exc:  # kept files were read on upload; a changed limit may refuse
        messages.error(request, str(exc.message))
        return redirect("sales:deal_import")
    guessed = importer.guess_mapping(table.headers, user.workspace_id)
    form = MappingForm(
        user,
        table.headers,
        request.POST if request.method == "POST" else None,
        initial_mapping=guessed,
        initial={"pipeline": _default_pipeline(request)},
    )
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = importer.do_import_deals(
                    user, upload, pipeline=form.cleaned_data["pipeline"], mapping=form.mapping()
                )
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                if result.already is not None:
                    ctx["upload"] = result.already
                    return render(request, "sales/import.html", ctx)
                if not result.errors:
                    messages.success(
                        request,
                        _("Imported deals: %(count)s.") % {"count": result.created},
                    )
                    return redirect(reverse("sales:deal_list") + "?sort=-created")
        status = 422
    ctx.update(
        {
            "form": form,
            "table": table,
            "preview": table.preview(),
            "row_count": len(table.rows),
            "preview_rows": importer.PREVIEW_ROWS,
            "result": result,
        }
    )
    return render(request, "sales/import.html", ctx, status=status)


def _default_pipeline(request):
    """The pipeline the board shows, else the first one."""
    pipelines = visible_pipelines(request.user)
    remembered = request.session.get("board_pipeline")
    found = pipelines.filter(id=remembered).first() if remembered else None
    return found or pipelines.first()


def _choose_file(request):
    user = request.user
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        if uploaded.size > importer.MAX_BYTES:
            form.add_error(
                "file",
                _("The file is larger than %(size)s MB.") % {"size": importer.MAX_BYTES // 2**20},
            )
        else:
            try:
                upload = importer.do_upload_deal_file(
                    user, file_name=uploaded.name, content=uploaded.read()
                )
            except DomainError as exc:
                exc.add_to_form(form)
            else:
                return redirect(reverse("sales:deal_import") + f"?upload={upload.id}")
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request,
        "sales/import.html",
        {"upload_form": form, "max_rows": importer.MAX_ROWS},
        status=status,
    )
