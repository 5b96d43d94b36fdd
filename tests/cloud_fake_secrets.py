"""The fake workspace's secrets, kept as Pulumi's passphrase secrets manager keeps them.

Pulumi (pkg/secrets/passphrase/manager.go, `NewPassphraseSecretsManager`): at a stack's
first update a random salt is drawn, a key derived from the passphrase with PBKDF2-SHA256
(1,000,000 iterations), the word "pulumi" encrypted with it (AES-256-GCM) and stored with
the salt as the stack's `encryptionsalt` state, "v1:<salt>:<ciphertext>". Every later
operation derives the key again from the passphrase it is given and decrypts that word;
when it does not come back, the manager is "locked" and the first secret the operation
must read fails with its errorCrypter's text (`DecryptValue`):

    failed to decrypt: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the
    correct passphrase or set PULUMI_CONFIG_PASSPHRASE_FILE to a file containing the
    passphrase

shown by the CLI as "error: decrypting secret value: failed to decrypt: incorrect
passphrase, ..." (pulumi/pulumi#6286). Every bakeoff stack holds secrets (the VMs' user
data carries their host keys, the database password is an output secret), so `up`,
`destroy`, `refresh` and `stack output --show-secrets` (the Automation API's `outputs`)
all read one and fail; `cancel` reads none.

The passphrase is found as Pulumi's `readPassphrase` finds it: PULUMI_CONFIG_PASSPHRASE
when set (even empty), else the file PULUMI_CONFIG_PASSPHRASE_FILE names, whitespace
trimmed. The fake derives its key with fewer iterations (20,000) to stay quick; the rest
is the same construction.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

INCORRECT = ("decrypting secret value: failed to decrypt: incorrect passphrase, please set "
             "PULUMI_CONFIG_PASSPHRASE to the correct passphrase or set "
             "PULUMI_CONFIG_PASSPHRASE_FILE to a file containing the passphrase")
ITERATIONS = 20_000  # Pulumi: 1,000,000


class IncorrectPassphrase(RuntimeError):
    """What the Pulumi CLI reports for a stack whose secrets the passphrase cannot open."""

    def __init__(self) -> None:
        super().__init__(INCORRECT)


def read_passphrase(passphrase_file: Path, honour_env: bool) -> str:
    """The passphrase as the Pulumi CLI reads it (`honour_env`: this process is the CLI,
    whose environment bakeoff built; an in-process fake must not read the test's own)."""
    if honour_env and "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        return os.environ["PULUMI_CONFIG_PASSPHRASE"]
    return Path(passphrase_file).read_text().strip()


def _key(phrase: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", phrase.encode(), salt, ITERATIONS, dklen=32)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _encrypt(key: bytes, text: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return f"v1:{_b64(nonce)}:{_b64(AESGCM(key).encrypt(nonce, text.encode(), None))}"


def _decrypt(key: bytes, value: str) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    _, nonce, ct = value.split(":", 2)
    try:
        return AESGCM(key).decrypt(base64.b64decode(nonce), base64.b64decode(ct),
                                   None).decode()
    except InvalidTag:
        raise IncorrectPassphrase() from None


class Secrets:
    """A stack's secrets manager: made at its first update, opened by every later one."""

    def __init__(self, state: str | None, phrase: str):
        if state is None:  # a new stack: a fresh salt, the check word encrypted
            salt = os.urandom(8)
            self.key = _key(phrase, salt)
            self.state = f"v1:{_b64(salt)}:{_encrypt(self.key, 'pulumi')}"
            return
        version, salt, check = state.split(":", 2)
        assert version == "v1", state
        self.key = _key(phrase, base64.b64decode(salt))
        self.state = state
        if _decrypt(self.key, check) != "pulumi":
            raise IncorrectPassphrase()

    def encrypt(self, text: str) -> dict[str, str]:
        return {"secure": _encrypt(self.key, text)}

    def decrypt(self, value: dict[str, str]) -> str:
        return _decrypt(self.key, value["secure"])
