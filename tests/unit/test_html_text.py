"""The text alternative of HTML: the same text whatever runs alongside (threads)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from herald_service.mail.html_text import html_to_text


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Let threads interleave every microsecond instead of every 5 ms."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_conversions_in_threads_never_mix_their_documents() -> None:
    documents = [
        f"<p>receipt {i} " + "<b>item</b> " * 200 + f"total {i}</p><ul><li>line {i}</li></ul>"
        for i in range(8)
    ]
    expected = [html_to_text(d) for d in documents]
    mixed: list[int] = []

    def convert(index: int) -> None:
        for _ in range(100):
            if html_to_text(documents[index]) != expected[index]:
                mixed.append(index)
                return

    threads = [threading.Thread(target=convert, args=(i,)) for i in range(len(documents))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mixed == []
    assert "receipt 3" in expected[3] and "line 3" in expected[3]
