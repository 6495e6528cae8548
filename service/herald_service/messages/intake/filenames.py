"""Attachment file names: refuse executable types however the name is dressed up.

A blocklist is only as good as the extension it looks at. Windows drops trailing dots and
spaces (``evil.EXE.`` opens as ``evil.exe``), NTFS reads ``evil.exe::$DATA`` as
``evil.exe``, case does not matter, compatibility forms (fullwidth letters) fold to ASCII
and invisible format characters (zero-width, bidi) can split or hide an extension. So the
extension is judged on the name as a receiving system would act on it, never on the raw text.
"""

from __future__ import annotations

import re
import unicodedata

from herald_service.mail.addresses import CONTROL_CHARS
from herald_service.request_fields import (
    MAX_FILENAME,
)

# Executable, script, installer and disk-image types that mailbox providers reject or
# quarantine (Gmail's list of blocked file types, plus classic Windows script hosts).
_BLOCKED = """
    ade adp apk app application appref-ms appx appxbundle bas bat cab chm cmd com cpl crt
    diagcab diagcfg diagpack dll dmg ex ex_ exe gadget hta img inf ins iso isp jar jnlp js
    jse lib library-ms lnk mde mjs msc msh msh1 msh2 mshxml msh1xml msh2xml msi msix
    msixbundle msp mst nsh pif ps1 ps1xml ps2 ps2xml psc1 psc2 psd1 psm1 reg scf scr sct
    settingcontent-ms shb shs sys url vb vbe vbs vhd vhdx vxd website ws wsc wsf wsh xll
"""
BLOCKED_EXTENSIONS = frozenset(_BLOCKED.split())

# Format characters a file name may keep: ZWNJ and ZWJ are part of Persian and Indic
# spelling and of emoji sequences. Every other one (bidi overrides such as U+202E, which
# make ``invoice\u202efdp.exe`` display as ``invoiceexe.pdf``, zero-width spaces, BOM) is
# refused.
_JOINERS = frozenset("\u200c\u200d")
_TRAILING = re.compile(r"[\s.]+$")


def _hidden_characters(name: str) -> bool:
    return any(unicodedata.category(c) == "Cf" and c not in _JOINERS for c in name)


def effective_extensions(filename: str) -> set[str]:
    """The extensions a receiving system may act on, lower case.

    The name is NFKC-folded, stripped of format characters, split at ``:`` (an NTFS
    alternate data stream names the file before it; every part counts) and each part
    loses its trailing dots and whitespace, as Windows does.
    """
    folded = "".join(
        c for c in unicodedata.normalize("NFKC", filename) if unicodedata.category(c) != "Cf"
    )
    extensions = set()
    for part in folded.split(":"):
        _stem, dot, extension = _TRAILING.sub("", part).rpartition(".")
        if dot and extension:
            extensions.add(extension.casefold())
    return extensions


def filename_problem(filename: str) -> str | None:
    """Why ``filename`` (already stripped) is refused, or None when it is acceptable."""
    if not _TRAILING.sub("", filename):
        return "a file name such as report.pdf (not empty, not only dots)"
    if CONTROL_CHARS.search(filename) or "\t" in filename or "/" in filename or "\\" in filename:
        return "a file name without control characters or slashes"
    if len(filename) > MAX_FILENAME:
        return f"longer than {MAX_FILENAME} characters"
    if _hidden_characters(filename):
        return "invisible formatting characters (such as right-to-left override) are not allowed"
    if effective_extensions(filename) & BLOCKED_EXTENSIONS:
        return "executable attachment types are not allowed"
    return None
