#!/usr/bin/env python3
"""Independent implementation of docs/ble-protocol.md (latchkey-ble/1), Python standard library only.

X25519 (RFC 7748), Ed25519 (RFC 8032 §6), ChaCha20-Poly1305 (RFC 8439) and HKDF (RFC 5869) are
written here from the RFCs, checked against the RFCs' own test vectors, and used to produce
ble-protocol.json: rotating tags, fragmentations, invalid fragment sequences, one full handshake
from fixed seeds, and invalid handshake inputs with the code each side must answer.
    python3 test/vectors/generate-ble-protocol-vectors.py
"""
import hashlib, hmac, json, os, struct

# ---------------------------------------------------------------- RFC 7748 X25519
P = 2**255 - 19


def x25519(k: bytes, u: bytes) -> bytes:
    k = bytearray(k)
    k[0] &= 248; k[31] &= 127; k[31] |= 64
    scalar = int.from_bytes(k, "little")
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = x2 + z2, x2 - z2
        aa, bb = a * a % P, b * b % P
        e = aa - bb
        c, d = x3 + z3, x3 - z3
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + 121665 * e) % P
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def x25519_public(k: bytes) -> bytes:
    return x25519(k, (9).to_bytes(32, "little"))


# ---------------------------------------------------------------- RFC 8032 §6 Ed25519
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _add(p1, p2):
    a, b = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P, (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    c, d = 2 * p1[3] * p2[3] * D % P, 2 * p1[2] * p2[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f, g * h, f * g, e * h)


def _mul(s, pt):
    acc = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        s >>= 1
    return acc


def _compress(pt):
    zinv = pow(pt[2], P - 2, P)
    x, y = pt[0] * zinv % P, pt[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def _hq(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % Q


def ed25519_public(seed: bytes) -> bytes:
    return _compress(_mul(_expand(seed)[0], G))


def ed25519_sign(seed: bytes, msg: bytes) -> bytes:
    a, prefix = _expand(seed)
    pub = _compress(_mul(a, G))
    r = _hq(prefix + msg)
    rs = _compress(_mul(r, G))
    s = (r + _hq(rs + pub + msg) * a) % Q
    return rs + s.to_bytes(32, "little")


# ---------------------------------------------------------------- RFC 8439 ChaCha20-Poly1305
def _rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 7)


def _chacha_block(key, counter, nonce):
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574] + list(struct.unpack("<8I", key)) + [counter] + list(struct.unpack("<3I", nonce))
    w = state[:]
    for _ in range(10):
        _qr(w, 0, 4, 8, 12); _qr(w, 1, 5, 9, 13); _qr(w, 2, 6, 10, 14); _qr(w, 3, 7, 11, 15)
        _qr(w, 0, 5, 10, 15); _qr(w, 1, 6, 11, 12); _qr(w, 2, 7, 8, 13); _qr(w, 3, 4, 9, 14)
    return struct.pack("<16I", *[(w[i] + state[i]) & 0xFFFFFFFF for i in range(16)])


def _chacha20(key, counter, nonce, data):
    out = bytearray()
    for block in range(0, len(data), 64):
        stream = _chacha_block(key, counter + block // 64, nonce)
        out += bytes(x ^ y for x, y in zip(data[block:block + 64], stream))
    return bytes(out)


def _poly1305(key, msg):
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    acc, p = 0, (1 << 130) - 5
    for i in range(0, len(msg), 16):
        n = int.from_bytes(msg[i:i + 16] + b"\x01", "little")
        acc = (acc + n) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _pad16(b):
    return b"\x00" * (-len(b) % 16)


def aead_seal(key, nonce, aad, plaintext):
    otk = _chacha_block(key, 0, nonce)[:32]
    ct = _chacha20(key, 1, nonce, plaintext)
    mac = aad + _pad16(aad) + ct + _pad16(ct) + struct.pack("<QQ", len(aad), len(ct))
    return ct + _poly1305(otk, mac)


def nonce_for(counter):
    return b"\x00" * 4 + struct.pack(">Q", counter)


# ---------------------------------------------------------------- RFC 5869 HKDF-SHA-256
def hkdf(ikm, salt, info, length):
    prk = hmac.new(salt if salt else b"\x00" * 32, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def sha256(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def self_check():
    # RFC 7748 §6.1
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    assert x25519_public(a).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert x25519(a, x25519_public(b)).hex() == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    # RFC 8032 §7.1 TEST 1
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert ed25519_public(seed).hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert ed25519_sign(seed, b"").hex().startswith("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b")
    # RFC 8439 §2.8.2
    key = bytes(range(0x80, 0xA0))
    sealed = aead_seal(key, bytes.fromhex("070000004041424344454647"), bytes.fromhex("50515253c0c1c2c3c4c5c6c7"),
                       b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
    assert sealed[:8].hex() == "d31a8d34648e60db" and sealed[-16:].hex() == "1ae10b594f09e26a7e902ecbd0600691"
    # RFC 5869 A.1
    okm = hkdf(bytes([0x0B] * 22), bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex().startswith("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


# ---------------------------------------------------------------- latchkey-ble/1
LABEL = b"latchkey-ble/1"
VERSION = 1
T = {"hello": 1, "ready": 2, "challenge": 3, "proof": 4, "verdict": 5, "pairHello": 0x11, "pairReady": 0x12, "pairConfirm": 0x13, "pairDone": 0x14, "error": 0x7F}
MAX_MESSAGE = 512


def hdr(t):
    return bytes([VERSION, T[t]])


def tag_key(pk):
    return hkdf(pk, b"", LABEL + b" tag", 32)


def session_salt(pk):
    return hkdf(pk, b"", LABEL + b" session", 32)


def tag(pk, slot):
    return hmac.new(tag_key(pk), struct.pack(">Q", slot), hashlib.sha256).digest()[:16]


def manufacturer_data(t):
    return b"\xff\xff" + b"LK\x01" + t


def advertising_data(t):
    md = manufacturer_data(t)
    return b"\x02\x01\x06" + bytes([1 + len(md), 0xFF]) + md


def fragment(message, message_id, mtu):
    limit = min(mtu - 3, 512)
    out, offset, index = [], 0, 0
    while offset < len(message):
        head = bytes([message_id, index]) + (struct.pack(">H", len(message)) if index == 0 else b"")
        take = min(limit - len(head), len(message) - offset)
        out.append(head + message[offset:offset + take])
        offset += take
        index += 1
    return out


def keys(ss, pk, hello, eph_p):
    okm = hkdf(ss, session_salt(pk), LABEL + b" keys" + sha256(hello, eph_p), 64)
    return okm[:32], okm[32:]


def build_hello(ikw, ikp_pub, t, eph_w_priv, request=1):
    prefix = hdr("hello") + bytes([request]) + t + x25519_public(eph_w_priv)
    sig = ed25519_sign(ikw, LABEL + b" hello" + ed25519_public(ikw) + ikp_pub + prefix)
    return prefix + sig


def build_ready(kp2w, eph_p_pub, status):
    aad = hdr("ready") + eph_p_pub
    return aad + aead_seal(kp2w, nonce_for(0), aad, bytes([status]))


def seal_message(t, key, counter, pt):
    return hdr(t) + aead_seal(key, nonce_for(counter), hdr(t), pt)


# ---------------------------------------------------------------- §12 pairing over BLE
def code_key(pairing_id, secret):
    return hashlib.pbkdf2_hmac("sha256", secret.encode(), b"latchkey-pairing-v1:" + pairing_id.encode(), 200_000, 32)


def pair_tag(pairing_id, slot):
    key = hkdf(pairing_id.encode(), b"", LABEL + b" pair tag", 32)
    return hmac.new(key, struct.pack(">Q", slot), hashlib.sha256).digest()[:16]


def name_field(name):
    raw = name.encode()
    assert len(raw) <= 64
    return raw + b"\x00" * (64 - len(raw))


class Pairing:
    """One pairing exchange from fixed inputs (docs/ble-protocol.md §12.1-12.2)."""

    def __init__(self, ck, pairing_id, slot, ikw, ikp, eph_w, eph_p, ws_name, phone_name, credential_key=b""):
        self.ck = ck
        self.salt = hkdf(ck, b"", LABEL + b" pair session", 32)
        self.mac_key = hkdf(ck, b"", LABEL + b" pair mac", 32)
        self.hello = hdr("pairHello") + pair_tag(pairing_id, slot) + x25519_public(eph_w)
        eph_p_pub = x25519_public(eph_p)
        self.ss = x25519(eph_p, x25519_public(eph_w))
        self.th1 = sha256(self.hello, eph_p_pub)
        okm = hkdf(self.ss, self.salt, LABEL + b" pair keys" + self.th1, 64)
        self.kw2p, self.kp2w = okm[:32], okm[32:]
        pn = name_field(phone_name)
        # docs/windows.md §6.3: the phone's credential key, when it sends one, follows the name.
        payload_p = LABEL + b" pair phone" + self.th1 + ed25519_public(ikp) + pn + credential_key
        self.mac_p = hmac.new(self.mac_key, payload_p, hashlib.sha256).digest()
        aad = hdr("pairReady") + eph_p_pub
        self.ready = aad + aead_seal(self.kp2w, nonce_for(0), aad, ed25519_public(ikp) + self.mac_p + ed25519_sign(ikp, payload_p) + pn + credential_key)
        self.th2 = sha256(self.hello, self.ready)
        wn = name_field(ws_name)
        self.payload_w = LABEL + b" pair workstation" + self.th2 + ed25519_public(ikw) + ed25519_public(ikp) + wn
        self.mac_w = hmac.new(self.mac_key, self.payload_w, hashlib.sha256).digest()
        self.confirm = self.seal_confirm(ed25519_public(ikw) + self.mac_w + ed25519_sign(ikw, self.payload_w) + wn)
        self.pairing_key = hkdf(self.ss, ck, LABEL + b" pairing key" + sha256(self.hello, self.ready, self.confirm), 32)
        self.done = seal_message("pairDone", self.kp2w, 1, b"\x00")

    def seal_confirm(self, plaintext):
        return seal_message("pairConfirm", self.kw2p, 0, plaintext)


def seed(label):
    return sha256(b"latchkey ble vectors: " + label.encode())


def main():
    self_check()
    hx = lambda b: b.hex()
    unix_ms = 1_800_000_000_000
    slot = unix_ms // 1000 // 600

    # --- tags
    tags = []
    for label, s in [("pairing-a", slot), ("pairing-a", slot + 1), ("pairing-b", slot), ("pairing-b", 0)]:
        pk = seed(label)
        t = tag(pk, s)
        tags.append({"pairingKey": hx(pk), "tagKey": hx(tag_key(pk)), "sessionSalt": hx(session_salt(pk)), "slot": s,
                     "tag": hx(t), "manufacturerData": hx(manufacturer_data(t)), "advertisingData": hx(advertising_data(t))})

    # --- handshake from fixed seeds
    pk, ikw, ikp = seed("pairing-a"), seed("workstation identity"), seed("phone identity")
    ikw_pub, ikp_pub = ed25519_public(ikw), ed25519_public(ikp)
    eph_w, eph_p, challenge = seed("workstation ephemeral"), seed("phone ephemeral"), seed("challenge")
    t = tag(pk, slot)
    hello = build_hello(ikw, ikp_pub, t, eph_w)
    eph_p_pub = x25519_public(eph_p)
    ss = x25519(eph_w, eph_p_pub)
    assert ss == x25519(eph_p, x25519_public(eph_w))
    kw2p, kp2w = keys(ss, pk, hello, eph_p_pub)
    ready = build_ready(kp2w, eph_p_pub, 0)
    chal = seal_message("challenge", kw2p, 0, challenge)
    sig_p = ed25519_sign(ikp, LABEL + b" proof" + ikp_pub + ikw_pub + sha256(hello, ready, chal) + challenge)
    proof = seal_message("proof", kp2w, 1, sig_p)
    verdict = seal_message("verdict", kw2p, 1, b"\x00")
    handshake = {
        "unixMs": unix_ms, "slot": slot, "pairingKey": hx(pk),
        "workstationSeed": hx(ikw), "workstationPublicKey": hx(ikw_pub), "phoneSeed": hx(ikp), "phonePublicKey": hx(ikp_pub),
        "workstationEphemeralPrivate": hx(eph_w), "workstationEphemeralPublic": hx(x25519_public(eph_w)),
        "phoneEphemeralPrivate": hx(eph_p), "phoneEphemeralPublic": hx(eph_p_pub), "challenge": hx(challenge),
        "tag": hx(t), "sharedSecret": hx(ss), "th1": hx(sha256(hello, eph_p_pub)), "kW2P": hx(kw2p), "kP2W": hx(kp2w),
        "hello": hx(hello), "ready": hx(ready), "challengeMessage": hx(chal), "proofSignature": hx(sig_p), "proof": hx(proof), "verdict": hx(verdict),
        "verdictTooWeak": hx(seal_message("verdict", kw2p, 1, b"\x03")), "verdictBadProof": hx(seal_message("verdict", kw2p, 1, b"\x01")),
    }

    flip = lambda b, i: b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]
    other = seed("another workstation identity")
    other_phone = seed("another phone identity")
    other_pk = seed("pairing-b")
    # A READY for a different HELLO (other ephW): replayed from another session.
    hello2 = build_hello(ikw, ikp_pub, t, seed("workstation ephemeral 2"))
    k2 = keys(x25519(eph_p, x25519_public(seed("workstation ephemeral 2"))), pk, hello2, eph_p_pub)
    proof_other_phone = seal_message("proof", kp2w, 1, ed25519_sign(other_phone, LABEL + b" proof" + ikp_pub + ikw_pub + sha256(hello, ready, chal) + challenge))
    invalid = [
        # the phone receives a HELLO (state listening)
        {"name": "hello with a flipped signature byte", "side": "phone", "after": [], "input": hx(flip(hello, 80)), "code": "bad-signature"},
        {"name": "hello with a flipped tag byte", "side": "phone", "after": [], "input": hx(flip(hello, 5)), "code": "unknown-tag"},
        {"name": "hello with a tag two slots old", "side": "phone", "after": [], "input": hx(build_hello(ikw, ikp_pub, tag(pk, slot - 2), eph_w)), "code": "unknown-tag"},
        {"name": "hello with the tag of an unknown pairing key", "side": "phone", "after": [], "input": hx(build_hello(ikw, ikp_pub, tag(other_pk, slot), eph_w)), "code": "unknown-tag"},
        {"name": "hello signed by an unpaired workstation", "side": "phone", "after": [], "input": hx(build_hello(other, ikp_pub, t, eph_w)), "code": "bad-signature"},
        {"name": "hello asking for another request kind", "side": "phone", "after": [], "input": hx(build_hello(ikw, ikp_pub, t, eph_w, request=3)), "code": "unsupported-request"},
        {"name": "hello asking for a release (0x02) without the copy's eph", "side": "phone", "after": [], "input": hx(build_hello(ikw, ikp_pub, t, eph_w, request=2)), "code": "message-malformed"},
        {"name": "hello of protocol version 2", "side": "phone", "after": [], "input": hx(b"\x02" + hello[1:]), "code": "message-malformed"},
        {"name": "hello one byte short", "side": "phone", "after": [], "input": hx(hello[:-1]), "code": "message-malformed"},
        {"name": "unknown message type", "side": "phone", "after": [], "input": hx(b"\x01\x09" + hello[2:]), "code": "message-malformed"},
        {"name": "challenge before hello", "side": "phone", "after": [], "input": hx(chal), "code": "unexpected-message"},
        {"name": "error from the workstation", "side": "phone", "after": [], "input": hx(hdr("error") + b"\x05"), "code": "peer-error"},
        # the phone, after HELLO and approval (state ready-sent)
        {"name": "challenge with a flipped byte", "side": "phone", "after": ["hello", "approve"], "input": hx(flip(chal, 10)), "code": "decrypt-failed"},
        {"name": "verdict before challenge (reordered)", "side": "phone", "after": ["hello", "approve"], "input": hx(verdict), "code": "unexpected-message"},
        {"name": "hello again on the same session", "side": "phone", "after": ["hello", "approve"], "input": hx(hello), "code": "unexpected-message"},
        # the workstation, after HELLO (state hello-sent)
        {"name": "ready with a flipped ciphertext byte", "side": "workstation", "after": ["hello"], "input": hx(flip(ready, 40)), "code": "decrypt-failed"},
        {"name": "ready with a flipped ephemeral key byte", "side": "workstation", "after": ["hello"], "input": hx(flip(ready, 3)), "code": "decrypt-failed"},
        {"name": "ready replayed from another session", "side": "workstation", "after": ["hello"], "input": hx(build_ready(k2[1], eph_p_pub, 0)), "code": "decrypt-failed"},
        {"name": "ready with an all-zero ephemeral key", "side": "workstation", "after": ["hello"], "input": hx(hdr("ready") + b"\x00" * 49), "code": "bad-key"},
        {"name": "ready saying the user declined", "side": "workstation", "after": ["hello"], "input": hx(build_ready(kp2w, eph_p_pub, 1)), "code": "declined"},
        {"name": "ready saying the user did not answer", "side": "workstation", "after": ["hello"], "input": hx(build_ready(kp2w, eph_p_pub, 2)), "code": "approval-timeout"},
        {"name": "proof before ready (reordered)", "side": "workstation", "after": ["hello"], "input": hx(proof), "code": "unexpected-message"},
        {"name": "error from the phone", "side": "workstation", "after": ["hello"], "input": hx(hdr("error") + b"\x01"), "code": "peer-error"},
        # the workstation, after READY (state challenge-sent)
        {"name": "proof with a flipped byte", "side": "workstation", "after": ["hello", "ready"], "input": hx(flip(proof, 30)), "code": "decrypt-failed"},
        {"name": "proof signed by an unpaired phone that knows the pairing key", "side": "workstation", "after": ["hello", "ready"], "input": hx(proof_other_phone), "code": "bad-signature"},
        {"name": "ready replayed in place of proof", "side": "workstation", "after": ["hello", "ready"], "input": hx(ready), "code": "unexpected-message"},
        {"name": "proof sealed with counter 0 (reordered counters)", "side": "workstation", "after": ["hello", "ready"], "input": hx(seal_message("proof", kp2w, 0, sig_p)), "code": "decrypt-failed"},
    ]

    # --- framing
    fragments = []
    for mtu in [23, 24, 27, 64, 122, 185, 247, 517]:
        fragments.append({"name": f"hello at ATT_MTU {mtu}", "mtu": mtu, "messageId": 0, "message": hx(hello), "fragments": [hx(f) for f in fragment(hello, 0, mtu)]})
    for name, msg, mid in [("ready", ready, 0), ("challenge", chal, 1), ("proof", proof, 1), ("verdict", verdict, 2)]:
        fragments.append({"name": f"{name} at ATT_MTU 23", "mtu": 23, "messageId": mid, "message": hx(msg), "fragments": [hx(f) for f in fragment(msg, mid, 23)]})
    biggest = bytes((i * 7) & 0xFF for i in range(MAX_MESSAGE))
    fragments.append({"name": "a 512-byte message at ATT_MTU 23", "mtu": 23, "messageId": 255, "message": hx(biggest), "fragments": [hx(f) for f in fragment(biggest, 255, 23)]})
    fragments.append({"name": "a 2-byte message", "mtu": 23, "messageId": 0, "message": "0105", "fragments": [hx(f) for f in fragment(b"\x01\x05", 0, 23)]})

    h = fragment(hello, 0, 23)
    r1 = fragment(ready, 1, 23)
    invalid_fragments = [
        {"name": "gap: fragment 2 after fragment 0", "mtu": 23, "fragments": [hx(h[0]), hx(h[2])], "failsAt": 1, "code": "fragment-gap"},
        {"name": "first fragment index 1", "mtu": 23, "fragments": [hx(h[1])], "failsAt": 0, "code": "fragment-gap"},
        {"name": "duplicate fragment 1", "mtu": 23, "fragments": [hx(h[0]), hx(h[1]), hx(h[1])], "failsAt": 2, "code": "fragment-duplicate"},
        {"name": "fragment 0 again mid-message", "mtu": 23, "fragments": [hx(h[0]), hx(h[1]), hx(h[0])], "failsAt": 2, "code": "fragment-duplicate"},
        {"name": "message 1 before message 0", "mtu": 23, "fragments": [hx(r1[0])], "failsAt": 0, "code": "message-out-of-order"},
        {"name": "message 0 replayed after it completed", "mtu": 23, "fragments": [hx(f) for f in h] + [hx(h[0])], "failsAt": len(h), "code": "message-out-of-order"},
        {"name": "two messages interleaved", "mtu": 23, "fragments": [hx(h[0]), hx(fragment(ready, 1, 23)[0])], "failsAt": 1, "code": "message-out-of-order"},
        {"name": "fragment longer than ATT_MTU - 3", "mtu": 23, "fragments": [hx(b"\x00\x00\x00\x10" + b"\x01" * 17)], "failsAt": 0, "code": "fragment-too-large"},
        {"name": "declared length 513", "mtu": 23, "fragments": [hx(b"\x00\x00\x02\x01" + b"\x01" * 16)], "failsAt": 0, "code": "message-too-large"},
        {"name": "declared length 65535", "mtu": 23, "fragments": [hx(b"\x00\x00\xff\xff\x01")], "failsAt": 0, "code": "message-too-large"},
        {"name": "one-byte fragment", "mtu": 23, "fragments": ["00"], "failsAt": 0, "code": "fragment-malformed"},
        {"name": "empty fragment", "mtu": 23, "fragments": [""], "failsAt": 0, "code": "fragment-malformed"},
        {"name": "first fragment without room for the length", "mtu": 23, "fragments": ["000000"], "failsAt": 0, "code": "fragment-malformed"},
        {"name": "first fragment without payload", "mtu": 23, "fragments": ["00000010"], "failsAt": 0, "code": "fragment-malformed"},
        {"name": "declared length 1", "mtu": 23, "fragments": ["0000000101"], "failsAt": 0, "code": "fragment-malformed"},
        {"name": "continuation without payload", "mtu": 23, "fragments": [hx(h[0]), "0001"], "failsAt": 1, "code": "fragment-malformed"},
        {"name": "payload beyond the declared length", "mtu": 23, "fragments": ["00000005010203", "0001040506"], "failsAt": 1, "code": "message-overrun"},
        {"name": "single fragment longer than declared", "mtu": 23, "fragments": ["00000002010203"], "failsAt": 0, "code": "message-overrun"},
    ]

    # --- pairing over BLE (§12) from fixed inputs
    pairing_id, secret = "7K2QD", "ABCDEFGH1234"
    ck = code_key(pairing_id, secret)
    p_ikw, p_ikp = seed("pairing workstation identity"), seed("pairing phone identity")
    p_eph_w, p_eph_p = seed("pairing workstation ephemeral"), seed("pairing phone ephemeral")
    pr = Pairing(ck, pairing_id, slot, p_ikw, p_ikp, p_eph_w, p_eph_p, "alice on ws-1", "Alice phone")
    wrong = Pairing(code_key(pairing_id, "ABCDEFGH1235"), pairing_id, slot, p_ikw, p_ikp, p_eph_w, p_eph_p, "alice on ws-1", "Alice phone")
    pairing = {
        "unixMs": unix_ms, "slot": slot, "pairingId": pairing_id, "secret": secret, "codeKey": hx(ck),
        "pairTag": hx(pair_tag(pairing_id, slot)), "pairSalt": hx(pr.salt), "macKey": hx(pr.mac_key),
        "workstationSeed": hx(p_ikw), "workstationPublicKey": hx(ed25519_public(p_ikw)), "phoneSeed": hx(p_ikp), "phonePublicKey": hx(ed25519_public(p_ikp)),
        "workstationEphemeralPrivate": hx(p_eph_w), "phoneEphemeralPrivate": hx(p_eph_p),
        "workstationName": "alice on ws-1", "phoneName": "Alice phone",
        "sharedSecret": hx(pr.ss), "th1": hx(pr.th1), "kW2P": hx(pr.kw2p), "kP2W": hx(pr.kp2w), "macP": hx(pr.mac_p), "macW": hx(pr.mac_w),
        "pairHello": hx(pr.hello), "pairReady": hx(pr.ready), "pairConfirm": hx(pr.confirm), "pairDone": hx(pr.done),
        "pairDoneNotStored": hx(seal_message("pairDone", pr.kp2w, 1, b"\x01")), "pairingKey": hx(pr.pairing_key),
    }
    other_ikw = seed("another pairing workstation identity")
    wn = name_field("alice on ws-1")
    forged_sig = pr.seal_confirm(ed25519_public(p_ikw) + pr.mac_w + ed25519_sign(other_ikw, pr.payload_w) + wn)
    bad_mac = pr.seal_confirm(ed25519_public(p_ikw) + bytes(32) + ed25519_sign(p_ikw, pr.payload_w) + wn)
    dirty_name = pr.seal_confirm(ed25519_public(p_ikw) + pr.mac_w + ed25519_sign(p_ikw, pr.payload_w) + b"ws\x07" + bytes(61))
    invalid_pairing = [
        # the workstation, after PAIR-HELLO (state hello-sent)
        {"name": "pair-ready from a phone given a wrong secret", "side": "workstation", "after": ["hello"], "input": hx(wrong.ready), "code": "pairing-mismatch"},
        {"name": "pair-ready with a flipped ciphertext byte", "side": "workstation", "after": ["hello"], "input": hx(flip(pr.ready, 100)), "code": "pairing-mismatch"},
        {"name": "pair-ready with an all-zero ephemeral key", "side": "workstation", "after": ["hello"], "input": hx(hdr("pairReady") + bytes(240)), "code": "bad-key"},
        {"name": "pair-done before pair-ready (reordered)", "side": "workstation", "after": ["hello"], "input": hx(pr.done), "code": "unexpected-message"},
        {"name": "error 0x08 from the phone", "side": "workstation", "after": ["hello"], "input": hx(hdr("error") + b"\x08"), "code": "peer-error"},
        # the workstation, after PAIR-READY (state confirm-sent)
        {"name": "pair-done saying the phone could not store it", "side": "workstation", "after": ["hello", "ready"], "input": hx(seal_message("pairDone", pr.kp2w, 1, b"\x01")), "code": "pairing-not-stored"},
        {"name": "pair-done sealed with counter 0", "side": "workstation", "after": ["hello", "ready"], "input": hx(seal_message("pairDone", pr.kp2w, 0, b"\x00")), "code": "pairing-mismatch"},
        # the phone (state listening)
        {"name": "pair-hello with another pairing id's tag", "side": "phone", "after": [], "input": hx(hdr("pairHello") + pair_tag("7K2QE", slot) + x25519_public(p_eph_w)), "code": "unknown-tag"},
        {"name": "pair-hello with a tag two slots old", "side": "phone", "after": [], "input": hx(hdr("pairHello") + pair_tag(pairing_id, slot - 2) + x25519_public(p_eph_w)), "code": "unknown-tag"},
        {"name": "an unlock hello to a phone waiting to pair", "side": "phone", "after": [], "input": hx(hello), "code": "unexpected-message"},
        # the phone, after PAIR-READY (state ready-sent)
        {"name": "pair-confirm from a workstation given a wrong secret", "side": "phone", "after": ["hello"], "input": hx(wrong.confirm), "code": "pairing-mismatch"},
        {"name": "pair-confirm with a MAC that does not verify", "side": "phone", "after": ["hello"], "input": hx(bad_mac), "code": "pairing-mismatch"},
        {"name": "pair-confirm signed by another key than the one it offers", "side": "phone", "after": ["hello"], "input": hx(forged_sig), "code": "bad-signature"},
        {"name": "pair-confirm with a control character in the name", "side": "phone", "after": ["hello"], "input": hx(dirty_name), "code": "message-malformed"},
        {"name": "pair-confirm one byte short", "side": "phone", "after": ["hello"], "input": hx(pr.confirm[:-1]), "code": "message-malformed"},
    ]

    # --- the credential key in pairing, and a release (docs/windows.md §6.3, §6.5)
    ck_priv = seed("credential key")
    ck_pub = x25519_public(ck_priv)
    keyed = Pairing(ck, pairing_id, slot, p_ikw, p_ikp, p_eph_w, p_eph_p, "alice on ws-1", "Alice phone", ck_pub)
    pairing_with_key = {
        "credentialKeyPrivate": hx(ck_priv), "credentialKey": hx(ck_pub), "macP": hx(keyed.mac_p),
        "pairReady": hx(keyed.ready), "pairConfirm": hx(keyed.confirm), "pairDone": hx(keyed.done), "pairingKey": hx(keyed.pairing_key),
        # The same PAIR-READY with its CK cut off: the MAC no longer covers what is sent.
        "pairReadyKeyDropped": hx(Pairing(ck, pairing_id, slot, p_ikw, p_ikp, p_eph_w, p_eph_p, "alice on ws-1", "Alice phone").ready),
    }
    copy_eph_priv = seed("copy ephemeral")
    copy_eph = x25519_public(copy_eph_priv)
    # k of docs/windows.md §6.4: HKDF(X25519(ck, eph), salt = eph ‖ CK.pub, info = "latchkey-windows-credential-v1").
    copy_key = hkdf(x25519(ck_priv, copy_eph), copy_eph + ck_pub, b"latchkey-windows-credential-v1", 32)
    assert copy_key == hkdf(x25519(copy_eph_priv, ck_pub), copy_eph + ck_pub, b"latchkey-windows-credential-v1", 32)
    r_prefix = hdr("hello") + b"\x02" + t + x25519_public(eph_w) + copy_eph
    r_hello = r_prefix + ed25519_sign(ikw, LABEL + b" hello" + ikw_pub + ikp_pub + r_prefix)
    r_kw2p, r_kp2w = keys(ss, pk, r_hello, eph_p_pub)
    r_ready = build_ready(r_kp2w, eph_p_pub, 0)
    r_chal = seal_message("challenge", r_kw2p, 0, challenge)
    r_sig = ed25519_sign(ikp, LABEL + b" proof" + ikp_pub + ikw_pub + sha256(r_hello, r_ready, r_chal) + challenge)
    release = {
        "credentialKeyPrivate": hx(ck_priv), "credentialKey": hx(ck_pub), "copyEph": hx(copy_eph), "copyKey": hx(copy_key),
        "kW2P": hx(r_kw2p), "kP2W": hx(r_kp2w), "hello": hx(r_hello), "ready": hx(r_ready), "challengeMessage": hx(r_chal),
        "proofSignature": hx(r_sig), "proof": hx(seal_message("proof", r_kp2w, 1, r_sig + copy_key)),
        # A PROOF without k after a release HELLO, and one with k after a plain HELLO: both malformed.
        "proofWithoutKey": hx(seal_message("proof", r_kp2w, 1, r_sig)),
    }

    doc = {
        "description": "latchkey-ble/1 vectors (docs/ble-protocol.md), from an independent Python implementation (standard library only).",
        "generator": "test/vectors/generate-ble-protocol-vectors.py",
        "tags": tags, "handshake": handshake, "invalidHandshake": invalid,
        "fragments": fragments, "invalidFragments": invalid_fragments,
        "pairing": pairing, "invalidPairing": invalid_pairing,
        "pairingWithCredentialKey": pairing_with_key, "handshakeWithRelease": release,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ble-protocol.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
