#!/usr/bin/env python3
"""Independent encoder for docs/ipc.md frames (Python standard library only).

Writes ipc-frames.json: valid requests and replies with their meaning, and invalid frames with
the error reason the agent must answer. Used by test/protocol and, later, the C module's tests.
    python3 test/vectors/generate-ipc-frame-vectors.py
"""
import json, os, struct

TAG = {"op": 0x01, "requestId": 0x02, "user": 0x03, "pin": 0x04, "context": 0x05, "authenticator": 0x06,
       "password": 0x07, "flags": 0x08, "status": 0x10, "reason": 0x11, "message": 0x12, "remaining": 0x13,
       "low": 0x14, "retryAfter": 0x15, "offlineMode": 0x16, "usable": 0x17, "locked": 0x18, "secret": 0x19,
       "detail": 0x1A, "wait": 0x09, "pairingId": 0x0A, "url": 0x0B, "token": 0x0C, "name": 0x0D, "online": 0x1B,
       "ble": 0x1C, "generation": 0x1D, "stale": 0x1E}


def field(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + struct.pack(">H", len(value)) + value


def frame(kind: int, body: bytes, magic=b"LK", version=1, length=None) -> bytes:
    return magic + bytes([version, kind]) + struct.pack(">I", len(body) if length is None else length) + body


u8 = lambda v: bytes([v])
u32 = lambda v: struct.pack(">I", v)
txt = lambda s: s.encode("utf-8")


def req(*fields: bytes) -> str:
    return frame(1, b"".join(fields)).hex()


def main() -> None:
    F = lambda name, value: field(TAG[name], value)
    valid_requests = [
        {"name": "status", "hex": req(F("op", u8(1)), F("requestId", u32(7)), F("user", txt("alice"))),
         "request": {"op": "status", "requestId": 7, "user": "alice"}},
        {"name": "status from a lock screen", "hex": req(F("op", u8(1)), F("requestId", u32(7)), F("user", txt("alice")), F("flags", u32(2))),
         "request": {"op": "status", "requestId": 7, "user": "alice", "lockScreen": True}},
        {"name": "verify", "hex": req(F("op", u8(2)), F("requestId", u32(0xFFFFFFFF)), F("user", txt("alice")),
                                      F("pin", txt("K7QM-2XHD")), F("context", txt("pam:login"))),
         "request": {"op": "verify", "requestId": 4294967295, "user": "alice", "pinHex": txt("K7QM-2XHD").hex(), "context": "pam:login"}},
        {"name": "verify, fields in another order, no context",
         "hex": req(F("pin", txt("12345678")), F("user", txt("bob")), F("requestId", u32(1)), F("op", u8(2))),
         "request": {"op": "verify", "requestId": 1, "user": "bob", "pinHex": txt("12345678").hex(), "context": ""}},
        {"name": "enroll with authenticator", "hex": req(F("op", u8(3)), F("requestId", u32(2)), F("user", txt("alice")), F("authenticator", txt("pixel-8"))),
         "request": {"op": "enroll", "requestId": 2, "user": "alice", "authenticator": "pixel-8"}},
        {"name": "reset discarding state", "hex": req(F("op", u8(4)), F("requestId", u32(3)), F("user", txt("alice")), F("flags", u32(1))),
         "request": {"op": "reset", "requestId": 3, "user": "alice", "discardState": True}},
        {"name": "list", "hex": req(F("op", u8(5)), F("requestId", u32(4))), "request": {"op": "list", "requestId": 4}},
        {"name": "unenroll", "hex": req(F("op", u8(6)), F("requestId", u32(5)), F("user", txt("j\u00fcrgen@corp")), F("authenticator", txt("phone"))),
         "request": {"op": "unenroll", "requestId": 5, "user": "j\u00fcrgen@corp", "authenticator": "phone"}},
        {"name": "online-auth", "hex": req(F("op", u8(7)), F("requestId", u32(6)), F("user", txt("alice")), F("context", txt("pam:gdm-password")), F("wait", u32(20000))),
         "request": {"op": "online-auth", "requestId": 6, "user": "alice", "context": "pam:gdm-password", "wait": 20000}},
        {"name": "online-auth with the default wait", "hex": req(F("op", u8(7)), F("requestId", u32(7)), F("user", txt("alice"))),
         "request": {"op": "online-auth", "requestId": 7, "user": "alice", "context": "", "wait": 30000}},
        {"name": "pair", "hex": req(F("op", u8(8)), F("requestId", u32(8)), F("user", txt("alice"))), "request": {"op": "pair", "requestId": 8, "user": "alice"}},
        {"name": "pair with the user's password", "hex": req(F("op", u8(8)), F("requestId", u32(20)), F("user", txt("alice")), F("password", txt("hunter2 but longer"))),
         "request": {"op": "pair", "requestId": 20, "user": "alice", "passwordHex": txt("hunter2 but longer").hex()}},
        {"name": "pair-finish", "hex": req(F("op", u8(9)), F("requestId", u32(9)), F("user", txt("alice")), F("pairingId", txt("7K2QD")), F("wait", u32(600000))),
         "request": {"op": "pair-finish", "requestId": 9, "user": "alice", "pairingId": "7K2QD", "wait": 600000}},
        {"name": "workstation-enroll", "hex": req(F("op", u8(10)), F("requestId", u32(10)), F("url", txt("https://cc.example.test:8443")), F("token", txt("lk_install_x")), F("name", txt("ws-12"))),
         "request": {"op": "workstation-enroll", "requestId": 10, "url": "https://cc.example.test:8443", "tokenHex": txt("lk_install_x").hex(), "name": "ws-12"}},
        {"name": "ble-auth", "hex": req(F("op", u8(11)), F("requestId", u32(11)), F("user", txt("alice")), F("context", txt("pam:gdm-password")), F("wait", u32(5000))),
         "request": {"op": "ble-auth", "requestId": 11, "user": "alice", "context": "pam:gdm-password", "wait": 5000}},
        {"name": "ble-auth with the default wait", "hex": req(F("op", u8(11)), F("requestId", u32(12)), F("user", txt("alice"))),
         "request": {"op": "ble-auth", "requestId": 12, "user": "alice", "context": "", "wait": 5000}},
        {"name": "ble-pair", "hex": req(F("op", u8(12)), F("requestId", u32(13)), F("user", txt("alice"))), "request": {"op": "ble-pair", "requestId": 13, "user": "alice"}},
        {"name": "ble-pair-finish", "hex": req(F("op", u8(13)), F("requestId", u32(14)), F("user", txt("alice")), F("pairingId", txt("7K2QD")), F("wait", u32(120000))),
         "request": {"op": "ble-pair-finish", "requestId": 14, "user": "alice", "pairingId": "7K2QD", "wait": 120000}},
        {"name": "ble-unpair one phone", "hex": req(F("op", u8(14)), F("requestId", u32(15)), F("user", txt("alice")), F("authenticator", txt("ble-7K2QD"))),
         "request": {"op": "ble-unpair", "requestId": 15, "user": "alice", "authenticator": "ble-7K2QD"}},
        {"name": "ble-unpair every phone", "hex": req(F("op", u8(14)), F("requestId", u32(16)), F("user", txt("alice"))),
         "request": {"op": "ble-unpair", "requestId": 16, "user": "alice"}},
        {"name": "credential-capture", "hex": req(F("op", u8(15)), F("requestId", u32(17)), F("user", txt("DESK-042\\alice")), F("password", txt("hunter2 \u2603"))),
         "request": {"op": "credential-capture", "requestId": 17, "user": "DESK-042\\alice", "passwordHex": txt("hunter2 \u2603").hex()}},
        {"name": "credential-refused", "hex": req(F("op", u8(16)), F("requestId", u32(18)), F("user", txt("DESK-042\\alice")), F("generation", u32(3))),
         "request": {"op": "credential-refused", "requestId": 18, "user": "DESK-042\\alice", "generation": 3}},
    ]
    status_alice = [F("op", u8(1)), F("requestId", u32(9)), F("user", txt("alice"))]
    invalid_requests = [
        {"name": "bad magic", "hex": frame(1, b"".join(status_alice), magic=b"LX").hex(), "reason": "bad-frame"},
        {"name": "version 2", "hex": frame(1, b"".join(status_alice), version=2).hex(), "reason": "unsupported-version"},
        {"name": "kind reply", "hex": frame(2, b"".join(status_alice)).hex(), "reason": "bad-frame"},
        {"name": "kind 0", "hex": frame(0, b"".join(status_alice)).hex(), "reason": "bad-frame"},
        {"name": "length over the limit", "hex": frame(1, b"", length=4097).hex(), "reason": "frame-too-large"},
        {"name": "length 2^32-1", "hex": frame(1, b"", length=0xFFFFFFFF).hex(), "reason": "frame-too-large"},
        {"name": "truncated field header", "hex": req(F("op", u8(1)), b"\x02\x00"), "reason": "bad-frame"},
        {"name": "field overruns the body", "hex": req(F("op", u8(1)), b"\x03\x00\x09abc"), "reason": "bad-frame"},
        {"name": "duplicate tag", "hex": req(*status_alice, F("user", txt("bob"))), "reason": "bad-field"},
        {"name": "unknown tag", "hex": req(*status_alice, field(0x7F, b"x")), "reason": "bad-field"},
        {"name": "reply field in a request", "hex": req(*status_alice, F("status", u8(0))), "reason": "bad-field"},
        {"name": "field not allowed for the op", "hex": req(*status_alice, F("pin", txt("123456"))), "reason": "bad-field"},
        {"name": "requestId of 3 bytes", "hex": req(F("op", u8(1)), field(0x02, b"\x00\x00\x01"), F("user", txt("alice"))), "reason": "bad-field"},
        {"name": "op of 2 bytes", "hex": req(field(0x01, b"\x00\x01"), F("requestId", u32(1)), F("user", txt("alice"))), "reason": "unknown-op"},
        {"name": "invalid UTF-8 in user", "hex": req(F("op", u8(1)), F("requestId", u32(1)), F("user", b"al\xffice")), "reason": "bad-field"},
        {"name": "NUL in user", "hex": req(F("op", u8(1)), F("requestId", u32(1)), F("user", b"al\x00ice")), "reason": "bad-field"},
        {"name": "slash in user", "hex": req(F("op", u8(1)), F("requestId", u32(1)), F("user", txt("../root"))), "reason": "bad-field"},
        {"name": "empty user", "hex": req(F("op", u8(1)), F("requestId", u32(1)), F("user", b"")), "reason": "bad-field"},
        {"name": "user of 257 bytes", "hex": req(F("op", u8(1)), F("requestId", u32(1)), F("user", b"a" * 257)), "reason": "bad-field"},
        {"name": "pin of 65 bytes", "hex": req(F("op", u8(2)), F("requestId", u32(1)), F("user", txt("a")), F("pin", b"1" * 65)), "reason": "bad-field"},
        {"name": "empty pin", "hex": req(F("op", u8(2)), F("requestId", u32(1)), F("user", txt("a")), F("pin", b"")), "reason": "bad-field"},
        {"name": "authenticator with a space", "hex": req(F("op", u8(3)), F("requestId", u32(1)), F("user", txt("a")), F("authenticator", txt("my phone"))), "reason": "bad-field"},
        {"name": "status with the discard-state flag", "hex": req(*status_alice, F("flags", u32(1))), "reason": "bad-field"},
        {"name": "status with an undefined flag", "hex": req(*status_alice, F("flags", u32(4))), "reason": "bad-field"},
        {"name": "verify with flags", "hex": req(F("op", u8(2)), F("requestId", u32(1)), F("user", txt("a")), F("pin", txt("123456")), F("flags", u32(2))), "reason": "bad-field"},
        {"name": "flags with an undefined bit", "hex": req(F("op", u8(4)), F("requestId", u32(1)), F("user", txt("a")), F("flags", u32(2))), "reason": "bad-field"},
        {"name": "missing op", "hex": req(F("requestId", u32(1)), F("user", txt("a"))), "reason": "missing-field"},
        {"name": "missing requestId", "hex": req(F("op", u8(1)), F("user", txt("a"))), "reason": "missing-field"},
        {"name": "verify without pin", "hex": req(F("op", u8(2)), F("requestId", u32(1)), F("user", txt("a"))), "reason": "missing-field"},
        {"name": "op 0", "hex": req(F("op", u8(0)), F("requestId", u32(1))), "reason": "unknown-op"},
        {"name": "op 99", "hex": req(F("op", u8(99)), F("requestId", u32(1))), "reason": "unknown-op"},
        {"name": "credential-capture without a password", "hex": req(F("op", u8(15)), F("requestId", u32(1)), F("user", txt("alice"))), "reason": "missing-field"},
        {"name": "credential-refused without a generation", "hex": req(F("op", u8(16)), F("requestId", u32(1)), F("user", txt("alice"))), "reason": "missing-field"},
        {"name": "credential-refused of generation 0", "hex": req(F("op", u8(16)), F("requestId", u32(1)), F("user", txt("alice")), F("generation", u32(0))), "reason": "bad-field"},
        {"name": "op 17", "hex": req(F("op", u8(17)), F("requestId", u32(1)), F("user", txt("alice"))), "reason": "unknown-op"},
        {"name": "stale flag in a request", "hex": req(*status_alice, F("stale", u8(1))), "reason": "bad-field"},
        {"name": "ble-auth without a user", "hex": req(F("op", u8(11)), F("requestId", u32(1))), "reason": "missing-field"},
        {"name": "ble-auth with a pin", "hex": req(F("op", u8(11)), F("requestId", u32(1)), F("user", txt("a")), F("pin", txt("123456"))), "reason": "bad-field"},
        {"name": "ble-auth wait over 600 s", "hex": req(F("op", u8(11)), F("requestId", u32(1)), F("user", txt("a")), F("wait", u32(600001))), "reason": "bad-field"},
        {"name": "ble-unpair device with a space", "hex": req(F("op", u8(14)), F("requestId", u32(1)), F("user", txt("a")), F("authenticator", txt("my phone"))), "reason": "bad-field"},
        {"name": "ble flag in a request", "hex": req(*status_alice, F("ble", u8(1))), "reason": "bad-field"},
        {"name": "wait over 600 s", "hex": req(F("op", u8(7)), F("requestId", u32(1)), F("user", txt("a")), F("wait", u32(600001))), "reason": "bad-field"},
        {"name": "pairing id of 4 symbols", "hex": req(F("op", u8(9)), F("requestId", u32(1)), F("user", txt("a")), F("pairingId", txt("7K2Q"))), "reason": "bad-field"},
        {"name": "pairing id with a U", "hex": req(F("op", u8(9)), F("requestId", u32(1)), F("user", txt("a")), F("pairingId", txt("7K2QU"))), "reason": "bad-field"},
        {"name": "enroll url that is not http(s)", "hex": req(F("op", u8(10)), F("requestId", u32(1)), F("url", txt("file:///etc/passwd")), F("token", txt("t"))), "reason": "bad-field"},
        {"name": "workstation-enroll without a token", "hex": req(F("op", u8(10)), F("requestId", u32(1)), F("url", txt("https://x"))), "reason": "missing-field"},
        {"name": "pair with an empty password", "hex": req(F("op", u8(8)), F("requestId", u32(1)), F("user", txt("alice")), F("password", b"")), "reason": "bad-field"},
        {"name": "pair-finish with a password", "hex": req(F("op", u8(9)), F("requestId", u32(1)), F("user", txt("alice")), F("pairingId", txt("7K2QD")), F("password", txt("x"))), "reason": "bad-field"},
    ]
    rep = lambda *fields: frame(2, b"".join(fields)).hex()
    valid_replies = [
        {"name": "accepted", "hex": rep(F("requestId", u32(7)), F("status", u8(1)),
                                        F("message", txt("Unlocked \u2014 24 offline PINs left.")), F("remaining", u32(24)), F("low", u8(0))),
         "reply": {"requestId": 7, "status": "accepted", "message": "Unlocked \u2014 24 offline PINs left.", "remaining": 24, "low": False}},
        {"name": "locked", "hex": rep(F("requestId", u32(8)), F("status", u8(3)), F("reason", txt("hammering-delay")),
                                      F("message", txt("Too many attempts \u2014 try again in 5 minutes.")), F("retryAfter", u32(300))),
         "reply": {"requestId": 8, "status": "locked", "reason": "hammering-delay", "message": "Too many attempts \u2014 try again in 5 minutes.", "retryAfter": 300}},
        {"name": "status", "hex": rep(F("requestId", u32(9)), F("status", u8(0)), F("offlineMode", u8(1)), F("usable", u8(1)),
                                      F("remaining", u32(3)), F("low", u8(1)), F("locked", u8(0))),
         "reply": {"requestId": 9, "status": "ok", "offlineMode": True, "usable": True, "remaining": 3, "low": True, "locked": False}},
        {"name": "status with online sign-in possible", "hex": rep(F("requestId", u32(11)), F("status", u8(0)), F("offlineMode", u8(1)), F("online", u8(1)), F("usable", u8(0)),
                                      F("remaining", u32(0)), F("low", u8(0)), F("locked", u8(0)), F("reason", txt("no-pool"))),
         "reply": {"requestId": 11, "status": "ok", "offlineMode": True, "online": True, "usable": False, "remaining": 0, "low": False, "locked": False, "reason": "no-pool"}},
        {"name": "status with a BLE unlock possible", "hex": rep(F("requestId", u32(13)), F("status", u8(0)), F("offlineMode", u8(1)), F("online", u8(0)), F("ble", u8(1)),
                                      F("usable", u8(1)), F("remaining", u32(5)), F("low", u8(0)), F("locked", u8(0))),
         "reply": {"requestId": 13, "status": "ok", "offlineMode": True, "online": False, "ble": True, "usable": True, "remaining": 5, "low": False, "locked": False}},
        {"name": "rate-limited, with when to come back", "hex": rep(F("requestId", u32(15)), F("status", u8(5)), F("reason", txt("rate-limited")), F("retryAfter", u32(1)), F("message", txt("too many requests from uid 1002; try again in 1 s"))),
         "reply": {"requestId": 15, "status": "error", "reason": "rate-limited", "retryAfter": 1, "message": "too many requests from uid 1002; try again in 1 s"}},
        {"name": "status with the saved Windows password refused", "hex": rep(F("requestId", u32(16)), F("status", u8(0)), F("offlineMode", u8(1)), F("usable", u8(1)), F("stale", u8(1)),
                                      F("message", txt("Windows did not accept your saved password \u2014 sign in with your password once."))),
         "reply": {"requestId": 16, "status": "ok", "offlineMode": True, "usable": True, "stale": True,
                   "message": "Windows did not accept your saved password \u2014 sign in with your password once."}},
        {"name": "verify accepted with a credential of generation 2", "hex": rep(F("requestId", u32(17)), F("status", u8(1)), F("generation", u32(2)), F("remaining", u32(4))),
         "reply": {"requestId": 17, "status": "accepted", "generation": 2, "remaining": 4}},
        {"name": "ble-auth too late", "hex": rep(F("requestId", u32(14)), F("status", u8(2)), F("reason", txt("too-late")), F("message", txt("Your phone answered too late \u2014 type an offline PIN or your password."))),
         "reply": {"requestId": 14, "status": "rejected", "reason": "too-late", "message": "Your phone answered too late \u2014 type an offline PIN or your password."}},
        {"name": "ble-auth unavailable, no phone answered", "hex": rep(F("requestId", u32(15)), F("status", u8(4)), F("reason", txt("timeout"))),
         "reply": {"requestId": 15, "status": "unavailable", "reason": "timeout"}},
        {"name": "online-auth denied", "hex": rep(F("requestId", u32(12)), F("status", u8(2)), F("reason", txt("denied")), F("message", txt("The sign-in was denied on your phone."))),
         "reply": {"requestId": 12, "status": "rejected", "reason": "denied", "message": "The sign-in was denied on your phone."}},
        {"name": "unknown status fails closed", "hex": rep(F("requestId", u32(1)), F("status", u8(42))),
         "reply": {"requestId": 1, "status": "error", "reason": "internal-error"}},
        {"name": "unknown reason fails closed", "hex": rep(F("requestId", u32(1)), F("status", u8(2)), F("reason", txt("new-reason"))),
         "reply": {"requestId": 1, "status": "rejected", "reason": "internal-error"}},
    ]
    invalid_replies = [
        {"name": "no status", "hex": rep(F("requestId", u32(1))), "reason": "missing-field"},
        {"name": "online flag of 2", "hex": rep(F("requestId", u32(1)), F("status", u8(0)), F("online", u8(2))), "reason": "bad-field"},
        {"name": "ble flag of 2", "hex": rep(F("requestId", u32(1)), F("status", u8(0)), F("ble", u8(2))), "reason": "bad-field"},
        {"name": "ble flag of 2 bytes", "hex": rep(F("requestId", u32(1)), F("status", u8(0)), field(0x1C, b"\x00\x01")), "reason": "bad-field"},
        {"name": "stale flag of 2", "hex": rep(F("requestId", u32(1)), F("status", u8(0)), F("stale", u8(2))), "reason": "bad-field"},
        {"name": "generation 0 in a reply", "hex": rep(F("requestId", u32(1)), F("status", u8(1)), F("generation", u32(0))), "reason": "bad-field"},
        {"name": "low flag of 2", "hex": rep(F("requestId", u32(1)), F("status", u8(1)), F("low", u8(2))), "reason": "bad-field"},
        {"name": "remaining of 2 bytes", "hex": rep(F("requestId", u32(1)), F("status", u8(1)), field(0x13, b"\x00\x01")), "reason": "bad-field"},
        {"name": "request field in a reply", "hex": rep(F("requestId", u32(1)), F("status", u8(1)), F("pin", b"1234")), "reason": "bad-field"},
        {"name": "message of 513 bytes", "hex": rep(F("requestId", u32(1)), F("status", u8(1)), F("message", b"a" * 513)), "reason": "bad-field"},
        {"name": "reply frame kind request", "hex": frame(1, field(TAG["requestId"], u32(1)) + field(TAG["status"], u8(1))).hex(), "reason": "bad-frame"},
    ]
    out = {"description": "IPC frames (docs/ipc.md). Generated by generate-ipc-frame-vectors.py; do not edit by hand.",
           "validRequests": valid_requests, "invalidRequests": invalid_requests,
           "validReplies": valid_replies, "invalidReplies": invalid_replies}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ipc-frames.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
