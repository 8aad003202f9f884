from functools import partial

from django.contrib import admin
from django.urls import URLPattern, path

from library.admin_knowledge_base import knowledge_base_export_view, knowledge_base_import_view
from library.models import (
    Assessment,
    Certification,
    Concept,
    Domain,
    DomainScore,
    FormMapping,
    Notification,
    Playlist,
    PlaylistItem,
    PracticeQuestion,
    WatchProgress,
)
from videos.admin import assessments_series_plan


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ("position", "slug", "name", "weight")
    show_change_link = True


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "issuer", "passing_score", "domain_count", "updated_at")
    search_fields = ("name", "slug", "issuer")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [DomainInline]

    @admin.display(description="domains")
    def domain_count(self, obj: Certification) -> int:
        return obj.domains.count()

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "import/",
                wrap(partial(knowledge_base_import_view, model_admin=self)),
                name="library_certification_import",
            ),
            path(
                "<int:pk>/export.<str:fmt>",
                wrap(partial(knowledge_base_export_view, model_admin=self)),
                name="library_certification_export",
            ),
            *super().get_urls(),
        ]


class ConceptInline(admin.StackedInline):
    model = Concept
    extra = 0
    fields = ("position", "slug", "title", "summary", "content", "examples", "analogies")


class PracticeQuestionInline(admin.StackedInline):
    model = PracticeQuestion
    extra = 0
    fields = (
        "position",
        "question",
        "choices",
        "answer_index",
        "explanation",
        "difficulty",
        "key_concepts",
    )
    filter_horizontal = ("key_concepts",)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("name", "certification", "weight", "position")
    list_filter = ("certification",)
    search_fields = ("name", "slug", "description")
    list_select_related = ("certification",)
    inlines = [ConceptInline, PracticeQuestionInline]


@admin.register(Concept)
class ConceptAdmin(admin.ModelAdmin):
    list_display = ("title", "domain", "slug")
    list_filter = ("domain__certification", "domain")
    search_fields = ("title", "summary", "content")
    list_select_related = ("domain",)


@admin.register(PracticeQuestion)
class PracticeQuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "domain", "difficulty")
    list_filter = ("difficulty", "domain__certification", "domain")
    search_fields = ("question", "explanation")
    filter_horizontal = ("key_concepts",)
    list_select_related = ("domain",)


class DomainScoreInline(admin.TabularInline):
    model = DomainScore
    extra = 0


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ("learner", "certification", "overall_score", "source", "taken_at")
    list_filter = ("source", "certification", "taken_at")
    search_fields = ("learner__username", "learner__email", "external_id")
    date_hierarchy = "taken_at"
    list_select_related = ("learner", "certification")
    raw_id_fields = ("learner",)
    inlines = [DomainScoreInline]
    actions = (assessments_series_plan,)


@admin.register(DomainScore)
class DomainScoreAdmin(admin.ModelAdmin):
    list_display = ("assessment", "domain", "score")
    list_filter = ("domain__certification",)
    search_fields = ("assessment__learner__username", "domain__name")
    list_select_related = ("assessment__learner", "assessment__certification", "domain")


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    extra = 0
    raw_id_fields = ("video",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("title", "learner", "kind", "certification", "updated_at")
    list_filter = ("kind",)
    search_fields = ("title", "learner__username")
    raw_id_fields = ("learner",)
    inlines = [PlaylistItemInline]


@admin.register(PlaylistItem)
class PlaylistItemAdmin(admin.ModelAdmin):
    list_display = ("playlist", "position", "video")
    search_fields = ("playlist__title", "video__title")
    raw_id_fields = ("playlist", "video")


@admin.register(WatchProgress)
class WatchProgressAdmin(admin.ModelAdmin):
    list_display = ("learner", "video", "position_seconds", "seconds_watched", "completed")
    list_filter = ("completed",)
    search_fields = ("learner__username", "video__title")
    raw_id_fields = ("learner", "video")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "learner", "kind", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "body", "learner__username")
    raw_id_fields = ("learner",)


@admin.register(FormMapping)
class FormMappingAdmin(admin.ModelAdmin):
    """How `manage.py import_form_responses FORM_ID --certification SLUG` scores a form."""

    list_display = (
        "form_id",
        "certification",
        "plan_series",
        "create_learners",
        "last_imported_at",
    )
    list_filter = ("certification",)
    search_fields = ("form_id",)
    readonly_fields = ("last_imported_at",)
