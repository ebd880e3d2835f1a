"""PostgreSQL URL helpers: swap the database, hide the password."""

from urllib.parse import quote, urlsplit, urlunsplit

LOCAL_USER = "pms"
LOCAL_PASSWORD = "pms"  # noqa: S105 - the documented development default of the private cluster


def local_postgres_url(port: int, dbname: str = "postgres") -> str:
    """The admin URL of the private development cluster."""
    return f"postgresql://{LOCAL_USER}:{LOCAL_PASSWORD}@127.0.0.1:{port}/{dbname}"


def database_url(postgres_url: str, dbname: str, driver: str | None = "postgresql+asyncpg") -> str:
    """``postgres_url`` pointed at database ``dbname``, with scheme ``driver``.

    >>> database_url("postgresql://u:p@h:5432/postgres", "pms_auth")
    'postgresql+asyncpg://u:p@h:5432/pms_auth'

    ``driver=None`` keeps the scheme of ``postgres_url``; the query string is kept.
    """
    parts = urlsplit(postgres_url)
    if not parts.scheme.startswith("postgres"):
        raise ValueError("not a PostgreSQL URL")
    if not dbname:
        raise ValueError("the database name must not be empty")
    scheme = driver or parts.scheme
    return urlunsplit((scheme, parts.netloc, "/" + quote(dbname, safe=""), parts.query, ""))


def plain_postgres_url(url: str) -> str:
    """``url`` with a bare ``postgresql`` scheme (asyncpg rejects ``postgresql+driver``)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ValueError("not a PostgreSQL URL")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and the state file)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{user}:***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
