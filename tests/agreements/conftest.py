"""License and contract pages are tested as the inventory's are: each request in its own
app context and session."""

from tests.api.conftest import token_for  # noqa: F401  (a fixture the API tests use)
from tests.inventory.conftest import app, it  # noqa: F401  (the inventory's fixtures)
