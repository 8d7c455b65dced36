"""Apps shared between tests (one per session or module) and the check that a test lent one
left it as it was: creating an app costs about 0.25 s, mostly compiling its URL rules."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


def _filled(value):
    """A nest of dicts without its empty ones (Flask's handler lookups make empty entries)."""
    if not isinstance(value, dict):
        return value
    return {k: _filled(v) for k, v in value.items() if not isinstance(v, dict) or _filled(v)}


def app_state(app) -> tuple:
    """What a test could change of an app: its attributes, JSON provider, config, request
    hooks, routes and extensions (identities, so a replaced object counts as a change)."""
    hooks = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs",
             "url_value_preprocessors", "url_default_functions", "error_handler_spec",
             "template_context_processors")
    return ({k: id(v) for k, v in vars(app).items() if k != "_got_first_request"},
            {k: id(v) for k, v in vars(app.json).items()}, dict(app.config),
            repr([_filled(getattr(app, h)) for h in hooks]),
            [(r.rule, r.endpoint, sorted(r.methods)) for r in app.url_map.iter_rules()],
            {k: id(v) for k, v in app.view_functions.items()},
            {k: id(v) for k, v in app.extensions.items()})


@contextmanager
def shared(app) -> Iterator:
    """Lend an app shared between tests to one test; fails the test if it changed the app
    (config, hooks, routes, extensions, attributes), which the tests after it would see."""
    before = app_state(app)
    yield app
    after = app_state(app)
    # What is made on first use (Flask's jinja_env, the features' extent cache) is new, not
    # changed: of the attributes and extensions, compare those that were there before.
    after = ({k: after[0].get(k) for k in before[0]}, *after[1:6],
             {k: after[6].get(k) for k in before[6]})
    changed = [i for i, (b, a) in enumerate(zip(before, after)) if b != a]
    assert not changed, (f"the test changed a shared app (parts {changed} of app_state); "
                         "a test that must change it builds an app of its own")
