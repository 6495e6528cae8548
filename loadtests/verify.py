"""Check what the sink received: every message exactly once, every DKIM signature valid.

Keys come from a dict of TXT records handed to dkimpy as its ``dnsfunc`` (no real DNS).
Verification runs in a process pool after the timed part of a run.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import dkim
import msgspec

_RCPT = re.compile(rb"^X-Rcpt-Args: <([^>]*)>", re.MULTILINE)
_ALGORITHM = re.compile(rb"\ba=([a-z0-9-]+);")


class Verdict(msgspec.Struct, frozen=True):
    """What the sink got compared with what was sent."""

    expected: int
    received: int
    missing: int
    duplicated: int
    unexpected: int
    bad_signatures: int
    signatures_by_algorithm: dict[str, int]

    @property
    def ok(self) -> bool:
        """Every message once, nothing else, every signature valid."""
        return not (self.missing or self.duplicated or self.unexpected or self.bad_signatures)

    def summary(self) -> str:
        """One line for the report."""
        algos = ", ".join(f"{k}: {v}" for k, v in sorted(self.signatures_by_algorithm.items()))
        state = "OK" if self.ok else "FAILED"
        return (
            f"{state}: {self.received} received of {self.expected} expected, "
            f"missing {self.missing}, duplicated {self.duplicated}, unexpected {self.unexpected}, "
            f"bad signatures {self.bad_signatures} (valid: {algos or 'none'})"
        )


def split_dump(raw: bytes) -> tuple[str, bytes]:
    """(recipient, message with CRLF line ends) of one ``smtp-sink -d`` dump file."""
    match = _RCPT.search(raw)
    recipient = match.group(1).decode() if match else ""
    # The sink's own headers end with a three-line Received: header.
    start = raw.index(b"\nReceived: from ")
    lines = raw[start + 1 :].split(b"\n")
    index = 1
    while index < len(lines) and lines[index][:1] in (b" ", b"\t"):
        index += 1
    body = lines[index:]
    if body and body[-1] == b"":
        body = body[:-1]
    if body and body[-1] == b"":  # the empty line the dump format appends
        body = body[:-1]
    return recipient, b"\r\n".join(body) + b"\r\n"


def _check_file(
    path: str, records: dict[str, bytes], required: tuple[str, ...]
) -> tuple[str, list[str], bool]:
    """(recipient, valid signature algorithms, all required ones valid) of one dump."""
    recipient, message = split_dump(Path(path).read_bytes())

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name.decode().rstrip(".").lower())

    algorithms = [a.decode() for a in _ALGORITHM.findall(message.split(b"\r\n\r\n", 1)[0])]
    checker = dkim.DKIM(message)
    valid = []
    ok = True
    for index, algorithm in enumerate(algorithms):
        try:
            good = bool(checker.verify(idx=index, dnsfunc=lookup))
        except dkim.DKIMException:
            good = False
        if good:
            valid.append(algorithm)
        else:
            ok = False
    return recipient, valid, ok and all(a in valid for a in required)


def verify_dumps(
    paths: Sequence[Path],
    expected: Iterable[str],
    records: dict[str, bytes],
    required: tuple[str, ...],
    processes: int = 2,
    uncertain: Iterable[str] = (),
) -> Verdict:
    """Compare the sink's dumps with the ``expected`` recipients and verify signatures.

    ``uncertain`` recipients are those whose request got no answer (client timeout): the
    server may or may not have accepted them, so they may arrive at most once.
    """
    wanted = set(expected)
    maybe = set(uncertain) - wanted
    check = partial(_check_file, records=records, required=required)
    with ProcessPoolExecutor(processes) as pool:
        results = list(pool.map(check, [str(p) for p in paths], chunksize=64))
    seen = Counter(recipient for recipient, _, _ in results)
    algorithms: Counter[str] = Counter()
    for _, valid, _ in results:
        algorithms.update(valid)
    return Verdict(
        expected=len(wanted),
        received=len(results),
        missing=len(wanted - seen.keys()),
        duplicated=sum(n - 1 for r, n in seen.items() if n > 1 and (r in wanted or r in maybe)),
        unexpected=sum(n for r, n in seen.items() if r not in wanted and r not in maybe),
        bad_signatures=sum(1 for _, _, ok in results if not ok),
        signatures_by_algorithm=dict(algorithms),
    )
