# Indexes for the staff dashboard's aggregations (videos/metrics.py, videos/dashboard.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0002_pipeline"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="videojob",
            index=models.Index(fields=["created_at", "status"], name="videojob_created_status"),
        ),
        migrations.AddIndex(
            model_name="videojob",
            index=models.Index(fields=["status", "created_at"], name="videojob_status_created"),
        ),
        migrations.AddIndex(
            model_name="generationattempt",
            index=models.Index(
                fields=["started_at", "status", "provider", "seconds", "qa_score", "cost", "job"],
                name="attempt_period_figures",
            ),
        ),
        migrations.AddIndex(
            model_name="generationattempt",
            index=models.Index(
                fields=["status", "provider", "seconds", "started_at"],
                name="attempt_provider_seconds",
            ),
        ),
        migrations.AddIndex(
            model_name="generationattempt",
            index=models.Index(fields=["status", "seconds", "started_at"], name="attempt_seconds"),
        ),
    ]
