"""Network failures said in a few words, for a connector's error message.

A requests or urllib3 error reads as a nested repr several hundred characters long; a user
needs the cause (the name does not resolve, the port refuses, the certificate is not trusted)
and what to check.
"""

from __future__ import annotations

from .credentials import redact

__all__ = ["describe_network_error"]

_CAUSES = (
    ("Failed to resolve", "the host name does not resolve; check the host in the URL and DNS"),
    ("Name or service not known", "the host name does not resolve; check the host in the URL"),
    ("Connection refused", "the connection was refused; check the host and port in the URL"),
    ("CERTIFICATE_VERIFY_FAILED", "the server's TLS certificate is not trusted here"),
    ("timed out", "the connection timed out; check that this machine can reach the server"),
    ("Connection reset", "the server closed the connection (connection reset); try again later"),
    ("connection reset", "the server closed the connection (connection reset); try again later"),
)


def describe_network_error(text: str) -> str:
    """A short cause for a network error's text (secrets blanked out)."""
    for marker, cause in _CAUSES:
        if marker in text:
            return cause
    cleaned = redact(" ".join(text.split()))
    return cleaned if len(cleaned) <= 200 else cleaned[:197] + "..."
