"""The consumer-page fixtures serve here too: a QR code needs a batch with a public code."""

from tests.public.conftest import journey, make_journey  # noqa: F401 - pytest fixtures
