"""`voronka token create USERNAME` / `list` / `revoke ID`: API tokens from the command line."""

from django.core.management.base import BaseCommand, CommandError

from voronka.accounts.actions import do_create_token
from voronka.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="Issue a token; it is printed once.")
        create.add_argument("username")
        create.add_argument("--name", default="command line")
        lst = sub.add_parser("list", help="List a user's tokens.")
        lst.add_argument("username")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id.")
        revoke.add_argument("id", type=int)

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user «{username}».") from None

    def handle(self, *args, verb, **o):
        if verb == "create":
            user = self._user(o["username"])
            if not user.is_active:
                raise CommandError(f"«{user.username}» is switched off.")
            _token, raw = do_create_token(None, user, name=o["name"])
            self.stdout.write(raw)
        elif verb == "list":
            for t in ApiToken.objects.filter(user=self._user(o["username"])):
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.id}\t{t.hint}…\t{t.name}\t{state}\t{t.last_used_at or '-'}")
        else:
            token = ApiToken.objects.filter(id=o["id"]).first()
            if token is None:
                raise CommandError(f"No token with id {o['id']}.")
            if token.revoked_at is None:
                token.revoke()
            self.stdout.write(f"revoked {token.id}")
