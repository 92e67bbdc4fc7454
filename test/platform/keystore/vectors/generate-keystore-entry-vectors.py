#!/usr/bin/env python3
"""Independent implementation of the file keystore's entry format (docs/keystore.md,
"`file`: the sealed root-only store"), using the `cryptography` package's AES-GCM.

Writes keystore-entries.json next to this file; test/platform/keystore/sealed-entry.test.ts opens
every valid entry with the TypeScript code and must refuse every invalid one.
    python3 test/platform/keystore/vectors/generate-keystore-entry-vectors.py
"""
import base64, hashlib, json, pathlib

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LABEL = b"latchkey-keystore-entry/v1"


def seal(host_key: bytes, nonce: bytes, name: str, secret: bytes) -> dict:
    aad = LABEL + b"\x00" + name.encode("utf-8")
    sealed = AESGCM(host_key).encrypt(nonce, secret, aad)  # ciphertext || 16-byte tag
    return {"format": "latchkey-keystore-entry", "version": 1,
            "nonce": base64.b64encode(nonce).decode(), "sealed": base64.b64encode(sealed).decode()}


def main() -> None:
    host_key = bytes(range(32))
    other_key = hashlib.sha256(b"latchkey other host key").digest()
    valid = []
    for name, secret, nonce in [
        ("pool-sealing-key/3f1c0000000000000000000000000000", bytes(range(32)), bytes(12)),
        ("a", b"\x00", bytes(range(12))),
        ("x/y.z_w-0", bytes([0xFF] * 4096), b"\xA5" * 12),
    ]:
        valid.append({"name": name, "fileName": hashlib.sha256(name.encode()).hexdigest() + ".secret",
                      "secret": secret.hex(), "entry": json.dumps(seal(host_key, nonce, name, secret))})

    good = seal(host_key, bytes(12), "victim", b"secret bytes")
    invalid = [
        {"why": "sealed for another name", "name": "victim",
         "entry": json.dumps(seal(host_key, bytes(12), "other", b"secret bytes"))},
        {"why": "sealed with another host key", "name": "victim",
         "entry": json.dumps(seal(other_key, bytes(12), "victim", b"secret bytes"))},
        {"why": "aad without the 0x00 separator", "name": "victim",
         "entry": json.dumps({**good, "sealed": base64.b64encode(AESGCM(host_key).encrypt(
             bytes(12), b"secret bytes", LABEL + b"victim")).decode()})},
        {"why": "tag truncated to 12 bytes", "name": "victim",
         "entry": json.dumps({**good, "sealed": base64.b64encode(base64.b64decode(good["sealed"])[:-4]).decode()})},
    ]
    out = {"hostKey": host_key.hex(), "valid": valid, "invalid": invalid}
    pathlib.Path(__file__).with_name("keystore-entries.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
