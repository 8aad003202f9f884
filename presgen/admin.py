from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from presgen.models import LEARNER_PROFILE_FIELDS, User
from videos.admin import learners_series_plan


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "display_name",
        "email",
        "experience_level",
        "preferred_pace",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_staff", "is_active", "experience_level", "preferred_pace")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    actions = (learners_series_plan,)
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (
            "Learner profile",
            {"fields": LEARNER_PROFILE_FIELDS},
        ),
    )
