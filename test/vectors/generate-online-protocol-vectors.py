#!/usr/bin/env python3
"""Independent implementation of docs/online-protocol.md's cryptography (Python, `cryptography`).

Writes online-protocol.json: canonical JSON, signed transcripts with fixed Ed25519 keys, the
pairing key and MACs, and a sealed pool envelope the TypeScript side must open.
    python3 test/vectors/generate-online-protocol-vectors.py
"""
import base64, hashlib, hmac, json, os
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes, serialization

b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def canonical(value):
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + canonical(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(x) for x in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def transcript(label, obj):
    return (label + "\n" + canonical(obj)).encode()


def main():
    ed = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    ed_pub = ed.public_key().public_bytes(*raw)
    ed_pkcs8 = ed.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    approval = {"requestId": "ar_0123456789ABCDEFGHJKMNPQRS", "workstationId": "ws_0123456789ABCDEFGHJKMNPQRS", "user": "jürgen",
                "challenge": b64u(bytes(32)), "decision": "approve", "deviceId": "dev_0123456789ABCDEFGHJKMNPQRS", "signedAt": 1795000000000}
    policy = {"v": 1, "tenantId": "t_0123456789ABCDEFGHJKMNPQRS", "workstationId": "ws_0123456789ABCDEFGHJKMNPQRS", "version": 7, "issuedAt": 1795000000000,
              "settings": {"offlineMode": True, "pinCount": 25, "pinLength": 8, "pinCharset": "alphanumeric", "offlineAccessDays": 30, "lowPinWarnPercent": 20, "recoveryPin": False}}
    # A policy signed after pinDisplaySeconds joined the settings; the one above predates it and must still verify.
    policy_display = dict(policy, version=8, settings=dict(policy["settings"], pinDisplaySeconds=90))
    pairing_id, secret = "7K2QD", "0123456789AB"
    pairing_key = hashlib.pbkdf2_hmac("sha256", secret.encode(), ("latchkey-pairing-v1:" + pairing_id).encode(), 200000, 32)
    device_keys = {"pairingId": pairing_id, "signingKey": b64u(ed_pub), "boxKey": b64u(bytes([9] * 32)), "name": "Pixel 9"}

    box = X25519PrivateKey.from_private_bytes(bytes([7] * 32))
    box_pub = box.public_key().public_bytes(*raw)
    box_pkcs8 = box.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    eph = X25519PrivateKey.from_private_bytes(bytes([3] * 32))
    eph_pub = eph.public_key().public_bytes(*raw)
    shared = eph.exchange(box.public_key())
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + box_pub, info=b"latchkey-pool-envelope-v1").derive(shared)
    nonce = bytes([5] * 12)
    contents = {"deliveryId": "pd_0123456789ABCDEFGHJKMNPQRS", "poolId": "pool_0123456789ABCDEFGHJKMNPQRS", "workstationId": "ws_0123456789ABCDEFGHJKMNPQRS",
                "user": "alice", "seed": b64u(bytes(range(32))), "charset": "alphanumeric", "length": 8, "counter": 0, "count": 25, "issuedAt": 1795000000000}
    ciphertext = AESGCM(key).encrypt(nonce, canonical(contents).encode(), contents["deliveryId"].encode())
    unsigned = {"deliveryId": contents["deliveryId"], "deviceId": "dev_0123456789ABCDEFGHJKMNPQRS", "user": "alice", "eph": b64u(eph_pub), "nonce": b64u(nonce), "ciphertext": b64u(ciphertext)}
    envelope = dict(unsigned, v=1, signature=b64u(ed.sign(transcript("latchkey-pool-envelope-v1", unsigned))))

    # docs/windows.md §6.3, §6.5: the credential key in the pairing, a credential request, an approval with a release.
    credential_key = X25519PrivateKey.from_private_bytes(bytes([11] * 32)).public_key().public_bytes(*raw)
    keyed_device_keys = dict(device_keys, credentialKey=b64u(credential_key))
    release = {"eph": b64u(bytes([21] * 32)), "nonce": b64u(bytes([22] * 12)), "ciphertext": b64u(bytes([23] * 48))}
    approval_release = dict(approval, release=release)
    request_context = {"challenge": approval["challenge"], "user": approval["user"], "workstationId": approval["workstationId"]}
    request_body = {"requestKey": b64u(bytes([24] * 32)), "copies": [{"deviceId": approval["deviceId"], "eph": b64u(bytes([25] * 32))}]}
    request_signature = b64u(ed.sign(transcript("latchkey-credential-request-v1", dict(request_context, **request_body))))

    out = {
        "description": "docs/online-protocol.md vectors. Generated by generate-online-protocol-vectors.py; do not edit by hand.",
        "ed25519": {"pkcs8": b64u(ed_pkcs8), "publicKey": b64u(ed_pub)},
        "canonicalJson": [
            {"value": {"b": 1, "a": [True, None, "x\u00e9\u2028"], "c": {"z": 0, "y": -5}}, "canonical": canonical({"b": 1, "a": [True, None, "x\u00e9\u2028"], "c": {"z": 0, "y": -5}})},
        ],
        "approval": {"fields": approval, "signature": b64u(ed.sign(transcript("latchkey-approval-v1", approval)))},
        "policy": {"policy": policy, "signature": b64u(ed.sign(transcript("latchkey-policy-v1", policy)))},
        "policyWithDisplaySeconds": {"policy": policy_display, "signature": b64u(ed.sign(transcript("latchkey-policy-v1", policy_display)))},
        "pairing": {"pairingId": pairing_id, "secret": secret, "pairingKey": b64u(pairing_key), "deviceKeys": device_keys,
                    "deviceMac": b64u(hmac.new(pairing_key, transcript("latchkey-pairing-device-mac-v1", device_keys), hashlib.sha256).digest())},
        "pairingWithCredentialKey": {"deviceKeys": keyed_device_keys,
                    "deviceMac": b64u(hmac.new(pairing_key, transcript("latchkey-pairing-device-mac-v1", keyed_device_keys), hashlib.sha256).digest()),
                    "proof": b64u(ed.sign(transcript("latchkey-device-proof-v1", keyed_device_keys)))},
        "approvalWithRelease": {"fields": approval_release, "signature": b64u(ed.sign(transcript("latchkey-approval-v1", approval_release)))},
        "credentialRequest": {"context": request_context, "body": dict(request_body, signature=request_signature)},
        "envelope": {"boxPkcs8": b64u(box_pkcs8), "boxPublicKey": b64u(box_pub), "workstationKey": b64u(ed_pub), "envelope": envelope, "contents": contents},
    }
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "online-protocol.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
