"""Browsers and operating systems of user agents (docs/panels.md, "Browsers").

A user agent is classified by the first row of a table that it contains (the rows are
searched in order, case-sensitively): crawlers first, so that a bot that says it is
Chrome is a crawler; then the browsers whose agents also name the ones they derive from
(Edge and Opera say Chrome, Chrome says Safari).  An agent no row matches is
``Unknown``.  ``classify`` is asked once per distinct agent (the panels remember it).
"""

from __future__ import annotations

CRAWLERS = "Crawlers"
UNKNOWN = "Unknown"

#: (a text the agent holds, its family): crawlers and tools that fetch by themselves.
_CRAWLER_SIGNS = (
    "bot", "Bot", "crawl", "Crawl", "spider", "Spider", "Slurp", "facebookexternalhit",
    "curl/", "Wget/", "python-requests", "Python-urllib", "Go-http-client", "okhttp",
    "HeadlessChrome", "Lighthouse", "Prometheus/", "Apache-HttpClient", "libwww-perl",
)  # fmt: skip

BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("Vivaldi/", "Vivaldi"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chrome"),
    ("MSIE ", "MSIE"),
    ("Trident/", "MSIE"),
    ("Safari/", "Safari"),
)

SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("iPod", "iOS"),
    ("CrOS", "Chrome OS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("FreeBSD", "BSD"),
    ("OpenBSD", "BSD"),
    ("NetBSD", "BSD"),
    ("Linux", "Linux"),
    ("X11", "Unix-like"),
)


def classify(agent: str) -> tuple[str, str]:
    """(browser, operating system) of a user agent."""
    if any(sign in agent for sign in _CRAWLER_SIGNS):
        return CRAWLERS, CRAWLERS
    browser = next((family for sign, family in BROWSERS if sign in agent), UNKNOWN)
    system = next((family for sign, family in SYSTEMS if sign in agent), UNKNOWN)
    return browser, system
