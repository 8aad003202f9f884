"""manage.py create_api_token USER [--scope learner|staff] [--name NAME]

Prints the new token's key once (only its digest is stored). A staff-scoped token
(a service such as an assessment system, which posts results for any learner)
needs a staff user.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from presgen.api.tokens import ApiTokenError, api_token_create
from presgen.models import ApiTokenScope, User


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="username of the token's user")
        parser.add_argument(
            "--scope",
            choices=ApiTokenScope.values,
            default=ApiTokenScope.LEARNER,
            help="learner (acts only for the user; default) or staff (any learner; staff only)",
        )
        parser.add_argument("--name", default="", help="what will use the token")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["user"]
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.", returncode=2) from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.", returncode=2)
        try:
            token, key = api_token_create(
                user=user,
                name=options["name"] or f"{options['scope']} token for {username}",
                scope=options["scope"],
            )
        except ApiTokenError as error:
            raise CommandError(str(error), returncode=2) from None
        self.stderr.write(
            f"Created {token.get_scope_display().lower()} token {token.name!r} for "
            f"{username}. Copy the key now: it is not stored and will not be shown again."
        )
        self.stdout.write(key)
