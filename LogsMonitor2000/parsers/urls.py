"""What the panels read in a request's URL and referrer (docs/panels.md).

* ``decode``: percent-decoding as UTF-8, where a sequence that is no UTF-8 stays as
  written (``/caf%C3%A9`` -> ``/café``, ``/%FF`` -> ``/%FF``); ``%2F`` is decoded after
  the section was cut, so it never splits one.
* ``target``: a request line's target as written, query kept (``-`` when it has none).
* ``is_static``: a path (before ``?``) ending in one of GoAccess 1.7's static
  extensions, whatever the case.
* ``referring_site``: the host of an absolute referrer URL (None for ``-`` and
  anything else that is no URL).
"""

from __future__ import annotations

import re

#: A run of percent-escapes.
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
#: An absolute URL's scheme and host (group 1: the host, its port and user information).
_SCHEME_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://([^/?#\s]*)")

#: GoAccess 1.7's default static extensions (those it lists with a trailing blank never
#: match there and are left out, as docs/panels.md says).
STATIC_EXTENSIONS = tuple(
    ".css .js .jpg .png .gif .ico .jpeg .pdf .txt .csv .mpeg .mpg .swf .woff .woff2 .xls "
    ".xlsx .doc .docx .ppt .pptx .zip .mp3 .mp4 .exe .iso .gz .rar .svg .bmp .tar .tgz "
    ".tiff .tif .ttf .flv .avi".split()
)


def _decode_run(found: re.Match[str]) -> str:
    written = found.group()
    raw = bytes.fromhex(written.replace("%", ""))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Byte by byte: what decodes is decoded, each byte that doesn't stays as written.
    text = raw.decode("utf-8", "surrogateescape")
    out: list[str] = []
    at = 0  # the byte (and escape, 3 characters each) ``char`` starts at
    for char in text:
        if "\udc80" <= char <= "\udcff":
            out.append(written[3 * at : 3 * at + 3])
            at += 1
        else:
            out.append(char)
            at += len(char.encode("utf-8"))
    return "".join(out)


def decode(text: str) -> str:
    """``text`` percent-decoded as UTF-8 (see the module's docstring)."""
    if "%" not in text:
        return text
    return _ESCAPES.sub(_decode_run, text)


def target(request: str) -> str:
    """The target of a request line as written: its second token (``-`` without one)."""
    parts = request.split(None, 2)
    return parts[1] if len(parts) > 1 else "-"


def is_static(url: str) -> bool:
    """Whether ``url``'s path (before ``?``) ends with a static extension."""
    return url.partition("?")[0].lower().endswith(STATIC_EXTENSIONS)


def referring_site(referrer: str) -> str | None:
    """The host of an absolute referrer URL (its port kept, its user information not),
    None when it is none."""
    found = _SCHEME_HOST.match(referrer)
    if found is None or not found.group(1):
        return None
    return found.group(1).rpartition("@")[2]
