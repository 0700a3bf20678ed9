from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from voronka.accounts.models import ApiToken, User, hash_token


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_createuser_on_an_empty_database_makes_the_workspace_and_the_person():
    out = run(
        "createuser",
        "marina",
        "--role",
        "head",
        "--password",
        "a-long-passphrase-1",
        "--company",
        "Ромашка",
    )
    marina = User.objects.get(username="marina")
    assert marina.role == "head" and marina.workspace.name == "Ромашка"
    assert marina.check_password("a-long-passphrase-1")
    assert "marina" in out


@pytest.mark.django_db
def test_createuser_refuses_a_weak_password_with_the_reason():
    with pytest.raises(CommandError) as exc:
        run("createuser", "oleg", "--password", "123")
    assert "password" in str(exc.value)
    assert not User.objects.filter(username="oleg").exists()


def test_token_create_prints_a_token_that_is_stored_only_as_a_hash(org):
    raw = run("token", "create", org.manager1.username).strip()
    token = ApiToken.objects.get(user=org.manager1)
    assert token.key_hash == hash_token(raw) and raw not in token.hint
    run("token", "revoke", str(token.id))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_create_for_an_unknown_user_says_so(org):
    with pytest.raises(CommandError, match="nobody"):
        run("token", "create", "nobody")
