"""Admin for the secretariat: units, groups, rounds, criteria sets and memberships.

Units and unit groups use django-import-export so the secretariat can import and export them
from the admin as well as with ``import_units``.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ForeignKeyWidget

from .models import (
    CriteriaSet,
    Criterion,
    Event,
    Round,
    StaffMembership,
    Unit,
    UnitGroup,
    UnitMembership,
)


class UnitResource(resources.ModelResource):
    group = fields.Field(
        attribute="group", column_name="group", widget=ForeignKeyWidget(UnitGroup, "code")
    )

    class Meta:
        model = Unit
        import_id_fields = ("code",)
        fields = ("code", "name", "group", "has_admin_procedures", "is_active")
        skip_unchanged = True
        report_skipped = False


@admin.register(UnitGroup)
class UnitGroupAdmin(ImportExportModelAdmin):
    list_display = ("code", "name", "position")
    search_fields = ("code", "name")


@admin.register(Unit)
class UnitAdmin(ImportExportModelAdmin):
    resource_classes = [UnitResource]
    list_display = ("code", "name", "group", "has_admin_procedures", "is_active")
    list_filter = ("group", "has_admin_procedures", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("group",)


class NoDeleteMixin:
    """Rounds and criteria sets carry history: they are never deleted from the admin."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Round)
class RoundAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("year", "opens_at", "self_assessment_deadline", "appraisal1_deadline")
    fieldsets = (
        (None, {"fields": ("year",)}),
        (
            _("Calendar"),
            {
                "fields": (
                    "opens_at",
                    "self_assessment_deadline",
                    "appraisal1_deadline",
                    "explanation_deadline",
                    "appraisal2_deadline",
                )
            },
        ),
        (
            _("Classification bands"),
            {"fields": ("band_good_min", "band_fair_min", "band_average_min")},
        ),
    )


class CriterionInline(admin.TabularInline):
    model = Criterion
    fields = (
        "code",
        "title",
        "max_points",
        "method",
        "params",
        "allows_na",
        "evidence_required",
        "position",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ("position",)

    def has_add_permission(self, request, obj=None):
        # Criteria change only through the validated import (the tree must stay consistent).
        return False


@admin.register(CriteriaSet)
class CriteriaSetAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("round", "group", "updated_at")
    list_filter = ("round", "group")
    list_select_related = ("round", "group")
    inlines = [CriterionInline]
    readonly_fields = ("round", "group")


@admin.register(UnitMembership)
class UnitMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "unit", "role")
    list_filter = ("role", "unit__group")
    search_fields = ("user__username", "user__first_name", "unit__code", "unit__name")
    list_select_related = ("user", "unit")
    autocomplete_fields = ("user", "unit")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor", "round", "unit")
    list_filter = ("action",)
    list_select_related = ("actor", "round", "unit")

    # Append-only history: readable, never edited.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "title")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
