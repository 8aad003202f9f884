from django.apps import AppConfig


class PresgenConfig(AppConfig):
    name = "presgen"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The API's admin pages (tokens) live beside the API code.
        from presgen.api import token_admin  # noqa: F401
