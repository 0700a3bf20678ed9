"""Sign in, sign out, and the profile: language, time zone, password, API tokens."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core.errors import DomainError

from . import actions
from .forms import PasswordForm, ProfileForm, TokenForm
from .models import ApiToken


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def profile(request):
    user = request.user
    profile_form = ProfileForm(instance=user)
    password_form = PasswordForm()
    token_form = TokenForm()
    new_token = None
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "profile":
                profile_form = ProfileForm(request.POST, instance=user)
                if profile_form.is_valid():
                    actions.do_update_user(
                        user,
                        user,
                        **{k: profile_form.cleaned_data[k] for k in profile_form.Meta.fields},
                    )
                    translation.activate(user.language)  # say it in the language just chosen
                    messages.success(request, _("Profile saved."))
                    return redirect("accounts:profile")
            elif which == "password":
                password_form = PasswordForm(request.POST)
                if password_form.is_valid():
                    actions.do_change_password(user, **password_form.cleaned_data)
                    update_session_auth_hash(request, user)
                    messages.success(request, _("Password changed."))
                    return redirect("accounts:profile")
            elif which == "token":
                token_form = TokenForm(request.POST)
                if token_form.is_valid():
                    _token, new_token = actions.do_create_token(
                        user, user, name=token_form.cleaned_data["name"]
                    )
                    token_form = TokenForm()
        except DomainError as exc:
            form = {"profile": profile_form, "password": password_form}.get(which, token_form)
            exc.add_to_form(form)
    tokens = ApiToken.objects.filter(user=user, workspace_id=user.workspace_id)
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_form": profile_form,
            "password_form": password_form,
            "token_form": token_form,
            "new_token": new_token,
            "tokens": tokens,
        },
    )


@login_required
@require_POST
def revoke_token(request, token_id: int):
    try:
        token = ApiToken.objects.get(id=token_id, user=request.user)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    actions.do_revoke_token(request.user, token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:profile")
