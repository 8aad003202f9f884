# Monitoring's success rate reads the last N finished jobs after every attempt
# (videos/monitoring.py); this index turns a sort of every finished job into a
# short backward walk.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0003_dashboard_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="videojob",
            index=models.Index(fields=["finished_at", "id"], name="videojob_finished"),
        ),
    ]
