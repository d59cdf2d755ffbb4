import json
import os
import urllib.request

import pytest

from tests.billing.stripe_helpers import PRICES, WEBHOOK_SECRET
from tests.fakes.stripe_server import IDENTITY_PATH, FakeStripe


@pytest.fixture
def fake_stripe(settings):
    """The fake Stripe API on a free loopback port, with the settings that switch payments on."""
    fake = FakeStripe().start()
    try:
        with urllib.request.urlopen(fake.url + IDENTITY_PATH, timeout=5) as reply:
            identity = json.load(reply)
        # Whatever answers on that port must be the server this test just started.
        assert identity == {"pid": os.getpid(), "token": fake.token}
        settings.STRIPE_SECRET_KEY = "sk_test_reelforge"
        settings.STRIPE_PUBLISHABLE_KEY = "pk_test_reelforge"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = fake.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.STRIPE_PRICE_IDS = dict(PRICES)
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def payments_off(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_PRICE_IDS = {}
