"""Atom documents (RFC 4287) built with ElementTree, so every text is escaped as XML,
and with every text and attribute passed through xml_safe (a character XML cannot hold,
stored before imports removed them or typed into a query, never breaks a feed)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from fastapi.responses import Response

from paperwire.xmltext import xml_safe

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ET.register_namespace("", ATOM)


def stamp(moment: datetime) -> str:
    """An Atom date: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AtomFeed:
    """One feed: its id is its own URL; add entries, then answer with `response()`."""

    def __init__(self, self_url: str, title: str, alternate: str, updated: datetime) -> None:
        self.root = ET.Element(f"{{{ATOM}}}feed")
        self.add(self.root, "id", self_url)
        self.add(self.root, "title", title)
        self.add(self.root, "updated", stamp(updated))
        self.add(self.root, "link", rel="self", type="application/atom+xml", href=self_url)
        self.add(self.root, "link", rel="alternate", type="text/html", href=alternate)
        self.add(self.root, "generator", "paperwire")

    def add(
        self, parent: ET.Element, tag: str, text: str | None = None, **attrs: str
    ) -> ET.Element:
        """A child element of `parent`, its text and attributes made XML-safe."""
        safe = {name: xml_safe(value) for name, value in attrs.items()}
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", safe)
        if text is not None:
            element.text = xml_safe(text)
        return element

    def entry(
        self, link: str, title: str, updated: datetime, author: str, published: datetime | None
    ) -> ET.Element:
        """An entry whose id is its page's URL, with its title, times, link and author."""
        item = self.add(self.root, "entry")
        self.add(item, "id", link)
        self.add(item, "title", title)
        self.add(item, "updated", stamp(updated))
        if published is not None:
            self.add(item, "published", stamp(published))
        self.add(item, "link", rel="alternate", type="text/html", href=link)
        self.add(self.add(item, "author"), "name", author)
        return item

    def response(self) -> Response:
        """The feed as an HTTP answer."""
        body = ET.tostring(self.root, encoding="utf-8", xml_declaration=True)
        return Response(body, media_type=MEDIA_TYPE)
