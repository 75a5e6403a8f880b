"""HTTP basic auth, compared in constant time (``hmac.compare_digest``).

The expected ``Authorization`` header is made once from ``USER:PASSWORD``; a request's
header is compared with it whole, so the time taken says nothing of how much of it was
right.
"""

from __future__ import annotations

import base64
import hmac

#: The challenge of a 401.
CHALLENGE = 'Basic realm="LogsMonitor2000", charset="UTF-8"'


def basic_authorization(credentials: str | None) -> bytes | None:
    """The ``Authorization`` header that ``USER:PASSWORD`` sends (None: no auth)."""
    if credentials is None:
        return None
    return ("Basic " + base64.b64encode(credentials.encode()).decode()).encode()


def authorized(expected: bytes | None, given: str | None) -> bool:
    """Whether the ``Authorization`` header ``given`` is ``expected``, in constant time
    (its scheme in any case: ``basic`` is ``Basic``, RFC 9110 11.1)."""
    if expected is None:
        return True
    scheme, _, rest = (given or "").strip().partition(" ")
    if scheme.lower() == "basic":
        given = "Basic " + rest.strip()
    return hmac.compare_digest((given or "").encode("latin-1", "replace"), expected)
