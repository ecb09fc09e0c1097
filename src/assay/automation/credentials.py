"""A model's credentials (its `api_key`, the values of its `headers`) are write-only.

Whoever may read a project's settings may not thereby hold the key to a paid model
endpoint, so every response shows them masked: the first and last three characters
around an ellipsis (`sk-…123`), enough to tell keys apart, and nothing at all of a
secret too short to spare them. A spec sent back with the masked values, or without
them, keeps the stored ones, but only while it still points at the same endpoint:
otherwise changing the URL would send the stored key to a server of the sender's
choosing.
"""

from typing import Any

from assay.errors import FieldError, Invalid

MASK = "…"
SHOWN = 3
"""Characters shown at each end of a masked secret."""
MIN_SHOWN_LENGTH = 12
"""Secrets shorter than this are shown as the bare ellipsis."""
DESTINATION = ("type", "url", "base_url")
"""The spec fields that decide where the credentials are sent."""


def mask(secret: str) -> str:
    if len(secret) < MIN_SHOWN_LENGTH:
        return MASK
    return f"{secret[:SHOWN]}{MASK}{secret[-SHOWN:]}"


def masked_model(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as responses show it: its credentials masked."""
    shown = dict(spec)
    if isinstance(shown.get("api_key"), str):
        shown["api_key"] = mask(shown["api_key"])
    if isinstance(shown.get("headers"), dict):
        shown["headers"] = {
            name: mask(value) if isinstance(value, str) else value
            for name, value in shown["headers"].items()
        }
    return shown


def masked_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A project's automation settings as responses show them."""
    return settings | {"model": masked_model(settings["model"])}


def kept_credentials(sent: Any, stored: dict[str, Any], path: str) -> Any:
    """The spec `sent` in a request, with each stored credential it leaves out or sends
    back masked put back. Invalid (fields under `path`) where it sends a masked value
    back for another endpoint; one left out for another endpoint is dropped."""
    if not isinstance(sent, dict):
        return sent
    same_endpoint = all(sent.get(field) == stored.get(field) for field in DESTINATION)
    out = dict(sent)
    errors: list[FieldError] = []

    def keep(given: Any, secret: Any, where: str) -> Any:
        if not isinstance(secret, str) or given != mask(secret):
            return given
        if not same_endpoint:
            message = "the stored secret goes only to the endpoint it was given for: send it again"
            errors.append(FieldError(where, message))
        return secret

    stored_key, stored_headers = stored.get("api_key"), stored.get("headers")
    if "api_key" in sent:
        out["api_key"] = keep(sent["api_key"], stored_key, f"{path}.api_key")
    elif same_endpoint and stored_key is not None:
        out["api_key"] = stored_key
    if isinstance(sent.get("headers"), dict) and isinstance(stored_headers, dict):
        out["headers"] = {
            name: keep(value, stored_headers.get(name), f"{path}.headers.{name}")
            for name, value in sent["headers"].items()
        }
    elif "headers" not in sent and same_endpoint and stored_headers:
        out["headers"] = stored_headers
    if errors:
        raise Invalid(errors)
    return out
