"""The plans and feature gates of the API contract ("Subscription Tiers")."""

from django.db import migrations

TIERS = [
    # slug, name, rank, monthly credits, max resolution (height), max frames, watermark, price
    ("free", "Free", 0, 150, 480, 81, True, 0),
    ("starter", "Starter", 1, 500, 1080, 121, False, None),
    ("creator", "Creator", 2, 1500, 2160, 201, False, None),
    ("pro", "Pro", 3, 5000, 2160, 301, False, None),
    ("studio", "Studio", 4, 15000, 2160, 301, False, None),
    ("enterprise", "Enterprise", 5, 50000, 2160, 999, False, None),
]

GATES = [
    ("stock_media", "Stock media", "creator"),
    ("tts", "Text to speech", "creator"),
    ("hosting", "Hosted pages", "pro"),
    ("orgs", "Organisations", "pro"),
    ("brand_kits", "Brand kits", "pro"),
    ("subtitle_translation", "Subtitle translation", "pro"),
    ("upscale", "Video upscale", "creator"),
    ("face_swap", "Face swap", "pro"),
]


def seed(apps, schema_editor):
    Tier = apps.get_model("billing", "Tier")
    FeatureGate = apps.get_model("billing", "FeatureGate")
    tiers = {}
    for slug, name, rank, credits, res, frames, watermark, price in TIERS:
        tiers[slug], _ = Tier.objects.update_or_create(slug=slug, defaults={
            "name": name, "rank": rank, "monthly_credits": credits, "max_resolution": res,
            "max_frames": frames, "watermark": watermark, "price_monthly_pence": price,
        })
    for code, name, min_tier in GATES:
        FeatureGate.objects.update_or_create(code=code, defaults={
            "name": name, "min_tier": tiers[min_tier]})


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
