import stat
from ipaddress import ip_network
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import ValidationError

from pms_auth.keys import SigningKeyError, load_key_set, private_key_pem, thumbprint
from pms_auth.passwords import PasswordHasher
from pms_auth.seed import ORIGINAL_ADMIN_BCRYPT_HASH
from pms_auth.settings import AuthSettings
from pms_platform.settings import DevelopmentSecretInProductionError

PRODUCTION_DATABASE = "postgresql+asyncpg://auth:s3cret@db/pms_auth"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("PMS_AUTH_ENVIRONMENT", "production")
    monkeypatch.setenv("PMS_AUTH_DATABASE_URL", PRODUCTION_DATABASE)
    monkeypatch.setenv("PMS_AUTH_SEED_ADMIN_PASSWORD", "a-real-admin-secret")
    return monkeypatch


def test_production_without_signing_keys_is_refused(production: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as raised:
        AuthSettings()
    assert "signing_key" in str(raised.value)
    assert isinstance(raised.value.errors()[0]["ctx"]["error"], DevelopmentSecretInProductionError)


def test_production_with_the_demo_admin_password_is_refused(
    production: pytest.MonkeyPatch,
) -> None:
    production.setenv("PMS_AUTH_SIGNING_KEY_FILE", "/run/secrets/auth-signing-key.pem")
    production.delenv("PMS_AUTH_SEED_ADMIN_PASSWORD")
    with pytest.raises(ValidationError) as raised:
        AuthSettings()
    assert "seed_admin_password" in str(raised.value)


def test_production_with_a_configured_key_and_admin_password_is_accepted(
    production: pytest.MonkeyPatch,
) -> None:
    production.setenv(
        "PMS_AUTH_SIGNING_KEY", private_key_pem(Ed25519PrivateKey.generate()).decode()
    )
    settings = AuthSettings()
    assert settings.is_production
    assert not settings.seeds_demo_users


async def test_the_default_password_hash_uses_the_owasp_argon2id_parameters() -> None:
    hasher = PasswordHasher.from_settings(AuthSettings())
    stored = await hasher.hash("password123")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_a_bcrypt_hash_verifies_and_asks_for_an_argon2id_rehash() -> None:
    hasher = PasswordHasher(memory_cost_kib=1024, time_cost=1, parallelism=1)
    verification = await hasher.verify("password123", ORIGINAL_ADMIN_BCRYPT_HASH)
    assert verification.matches
    assert verification.new_hash is not None
    assert verification.new_hash.startswith("$argon2id$")
    assert not (await hasher.verify("wrong-password", ORIGINAL_ADMIN_BCRYPT_HASH)).matches


async def test_a_password_beyond_bcrypts_72_bytes_is_a_mismatch_not_an_error() -> None:
    hasher = PasswordHasher(memory_cost_kib=1024, time_cost=1, parallelism=1)
    assert not (await hasher.verify("x" * 100, ORIGINAL_ADMIN_BCRYPT_HASH)).matches
    assert not (await hasher.verify("password123", "not-a-known-hash")).matches


async def test_an_unknown_user_is_checked_against_a_dummy_hash_and_never_matches() -> None:
    hasher = PasswordHasher(memory_cost_kib=1024, time_cost=1, parallelism=1)
    assert not (await hasher.verify("anything", None)).matches


def test_the_development_key_is_generated_once_with_mode_0600(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PMS_AUTH_DEVELOPMENT_KEY_DIR", str(tmp_path / "auth-keys"))
    first = load_key_set(AuthSettings())
    second = load_key_set(AuthSettings())
    key_file = tmp_path / "auth-keys" / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.kid == second.kid == thumbprint(first.signing_key.public_key())


def test_a_signing_key_from_a_file_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "key.pem").write_bytes(private_key_pem(key))
    monkeypatch.setenv("PMS_AUTH_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))
    assert load_key_set(AuthSettings()).kid == thumbprint(key.public_key())


def test_a_signing_key_that_is_not_ed25519_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    ec_key = generate_private_key(SECP256R1())
    pem = ec_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    monkeypatch.setenv("PMS_AUTH_SIGNING_KEY", pem.decode())
    with pytest.raises(SigningKeyError):
        load_key_set(AuthSettings())
    monkeypatch.setenv("PMS_AUTH_SIGNING_KEY", "not a pem")
    with pytest.raises(SigningKeyError):
        load_key_set(AuthSettings())


def test_trusted_proxies_are_read_as_comma_separated_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_AUTH_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.4")
    assert AuthSettings().trusted_proxies == (ip_network("10.0.0.0/8"), ip_network("192.168.1.4"))
    monkeypatch.setenv("PMS_AUTH_TRUSTED_PROXIES", "")
    assert AuthSettings().trusted_proxies == ()
    monkeypatch.delenv("PMS_AUTH_TRUSTED_PROXIES")
    assert AuthSettings().trusted_proxies == (ip_network("127.0.0.0/8"), ip_network("::1"))
