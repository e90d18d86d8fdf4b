"""Issue 27: a reader chooses their handle on /account. 3-30 of [a-z0-9_-] (typed upper
case is folded), unique, not a reserved word; an error comes back beside the field with
the text kept; the new /users/<handle> is their page and the old one answers 404 (no
redirect: the new name is never tied to the old one in public)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.errors import UserError
from paperwire.web.usecases.accounts import HANDLE_RULE, check_handle


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _change(site, handle: str):
    return site.client.post(
        "/account/handle",
        data={"csrf_token": site.csrf(), "handle": handle},
        follow_redirects=False,
    )


def test_a_reader_chooses_a_handle_and_the_old_page_is_gone(site):
    site.sign_in("ada@example.org")
    old = site.store.get_or_create_user("ada@example.org", site.clock.now).handle
    assert old.startswith("reader-")
    page = site.client.get("/account").text
    assert f'name="handle" value="{old}"' in page
    done = _change(site, "Ada_Lovelace")
    assert done.status_code == 303
    assert done.headers["location"] == "/account?notice=handle-changed#handle-heading"
    page = site.client.get(done.headers["location"]).text
    assert "Your handle is changed." in page
    assert 'href="/users/ada_lovelace">/users/ada_lovelace</a>' in page
    assert site.client.get("/users/ada_lovelace").status_code == 200
    assert site.client.get(f"/users/{old}").status_code == 404


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("ab", "use 3 to 30"),
        ("x" * 31, "use 3 to 30"),
        ("ada lovelace", "use 3 to 30"),
        ("ädä", "use 3 to 30"),
        ("../admin", "use 3 to 30"),
        ("admin", "is reserved"),
        ("taken_one", "is taken"),
    ],
)
def test_a_bad_handle_is_refused_beside_the_field(site, typed, says):
    site.sign_in("grace@example.org")
    site.client.cookies.clear()
    site.sign_in("ada@example.org")
    grace = site.store.get_or_create_user("grace@example.org", site.clock.now)
    site.store.set_handle(grace.id, "taken_one")
    before = site.store.get_or_create_user("ada@example.org", site.clock.now).handle
    refused = _change(site, typed)
    assert refused.status_code in (400, 409)
    assert says in _text(refused.text)
    assert 'id="handle-error" role="alert"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert site.store.get_or_create_user("ada@example.org", site.clock.now).handle == before


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_typed_handle_is_kept_only_if_it_fits_the_rule(typed):
    try:
        kept = check_handle(typed)
    except UserError as exc:
        assert "handle" in str(exc)
        return
    assert HANDLE_RULE.fullmatch(kept) and kept == typed.strip().lower()
