"""API resources, one module per path family (``client.messages`` is ``/v1/messages``)."""

from herald.resources.messages import AsyncMessages, Messages

__all__ = ["AsyncMessages", "Messages"]
