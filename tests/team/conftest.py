from tests.conversations.conftest import smtp_server  # noqa: F401 - loopback SMTP fixture
