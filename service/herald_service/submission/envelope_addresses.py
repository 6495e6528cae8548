"""The address of a MAIL or RCPT command, parsed cheaply in the common case.

aiosmtpd parses every command's ``<address>`` with the email package's full header parser
(comments, quoted strings, obsolete routes) and defines a class on each call; for a plain
``<local@domain>`` that is most of what MAIL and RCPT cost. :func:`plain_address` reads that
plain form (dot-atoms on both sides, parameters after it) and declines anything else, which
is then left to aiosmtpd's parser, so what is accepted and how never changes.
"""

from __future__ import annotations

import re

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_PLAIN = re.compile(rf"<({_DOT_ATOM}@{_DOT_ATOM})>(?:[ \t]+|$)")
# Parameters in printable ASCII: other white space (a stray CR, a vertical tab) is folded
# by the full parser in ways that depend on what precedes it, so it is left to that parser.
_PLAIN_PARAMETERS = re.compile(r"[\x21-\x7e \t]*")


def plain_address(arg: str, local_part_limit: int = 0) -> tuple[str, str] | None:
    """``(address, parameters)`` of a plain ``<local@domain> PARAMS`` argument, as
    aiosmtpd's parser would give them; ``None`` when the argument is anything else."""
    match = _PLAIN.match(arg)
    if match is None:
        return None
    address = match.group(1)
    rest = arg[match.end() :]
    if rest.startswith("(") or not _PLAIN_PARAMETERS.fullmatch(rest):
        return None  # a comment or unusual white space: the full parser's business
    if local_part_limit and len(address.rpartition("@")[0]) > local_part_limit:
        return None
    return address, rest
