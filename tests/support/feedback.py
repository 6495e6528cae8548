"""An ARF feedback-loop report (RFC 5965), as a mailbox provider sends one to the return
path: ``ARF.format(verp=..., rcpt=...)``."""

from __future__ import annotations

ARF = """\
From: fbl@isp.example
To: {verp}
Subject: FW: Hi
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b2"

--b2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <{rcpt}>

--b2--
"""
