"""Strict settings: sane defaults for a fresh install, clear refusals for bad values."""

import pytest

from core.platform.config import ConfigError, load


def test_defaults_for_a_fresh_install(tmp_path):
    s = load({}, data_dir=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'anfitrion.db'}"
    assert s.business_tz == "America/Guayaquil"
    assert s.default_language == "es"
    assert s.public_url.startswith("http")


def test_cookie_key_is_generated_once_per_install_and_kept(tmp_path):
    first = load({}, data_dir=tmp_path).cookie_key
    again = load({}, data_dir=tmp_path).cookie_key
    assert first == again and len(first) >= 32
    assert first != "some_key"
    assert (tmp_path / "cookie.key").stat().st_mode & 0o077 == 0  # owner-only file
    other = load({}, data_dir=tmp_path / "other").cookie_key
    assert other != first  # random per install


def test_secrets_never_show_in_repr(tmp_path):
    s = load({"SMTP_PASSWORD": "hunter2-smtp"}, data_dir=tmp_path)
    assert s.cookie_key not in repr(s)
    assert "hunter2-smtp" not in repr(s)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"COOKIE_KEY": "some_key"}, "COOKIE_KEY"),
        ({"COOKIE_KEY": "short"}, "COOKIE_KEY"),
        ({"BUSINESS_TZ": "Mars/Olympus"}, "BUSINESS_TZ"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({"PUBLIC_URL": "portal.example.com"}, "PUBLIC_URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT"),
        ({"SMTP_SECURITY": "tls1"}, "SMTP_SECURITY"),
        ({"COOKIE_EXPIRY_DAYS": "400"}, "COOKIE_EXPIRY_DAYS"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(tmp_path, env, names):
    with pytest.raises(ConfigError, match=names):
        load(env, data_dir=tmp_path)


def test_postgres_urls_use_the_shipped_driver(tmp_path):
    s = load({"DATABASE_URL": "postgres://u@h/db"}, data_dir=tmp_path)
    assert s.database_url == "postgresql+psycopg://u@h/db"


def test_secrets_can_come_from_files(tmp_path):
    key = tmp_path / "cookie"
    key.write_text("k" * 40 + "\n")
    assert load({"COOKIE_KEY_FILE": str(key)}, data_dir=tmp_path).cookie_key == "k" * 40
    with pytest.raises(ConfigError, match="SECRET_KEY_FILE"):
        load({"SECRET_KEY_FILE": str(tmp_path / "missing")}, data_dir=tmp_path)
