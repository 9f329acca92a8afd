"""The admin permissions granted on StaffMembership and Notification follow them from
councils to assessments (0005): their content types are renamed, so every grant of
``change_staffmembership`` etc. keeps working. A new database has none to rename."""

from django.db import migrations

MODELS = ("staffmembership", "notification")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MODELS:
        old = ContentType.objects.filter(app_label="councils", model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label="assessments", model=model).first()
        if new is None:
            old.app_label = "assessments"
            old.save(update_fields=["app_label"])
            continue
        # Both exist (the new one was created by an earlier run): carry the grants over.
        for permission in Permission.objects.filter(content_type=old):
            target = Permission.objects.filter(
                content_type=new, codename=permission.codename
            ).first()
            if target is not None:
                for user in permission.user_set.all():
                    user.user_permissions.add(target)
                for group in permission.group_set.all():
                    group.permissions.add(target)
        old.delete()


def move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        ContentType.objects.filter(app_label="assessments", model=model).exclude(
            pk__in=ContentType.objects.filter(app_label="councils", model=model).values("pk")
        ).update(app_label="councils")


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0005_people_and_no_assessment_version"),
        ("councils", "0004_people_move_to_assessments"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(move_content_types, move_back)]
