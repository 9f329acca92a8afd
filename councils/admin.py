from django.contrib import admin

from .models import StaffMembership


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "title")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
