"""Settings from the environment: strict, typed and redacted.

Everything the app needs from outside is read here once per process. A bad value stops start-up
with a message that names the variable, so a typo in production fails loudly instead of running
with a silent default. Secrets (cookie key, SMTP password) are never part of ``repr``.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("ANFITRION_DATA_DIR", ROOT / "data"))
LANGUAGES = ("es", "en")
# The library's placeholder key: anyone knowing it can mint a session cookie for any user.
_LIBRARY_DEFAULT_KEYS = {"some_key", "", "changeme", "secret"}


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    cookie_key: str = field(repr=False)
    cookie_name: str
    cookie_expiry_days: int
    business_tz: str
    default_language: str
    public_url: str
    data_dir: Path
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None = field(repr=False)
    smtp_security: str
    mail_from: str
    secret_key: str = field(repr=False)
    bcrypt_rounds: int = 12
    mail_delivery: str = "background"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.business_tz)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


PRIVATE_DIR = 0o700  # data/ holds the keys and the SQLite book: its owner only
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter: created so, or tightened when it
    exists with wider permissions (a checkout makes data/ 0755 under the usual umask)."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    info = path.stat()
    # Never a shared folder (sticky, like /tmp) or another user's, whatever the setting says.
    shared = info.st_mode & stat.S_ISVTX or info.st_uid != os.getuid()
    if not shared and info.st_mode & 0o777 != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)
    return path


def _read_or_create_secret(path: Path) -> str:
    """A per-install secret kept in data/: generated once, never committed (data/ is ignored)."""
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    private_dir(path.parent)
    value = secrets.token_urlsafe(48)
    # Create with owner-only permissions before writing the secret into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    return value


def _int(env: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _resolve_file_secrets(env: dict[str, str]) -> None:
    """``NAME_FILE=/run/secrets/x`` sets NAME from that file (Docker/systemd credentials)."""
    for name in ("COOKIE_KEY", "SECRET_KEY", "SMTP_PASSWORD", "DATABASE_URL"):
        path = env.get(f"{name}_FILE")
        if path and not env.get(name):
            try:
                env[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE cannot be read: {exc.strerror}") from None


def load(env: dict[str, str] | None = None, data_dir: Path | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment). Raises ConfigError."""
    env = dict(os.environ if env is None else env)
    _resolve_file_secrets(env)
    data_dir = private_dir(Path(env.get("ANFITRION_DATA_DIR") or data_dir or DATA_DIR))

    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'anfitrion.db'}"
    scheme = database_url.split(":", 1)[0]
    if scheme.split("+", 1)[0] not in {"sqlite", "postgresql", "postgres"}:
        raise ConfigError(
            f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, got scheme {scheme!r}"
        )
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    cookie_key = env.get("COOKIE_KEY")
    if cookie_key is None or cookie_key == "":
        cookie_key = _read_or_create_secret(data_dir / "cookie.key")
    if cookie_key in _LIBRARY_DEFAULT_KEYS or len(cookie_key) < 32:
        raise ConfigError("COOKIE_KEY must be a random value of at least 32 characters")
    secret_key = env.get("SECRET_KEY") or _read_or_create_secret(data_dir / "secret.key")
    if len(secret_key) < 32:
        raise ConfigError("SECRET_KEY must be a random value of at least 32 characters")

    business_tz = env.get("BUSINESS_TZ") or "America/Guayaquil"
    try:
        ZoneInfo(business_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"BUSINESS_TZ is not a known time zone: {business_tz!r}") from None

    language = env.get("DEFAULT_LANGUAGE") or "es"
    if language not in LANGUAGES:
        raise ConfigError(
            f"DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}, got {language!r}"
        )

    public_url = (env.get("PUBLIC_URL") or "http://127.0.0.1:8501").rstrip("/")
    parsed = urlparse(public_url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(f"PUBLIC_URL must be an http(s) URL, got {public_url!r}")

    security = (env.get("SMTP_SECURITY") or "starttls").lower()
    if security not in {"none", "starttls", "ssl"}:
        raise ConfigError(f"SMTP_SECURITY must be none, starttls or ssl, got {security!r}")
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]

    return Settings(
        database_url=database_url,
        cookie_key=cookie_key,
        cookie_name=env.get("COOKIE_NAME") or "anfitrion_auth",
        cookie_expiry_days=_int(env, "COOKIE_EXPIRY_DAYS", 7, 1, 90),
        business_tz=business_tz,
        default_language=language,
        public_url=public_url,
        data_dir=data_dir,
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", default_port, 1, 65535),
        smtp_user=env.get("SMTP_USER") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_security=security,
        mail_from=env.get("MAIL_FROM") or "Anfitrión <no-reply@localhost>",
        secret_key=secret_key,
        # Lower only in tests (BCRYPT_ROUNDS=4); 12 is bcrypt's and the library's default.
        bcrypt_rounds=_int(env, "BCRYPT_ROUNDS", 12, 4, 15),
        mail_delivery=_choice(env, "MAIL_DELIVERY", ("background", "cron"), "background"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load()
