#!/usr/bin/env python3
"""Independent implementation of docs/phone.md "The vault at rest" (Python, `cryptography`).

Writes phone-vault.json next to this file: a vault sealed with a fixed salt and nonce, the keys
its passphrase stretches into, and vaults the reader must refuse, each with the code it answers.
phone/vault/vault-format.ts must open what this seals and refuse what it refuses.
    python3 test/vectors/generate-phone-vault-vectors.py
"""
import base64, hashlib, json, pathlib
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ITERATIONS = 600_000


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical(value) -> str:
    """docs/online-protocol.md "Canonical JSON": keys sorted at every level, no whitespace."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in sorted(value)) + "}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def keys(passphrase: bytes, salt: bytes, iterations: int):
    stretched = hashlib.pbkdf2_hmac("sha256", passphrase, salt, iterations, 32)
    derive = lambda info, n: HKDF(algorithm=hashes.SHA256(), length=n, salt=salt, info=info).derive(stretched)
    return derive(b"latchkey-phone-vault-v1/aes", 32), derive(b"latchkey-phone-vault-v1/check", 16)


def vault(header: dict, enc_key: bytes, nonce: bytes, plaintext: bytes) -> str:
    aad = canonical(header).encode()
    sealed = AESGCM(enc_key).encrypt(nonce, plaintext, aad)
    return json.dumps({**header, "nonce": b64u(nonce), "ciphertext": b64u(sealed)}) + "\n"


def main() -> None:
    passphrase = "correct horse battery stäple"
    salt = bytes(range(16))
    nonce = bytes(range(100, 112))
    enc_key, check = keys(passphrase.encode(), salt, ITERATIONS)
    header = {"format": "latchkey-phone-vault", "v": 1, "kdf": {"name": "PBKDF2-SHA-256", "iterations": ITERATIONS, "salt": b64u(salt)},
              "cipher": "AES-256-GCM", "check": b64u(check)}
    state = {
        "v": 1,
        "device": {"name": "Ana’s phone", "signingPkcs8": b64u(bytes(48)), "signingPublic": b64u(bytes([1]) * 32),
                   "boxPkcs8": b64u(bytes([2]) * 48), "boxPublic": b64u(bytes([3]) * 32), "createdAt": 1800000000000},
        "pairings": [{
            "workstationId": "ws_0123456789ABCDEFGHJKMNPQRS", "workstationName": "ws-1", "user": "ana", "deviceId": "dev_0123456789ABCDEFGHJKMNPQRS",
            "url": "https://cc.example.com", "workstationKey": b64u(bytes([4]) * 32), "ccKey": b64u(bytes([5]) * 32), "pairedAt": 1800000000000,
            "settings": None, "settingsAt": None,
            "pool": {"deliveryId": "pd_0123456789ABCDEFGHJKMNPQRS", "poolId": "0123456789abcdef0123456789abcdef", "seed": b64u(bytes(range(32))),
                     "charset": "alphanumeric", "length": 8, "start": 0, "count": 25, "next": 3, "issuedAt": 1800000000000, "receivedAt": 1800000000500},
            "pendingPool": None, "lastApprovedAt": 1800000000000,
        }],
        "blePairings": [{"id": "ble-7K2QD", "workstationName": "ana on ws-1", "pairingKey": b64u(bytes([6]) * 32),
                         "identitySeed": b64u(bytes([7]) * 32), "workstationKey": b64u(bytes([8]) * 32), "pairedAt": 1800000000000}],
    }
    good = vault(header, enc_key, nonce, json.dumps(state, ensure_ascii=False).encode())
    parsed = json.loads(good)

    def edited(change) -> str:
        copy = json.loads(good)
        change(copy)
        return json.dumps(copy) + "\n"

    def flipped(field: str) -> str:
        raw = bytearray(base64.urlsafe_b64decode(parsed[field] + "=" * (-len(parsed[field]) % 4)))
        raw[0] ^= 1
        return edited(lambda v: v.__setitem__(field, b64u(bytes(raw))))

    invalid = [
        {"name": "a wrong passphrase", "vault": good, "passphrase": "correct horse battery staple", "code": "vault-wrong-passphrase"},
        {"name": "a ciphertext byte flipped", "vault": flipped("ciphertext"), "passphrase": passphrase, "code": "vault-tampered"},
        {"name": "the nonce changed", "vault": flipped("nonce"), "passphrase": passphrase, "code": "vault-tampered"},
        {"name": "fewer PBKDF2 iterations than 600,000", "vault": edited(lambda v: v["kdf"].__setitem__("iterations", ITERATIONS - 1)), "passphrase": passphrase,
         "code": "vault-malformed"},
        {"name": "another cipher", "vault": edited(lambda v: v.__setitem__("cipher", "AES-128-GCM")), "passphrase": passphrase, "code": "vault-malformed"},
        {"name": "not JSON", "vault": good[:40], "passphrase": passphrase, "code": "vault-malformed"},
        {"name": "sealed, but not a phone state", "vault": vault(header, enc_key, nonce, json.dumps({**state, "v": 2}).encode()), "passphrase": passphrase,
         "code": "vault-malformed"},
        {"name": "sealed, but not JSON inside", "vault": vault(header, enc_key, nonce, b"not json"), "passphrase": passphrase, "code": "vault-malformed"},
    ]
    out = {
        "description": "Phone vault vectors (docs/phone.md \"The vault at rest\"). Generated by generate-phone-vault-vectors.py; do not edit by hand.",
        "passphrase": passphrase,
        "encKeyHex": enc_key.hex(),
        "check": b64u(check),
        "aad": canonical(header),
        "vault": good,
        "state": state,
        "invalid": invalid,
    }
    pathlib.Path(__file__).with_name("phone-vault.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
