"""Accounts: handles say nothing of the address, and a sign-in link says whom it signs in."""

from __future__ import annotations

# -- accounts ------------------------------------------------------------------------------------


def test_handles_say_nothing_of_the_address_and_the_link_says_whom_it_signs_in(site) -> None:
    """A new account's public handle is random (it was the email's local part, so
    /users/<local part> told whether an address had an account); the page a sign-in
    link opens names the address it signs in as."""
    site.sign_in("grace.hopper@example.org")
    site.sign_in("grace@example.com")
    for local in ("grace.hopper", "grace-hopper", "grace", "grace-2"):
        assert site.client.get(f"/users/{local}").status_code == 404
    one = site.store.get_or_create_user("grace.hopper@example.org", site.clock.now).handle
    two = site.store.get_or_create_user("grace@example.com", site.clock.now).handle
    assert one != two and "grace" not in one + two
    assert site.client.get(f"/users/{one}").status_code == 200
    site.client.post("/signin", data={"email": "linus@example.org", "csrf_token": site.csrf()})
    link = site.signin_link("linus@example.org").replace("http://testserver", "")
    page = site.client.get(link)
    assert "signs you in as <strong>linus@example.org</strong>" in page.text
    assert "ask for a new one" in site.client.get("/signin/confirm?token=nope").text
