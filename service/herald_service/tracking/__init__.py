"""Open and click tracking and hosted one-click unsubscribe (RFC 8058).

``service.py`` applies them to a message before it is signed; ``controllers.py`` serves the
public endpoints the rewritten links, the pixel and ``List-Unsubscribe`` point to;
``recording.py`` and ``unsubscribe.py`` record what those endpoints are told.
"""
