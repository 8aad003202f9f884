from django.apps import AppConfig


class PresgenConfig(AppConfig):
    name = "presgen"
    verbose_name = "Accounts"
