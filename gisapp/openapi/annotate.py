"""A view decorator that adds OpenAPI detail (query parameters, body, responses) to its route."""
from __future__ import annotations

from typing import Any, Callable

ATTRIBUTE = "__openapi__"


def query_param(name: str, schema: dict[str, Any], description: str = "",
                required: bool = False) -> dict[str, Any]:
    """One query parameter, as OpenAPI writes it."""
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def documented(parameters: list[dict[str, Any]] | None = None,
               request_body: dict[str, Any] | None = None,
               responses: dict[str, Any] | None = None) -> Callable:
    """Attach OpenAPI detail to a view; /openapi.json merges it into the route's operation.

    `request_body` is a JSON Schema for an application/json body; `responses` maps status
    codes to OpenAPI response objects (the generic 200/4XX are used when omitted).
    """
    def decorate(view: Callable) -> Callable:
        spec: dict[str, Any] = {}
        if parameters:
            spec["parameters"] = parameters
        if request_body is not None:
            spec["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": request_body}}}
        if responses:
            spec["responses"] = responses
        setattr(view, ATTRIBUTE, spec)
        return view
    return decorate


def view_spec(view: Callable) -> dict[str, Any]:
    """The detail a view declared with @documented (a copy), or {}."""
    spec = getattr(view, ATTRIBUTE, None) or getattr(getattr(view, "__wrapped__", None),
                                                     ATTRIBUTE, None) or {}
    return {k: (list(v) if isinstance(v, list) else dict(v)) for k, v in spec.items()}
