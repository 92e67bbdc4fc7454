#!/usr/bin/env python3
"""Independent implementation of docs/state-files.md "User state journal" (Python, `cryptography`).

Writes state-journal.json next to this file: the keys derived from a fixed sealing key, journals
sealed with fixed nonces (a full record, then one that carries its verifiers; the same with the
Windows password's copies carried too), the wrong-PIN tags,
the journal's file name, and journals every reader must refuse. agent/state/state-journal.ts must
open what this seals, state for state, and refuse what it refuses.
    python3 test/vectors/generate-state-journal-vectors.py
"""
import base64, hashlib, hmac, json, pathlib, struct
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"LKJ1"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def hkdf(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=info).derive(master)


def seal(state_key: bytes, user: str, nonce: bytes, snapshot: dict) -> bytes:
    aad = b"latchkey-user-state/v1\x00" + user.encode()
    body = nonce + AESGCM(state_key).encrypt(nonce, json.dumps(snapshot, ensure_ascii=False).encode(), aad)
    return struct.pack(">I", len(body)) + body


def header(user: str) -> bytes:
    name = user.encode()
    return MAGIC + struct.pack(">H", len(name)) + name


def canonical_input(typed: str) -> bytes:
    """docs/offline-pins.md "What the agent accepts", alphanumeric: the tag's input, else the raw bytes."""
    raw = typed.encode()
    out = ""
    for ch in typed:
        if ch in " \t-":
            continue
        up = ch.upper()
        up = {"I": "1", "L": "1", "O": "0"}.get(up, up)
        if up not in CROCKFORD or not ch.isascii():
            return raw
        out += up
    return out.encode() if out and len(raw) <= 64 else raw


def b64(n: int, fill: int) -> str:
    return base64.b64encode(bytes([fill]) * n).decode()


def pool(next_: int, verifiers) -> dict:
    return {"authenticatorId": "phone", "poolId": "0123456789abcdef0123456789abcdef", "charset": "alphanumeric", "length": 8,
            "start": 0, "next": next_, "limit": 3, "issuedAtMs": 1795000000000, "issuedBootId": "boot-1", "issuedUptimeMs": 60000,
            "kdf": {"algorithm": "argon2id", "version": 19, "memoryKiB": 65536, "iterations": 1, "parallelism": 1}, "verifiers": verifiers}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def windows_pool(next_: int, verifiers) -> dict:
    """A pool of the argon2id-hkdf-v1 format (docs/windows.md §6.2): a credentialKey per verifier."""
    return {**pool(next_, verifiers), "poolId": "0f" * 16, "verifier": "argon2id-hkdf-v1"}


def windows_credential(generation: int, copies) -> dict:
    """docs/windows.md §6.4 "At rest": copies of fixed bytes (the journal never opens them)."""
    return {"sid": "S-1-5-21-1004336348-1177238915-682003330-1001", "domain": "DESK-042", "user": "j\u00fcrgen",
            "generation": generation, "copies": copies}


def snapshot(user: str, generation: int, pool_: dict, failures: int = 0) -> dict:
    tags = ["00112233445566778899aabbccddeeff"] if failures else []
    return {"user": user, "generation": generation, "wallHighWaterMs": 1795000000000 + generation, "pools": [pool_],
            "hammering": {"failures": failures, "disabled": False, "wrongTags": tags, "delay": None},
            "devices": [], "blePhones": [], "pendingPools": [], "recovery": None, "onlineAuthAtMs": None}


def main() -> None:
    master = bytes(range(32))
    state_key = hkdf(master, b"latchkey/user-state/v1")
    tag_key = hkdf(master, b"latchkey/wrong-pin-tag/v1")
    user = "jürgen"
    verifiers = [{"c": c, "salt": b64(16, c + 1), "hash": b64(32, c + 0x41)} for c in range(3)]
    first = snapshot(user, 1, pool(0, verifiers))
    second = snapshot(user, 2, pool(1, "previous-record"), failures=1)
    resolved = snapshot(user, 2, pool(1, verifiers[1:]), failures=1)
    nonce = lambda n: bytes([n]) * 12
    rec1 = seal(state_key, user, nonce(1), first)
    rec2 = seal(state_key, user, nonce(2), second)
    journal = header(user) + rec1 + rec2

    def flip(data: bytes, at: int) -> bytes:
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]

    invalid = [
        {"name": "a ciphertext byte flipped", "hex": flip(journal, len(journal) - 20).hex(), "error": "fails authentication"},
        {"name": "the header names another user", "hex": (header("bob") + rec1).hex(), "error": "belongs to another user"},
        {"name": "a record sealed for another user", "hex": (header(user) + seal(state_key, "bob", nonce(3), snapshot("bob", 1, pool(0, verifiers)))).hex(),
         "error": "fails authentication"},
        {"name": "a generation skipped", "hex": (header(user) + rec1 + seal(state_key, user, nonce(4), snapshot(user, 3, pool(0, verifiers)))).hex(),
         "error": "records missing or reordered"},
        {"name": "the first record carries verifiers", "hex": (header(user) + seal(state_key, user, nonce(5), snapshot(user, 1, pool(0, "previous-record")))).hex(),
         "error": "it is the first record"},
        {"name": "a record shorter than nonce, one byte and tag", "hex": (header(user) + struct.pack(">I", 28) + bytes(28)).hex(), "error": "impossible length"},
        {"name": "not a journal", "hex": (b"LKJ2" + header(user)[4:] + rec1).hex(), "error": "does not start with a Latchkey journal header"},
        {"name": "a header and no record", "hex": header(user).hex(), "error": "holds no complete record"},
    ]
    # Carried copies (docs/state-files.md "Carried copies"): a PIN accepted drops its copy, the rest carry.
    w_verifiers = [{**v, "credentialKey": b64(32, c + 0x61)} for c, v in enumerate(verifiers)]
    copies = [{"holder": "pin", "poolId": "0f" * 16, "c": c, "eph": b64u(bytes([0x10 + c]) * 32), "nonce": b64u(bytes([c]) * 12),
               "ciphertext": b64u(bytes([0x20 + c]) * 80)} for c in range(3)]
    w_first = {**snapshot(user, 1, windows_pool(0, w_verifiers)), "windowsCredential": windows_credential(2, copies)}
    w_second = {**snapshot(user, 2, windows_pool(1, "previous-record")), "windowsCredential": windows_credential(2, "previous-record")}
    w_resolved = {**snapshot(user, 2, windows_pool(1, w_verifiers[1:])), "windowsCredential": windows_credential(2, copies[1:])}
    w_journal = header(user) + seal(state_key, user, nonce(6), w_first) + seal(state_key, user, nonce(7), w_second)
    w_other_capture = {**w_second, "windowsCredential": windows_credential(3, "previous-record")}
    invalid += [
        {"name": "the first record carries copies of the Windows password",
         "hex": (header(user) + seal(state_key, user, nonce(8), {**w_first, "windowsCredential": windows_credential(2, "previous-record")})).hex(),
         "error": "the previous record does not hold"},
        {"name": "a record carries the copies of another capture",
         "hex": (header(user) + seal(state_key, user, nonce(6), w_first) + seal(state_key, user, nonce(9), w_other_capture)).hex(),
         "error": "the previous record does not hold"},
        {"name": "a copy at a spent counter",
         "hex": (header(user) + seal(state_key, user, nonce(10), {**snapshot(user, 1, windows_pool(1, w_verifiers[1:])), "windowsCredential": windows_credential(2, copies)})).hex(),
         "error": "not a live holder"},
        {"name": "two copies for one PIN",
         "hex": (header(user) + seal(state_key, user, nonce(11), {**w_first, "windowsCredential": windows_credential(2, copies + copies[:1])})).hex(),
         "error": "two copies"},
    ]

    out = {
        "description": "User state journal vectors (docs/state-files.md). Generated by generate-state-journal-vectors.py; do not edit by hand.",
        "sealingKeyHex": master.hex(),
        "stateKeyHex": state_key.hex(),
        "tagKeyHex": tag_key.hex(),
        "user": user,
        "fileName": hashlib.sha256(user.encode()).hexdigest() + ".journal",
        "headerHex": header(user).hex(),
        "journalHex": journal.hex(),
        "records": 2,
        "end": len(journal),
        "state": resolved,
        "tornTail": {"hex": (journal[:-7]).hex(), "records": 1, "end": len(header(user) + rec1),
                     "state": snapshot(user, 1, pool(0, verifiers))},
        "wrongPinTags": [{"user": u, "typed": t, "tag": hmac.new(tag_key, u.encode() + b"\x00" + canonical_input(t), hashlib.sha256).digest()[:16].hex()}
                         for u, t in [(user, "k7qm-2xhd"), (user, "K7QM2XHD"), ("bob", "K7QM2XHD"), (user, "1O1L-ILOO"), (user, "héllo wörld")]],
        "windowsJournal": {"hex": w_journal.hex(), "records": 2, "state": w_resolved},
        "invalid": invalid,
    }
    pathlib.Path(__file__).with_name("state-journal.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
