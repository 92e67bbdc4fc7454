#!/usr/bin/env python3
"""Independent implementation of docs/windows.md §5-6 (Python, `cryptography` and `argon2-cffi`).

Writes windows-credential.json: the verifier and credential key of one Argon2id evaluation, a user
state holding a pool of that format (`argon2id-hkdf-v1`) with a copy per PIN beside a pool of raw
Argon2id verifiers, the
password block and its padding, copies wrapped to a PIN and to a phone from fixed ephemeral keys
and nonces, a phone's release, the credential request transcript, and the logon credential the
agent hands the provider, each with invalid cases and the code a reader must answer.
    apt-get install python3-cryptography python3-argon2
    /usr/bin/python3 test/vectors/generate-windows-credential-vectors.py   (Debian's python3, which has both)
"""
import base64, json, os, struct
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
COPY_LABEL = "latchkey-windows-credential-v1"


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def canonical(value):
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(x) for x in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def transcript(label: str, obj) -> bytes:
    return (label + "\n" + canonical(obj)).encode("utf-8")


def pub(seed: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(*RAW)


def shared(seed: bytes, peer: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(seed).exchange(X25519PublicKey.from_public_bytes(peer))


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def block_of(password: bytes) -> bytes:
    size = -(-(2 + len(password)) // 64) * 64
    return struct.pack(">H", len(password)) + password + bytes(size - 2 - len(password))


def copy_key(eph_seed: bytes, recipient: bytes) -> bytes:
    eph = pub(eph_seed)
    return hkdf(shared(eph_seed, recipient), eph + recipient, COPY_LABEL.encode())


def pin_key(pin: str, salt: bytes, memory_kib: int, iterations: int):
    a = hash_secret_raw(pin.encode("ascii"), salt, time_cost=iterations, memory_cost=memory_kib, parallelism=1, hash_len=32, type=Type.ID, version=19)
    verifier = hkdf(a, b"", b"latchkey-pin/1 verifier")
    seed = hkdf(a, b"", b"latchkey-pin/1 credential key")
    return {"pin": pin, "saltHex": salt.hex(), "kdf": {"memoryKiB": memory_kib, "iterations": iterations}, "argon2Hex": a.hex(),
            "verifierHex": verifier.hex(), "credentialSeedHex": seed.hex(), "publicKeyHex": pub(seed).hex()}


def wrap(name, recipient_seed, eph_seed, nonce, binding, password):
    recipient = pub(recipient_seed)
    k = copy_key(eph_seed, recipient)
    aad = transcript(COPY_LABEL, binding)
    ct = AESGCM(k).encrypt(nonce, block_of(password), aad)
    return {"name": name, "recipientSeedHex": recipient_seed.hex(), "recipientPublicHex": recipient.hex(), "ephemeralSeedHex": eph_seed.hex(),
            "binding": binding, "passwordHex": password.hex(), "aadHex": aad.hex(), "copyKeyHex": k.hex(),
            "copy": {"ephHex": pub(eph_seed).hex(), "nonceHex": nonce.hex(), "ciphertextHex": ct.hex()}}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pin_pool(pins, salts, hkdf_format: bool) -> dict:
    """A pool as the user state stores it (docs/state-files.md): `argon2id-hkdf-v1` (docs/windows.md §6.2), or raw Argon2id as before it."""
    verifiers = []
    for c, (pin, salt) in enumerate(zip(pins, salts)):
        key = pin_key(pin, salt, 8, 1)
        a = bytes.fromhex(key["argon2Hex"])
        entry = {"c": c, "salt": b64(salt), "hash": b64(bytes.fromhex(key["verifierHex"]) if hkdf_format else a)}
        if hkdf_format:
            entry["credentialKey"] = b64(bytes.fromhex(key["publicKeyHex"]))
        verifiers.append(entry)
    pool = {"authenticatorId": "phone" if hkdf_format else "old-phone", "poolId": ("0f" if hkdf_format else "0e") * 16,
            "charset": "alphanumeric", "length": 8, "start": 0, "next": 0, "limit": len(pins),
            "issuedAtMs": 1795000000000, "issuedBootId": "boot-1", "issuedUptimeMs": 60000,
            "kdf": {"algorithm": "argon2id", "version": 19, "memoryKiB": 8, "iterations": 1, "parallelism": 1}, "verifiers": verifiers}
    if hkdf_format:
        pool["verifier"] = "argon2id-hkdf-v1"
    return pool


def logon(domain: bytes, user: bytes, password: bytes, version: int = 1) -> bytes:
    out = bytes([version])
    for value in (domain, user, password):
        out += struct.pack(">H", len(value)) + value
    return out


def main() -> None:
    seeds = [bytes(range(i, i + 32)) for i in (1, 33, 65, 97, 129)]
    pin_keys = [pin_key("K7QM2XHD", bytes(range(16)), 8, 1), pin_key("0123ABCDEFGHJ", bytes(range(16, 32)), 1024, 2)]
    pin_seed = bytes.fromhex(pin_keys[0]["credentialSeedHex"])

    passwords = {"one unit": utf16("x"), "31 units": utf16("correct horse battery staple!!!"),
                 "32 units": utf16("correct horse battery staple!!!!"), "256 units": utf16("p\u00e4ssw\u00f6rd\u2603" * 25 + "abcdef"),
                 "a surrogate pair": utf16("pass\U0001F511word")}
    padding = [{"name": n, "passwordHex": p.hex(), "blockHex": block_of(p).hex()} for n, p in passwords.items()]
    good = block_of(utf16("hunter2"))
    invalid_blocks = [
        {"name": "empty", "blockHex": ""},
        {"name": "not a whole block", "blockHex": good[:63].hex()},
        {"name": "a length past the block", "blockHex": (struct.pack(">H", 63) + good[2:]).hex()},
        {"name": "odd length", "blockHex": (struct.pack(">H", 13) + good[2:]).hex()},
        {"name": "zero length", "blockHex": (struct.pack(">H", 0) + bytes(62)).hex()},
        {"name": "padding not zero", "blockHex": (good[:63] + b"\x01").hex()},
        {"name": "one block too many", "blockHex": (good + bytes(64)).hex()},
        {"name": "a U+0000 unit", "blockHex": block_of(utf16("ab\x00c")).hex()},
        {"name": "above 576 bytes", "blockHex": (struct.pack(">H", 512) + utf16("a" * 256) + bytes(640 - 514)).hex()},
    ]
    invalid_passwords = [{"name": "empty", "passwordHex": ""}, {"name": "odd bytes", "passwordHex": "610062"},
                         {"name": "257 units", "passwordHex": utf16("a" * 257).hex()}, {"name": "U+0000", "passwordHex": utf16("a\x00b").hex()}]

    pin_binding = {"holder": "pin", "sid": "S-1-5-21-1004336348-1177238915-682003330-1001", "generation": 3, "poolId": "0f" * 16, "c": 4}
    phone_binding = {"holder": "phone", "sid": "S-1-5-21-1004336348-1177238915-682003330-1001", "generation": 3, "deviceId": "dev_0123456789ABCDEFGHJKMNPQRS"}
    copies = [
        wrap("to a PIN", pin_seed, seeds[1], bytes(range(12)), pin_binding, utf16("hunter2")),
        wrap("to a phone, a long password", seeds[2], seeds[3], bytes(range(100, 112)), phone_binding, passwords["256 units"]),
    ]
    base = copies[0]
    ct = bytes.fromhex(base["copy"]["ciphertextHex"])
    invalid_copies = [
        {"name": "another generation", "change": {"binding": {**pin_binding, "generation": 2}}, "code": "copy-unopenable"},
        {"name": "another counter", "change": {"binding": {**pin_binding, "c": 5}}, "code": "copy-unopenable"},
        {"name": "another account", "change": {"binding": {**pin_binding, "sid": "S-1-5-21-1-2-3-1001"}}, "code": "copy-unopenable"},
        {"name": "a flipped ciphertext byte", "change": {"ciphertextHex": (ct[:5] + bytes([ct[5] ^ 1]) + ct[6:]).hex()}, "code": "copy-unopenable"},
        {"name": "another nonce", "change": {"nonceHex": bytes(12).hex()}, "code": "copy-unopenable"},
        {"name": "truncated ciphertext", "change": {"ciphertextHex": ct[:-1].hex()}, "code": "copy-malformed"},
        {"name": "a short nonce", "change": {"nonceHex": bytes(11).hex()}, "code": "copy-malformed"},
        {"name": "a short eph", "change": {"ephHex": bytes(31).hex()}, "code": "copy-malformed"},
        {"name": "a low-order eph", "change": {"ephHex": bytes(32).hex()}, "code": "bad-key"},
    ]

    request_seed = seeds[4]
    ids = {"challenge": "A" * 43, "deviceId": phone_binding["deviceId"], "requestId": "ar_0123456789ABCDEFGHJKMNPQRS", "workstationId": "ws_0123456789ABCDEFGHJKMNPQRS"}
    release_label = "latchkey-credential-release-v1"
    release_eph_seed = bytes(range(200, 232))
    release_eph = pub(release_eph_seed)
    request_key = pub(request_seed)
    box_key = hkdf(shared(release_eph_seed, request_key), release_eph + request_key, release_label.encode())
    release_aad = transcript(release_label, ids)
    release_nonce = bytes(range(40, 52))
    released = bytes.fromhex(copies[1]["copyKeyHex"])
    release = {"requestSeedHex": request_seed.hex(), "requestKeyHex": request_key.hex(), "ids": ids, "aadHex": release_aad.hex(), "keyHex": released.hex(),
               "box": {"ephHex": release_eph.hex(), "nonceHex": release_nonce.hex(), "ciphertextHex": AESGCM(box_key).encrypt(release_nonce, released, release_aad).hex()}}

    request = {"challenge": ids["challenge"], "copies": [{"deviceId": phone_binding["deviceId"], "eph": "B" * 43}], "requestKey": "C" * 43,
               "user": "DESK-042\\j\u00fcrgen", "workstationId": ids["workstationId"]}
    credential_request = {"request": request, "transcriptHex": transcript("latchkey-credential-request-v1", request).hex()}

    d, u, p = utf16("DESK-042"), utf16("j\u00fcrgen"), utf16("hunter2 \u2603")
    logon_valid = [
        {"name": "local account", "domain": "DESK-042", "user": "j\u00fcrgen", "passwordHex": p.hex(), "hex": logon(d, u, p).hex()},
        {"name": "longest of each", "domain": "D" * 255, "user": "u" * 256, "passwordHex": utf16("p" * 256).hex(),
         "hex": logon(utf16("D" * 255), utf16("u" * 256), utf16("p" * 256)).hex()},
    ]
    logon_invalid = [
        {"name": "empty", "hex": ""},
        {"name": "version 2", "hex": logon(d, u, p, 2).hex()},
        {"name": "empty domain", "hex": logon(b"", u, p).hex()},
        {"name": "empty user", "hex": logon(d, b"", p).hex()},
        {"name": "empty password", "hex": logon(d, u, b"").hex()},
        {"name": "odd user length", "hex": logon(d, u + b"a", p).hex()},
        {"name": "domain of 256 units", "hex": logon(utf16("D" * 256), u, p).hex()},
        {"name": "password of 257 units", "hex": logon(d, u, utf16("p" * 257)).hex()},
        {"name": "a U+0000 in the user", "hex": logon(d, utf16("a\x00b"), p).hex()},
        {"name": "truncated password", "hex": logon(d, u, p)[:-2].hex()},
        {"name": "a byte after the password", "hex": (logon(d, u, p) + b"\x00").hex()},
        {"name": "ends after the version", "hex": "01"},
    ]

    # A user state holding both pool formats and the password wrapped to each live PIN of the new one
    # (docs/windows.md §6.4 "At rest"): the agent must accept every PIN and open its copy with seed_c.
    sid = pin_binding["sid"]
    state_pins = ["K7QM2XHD", "7XW4T9PA", "N3RZ8B6C"]
    hkdf_pool = pin_pool(state_pins, [bytes([0x40 + c]) * 16 for c in range(3)], True)
    raw_pool = pin_pool(["RAWP1N00", "RAWP1N01"], [bytes([0x50 + c]) * 16 for c in range(2)], False)
    state_password = utf16("hunter2 \u2603")
    state_copies = []
    for c, pin in enumerate(state_pins):
        seed = bytes.fromhex(pin_key(pin, bytes([0x40 + c]) * 16, 8, 1)["credentialSeedHex"])
        binding = {"holder": "pin", "sid": sid, "generation": 2, "poolId": hkdf_pool["poolId"], "c": c}
        w = wrap("", seed, bytes(range(150 + c, 182 + c)), bytes(range(c, c + 12)), binding, state_password)
        state_copies.append({"holder": "pin", "poolId": hkdf_pool["poolId"], "c": c, "eph": b64u(bytes.fromhex(w["copy"]["ephHex"])),
                             "nonce": b64u(bytes.fromhex(w["copy"]["nonceHex"])), "ciphertext": b64u(bytes.fromhex(w["copy"]["ciphertextHex"]))})
    user_state = {
        "user": "DESK-042\\alice", "generation": 7, "wallHighWaterMs": 1795000000000, "pools": [raw_pool, hkdf_pool],
        "hammering": {"failures": 0, "disabled": False, "wrongTags": [], "delay": None},
        "windowsCredential": {"sid": sid, "domain": "DESK-042", "user": "alice", "generation": 2, "copies": state_copies},
    }
    user_state_vector = {"state": user_state, "pins": {"phone": state_pins, "old-phone": ["RAWP1N00", "RAWP1N01"]},
                         "passwordHex": state_password.hex(), "logonCredentialHex": logon(utf16("DESK-042"), utf16("alice"), state_password).hex()}

    out = {"pinKeys": pin_keys, "userState": user_state_vector, "padding": padding, "invalidBlocks": invalid_blocks, "invalidPasswords": invalid_passwords,
           "copies": copies, "invalidCopies": invalid_copies, "release": release, "credentialRequest": credential_request,
           "logonCredential": {"valid": logon_valid, "invalid": logon_invalid}}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "windows-credential.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
