"""The executable blocklist judges the name a receiving system acts on, not the raw text."""

from __future__ import annotations

import pytest

from herald_service.messages.intake.filenames import effective_extensions, filename_problem

EXECUTABLE = "executable attachment types are not allowed"


@pytest.mark.parametrize(
    "filename",
    [
        "setup.exe",
        "SETUP.EXE",
        "evil.EXE.",  # Windows drops trailing dots ...
        "evil.exe...",
        "evil.exe . .",  # ... and spaces
        "evil.exe\u00a0",  # a no-break space folds to a space
        "evil.exe::$DATA",  # NTFS default data stream: opens evil.exe
        "evil.exe:Zone.Identifier",
        "report.pdf:evil.exe",  # an alternate stream named like an executable
        "evil.\uff45\uff58\uff45",  # fullwidth "exe" folds to ASCII
        "evil.e\u200dxe",  # a joiner splitting the extension
        "invoice.pdf.js",
        "disk.ISO",
        "Installer.msix",
    ],
)
def test_disguised_executables_are_refused(filename: str) -> None:
    assert filename_problem(filename) == EXECUTABLE


@pytest.mark.parametrize(
    "filename",
    [
        "invoice\u202efdp.exe",  # right-to-left override: shows as "invoiceexe.pdf"
        "invoice\u202efdp.pdf",  # refused too: the displayed name lies about the type
        "a\u200bb.pdf",  # zero-width space
        "\ufeffreport.pdf",  # byte order mark
        "report\u2066.pdf",  # bidi isolate
    ],
)
def test_invisible_format_characters_are_refused(filename: str) -> None:
    problem = filename_problem(filename)
    assert problem is not None and "right-to-left" in problem


@pytest.mark.parametrize(
    ("filename", "fragment"),
    [
        ("...", "not only dots"),
        (". .", "not only dots"),
        ("a\tb.pdf", "control characters"),
        ("a\x00.pdf", "control characters"),
        ("dir/a.pdf", "slashes"),
        ("dir\\a.pdf", "slashes"),
        ("a" * 252 + ".pdf", "longer than 255"),
    ],
)
def test_malformed_names_are_refused(filename: str, fragment: str) -> None:
    problem = filename_problem(filename)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    "filename",
    [
        "report.pdf",
        "Rechnung März — 2024.pdf",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.pdf",  # ZWNJ: Persian spelling
        "family \U0001f468\u200d\U0001f469\u200d\U0001f467.jpg",  # ZWJ emoji sequence
        "Meeting 10:30.pdf",
        "README",
        "archive.tar.gz",
        "exe",  # no extension at all
        "notes.exe.txt",
    ],
)
def test_ordinary_names_pass(filename: str) -> None:
    assert filename_problem(filename) is None


def test_effective_extensions_fold_case_and_streams() -> None:
    assert effective_extensions("A.PDF") == {"pdf"}
    assert effective_extensions("a.pdf:b.EXE:$DATA") == {"pdf", "exe"}
    assert effective_extensions("no extension") == set()
