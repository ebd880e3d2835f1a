"""Users, roles, passwords, access and refresh tokens, and the JWKS.

``app`` builds the service; ``settings``; ``api`` (login, tokens, users); ``service``
(``UserService``: user administration and ``/me``); ``authentication`` (login, refresh,
logout, with transactions of their own); ``lockout`` (the refusal policy); ``tokens``,
``keys`` and ``passwords``; ``repository`` (all SQL); ``models``; ``schemas``; ``seed``.
"""
