#!/usr/bin/env python3
# Independent check of tests/vectors/post-kat.txt against proto/PROTOCOL.md,
# using Python's hashlib and the 'cryptography' package (python3-cryptography),
# not libsodium: it rebuilds every inner part from the listed fields, signs,
# derives the post key, seals (HChaCha20 written out here + ChaCha20-Poly1305)
# and hashes, and compares each value with the file.
#   python3 tests/vectors/post-check.py [tests/vectors/post-kat.txt]
import hashlib, os, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def qr(s, a, b, c, d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],7)
def hchacha20(key, n16):
    s = [0x61707865,0x3320646e,0x79622d32,0x6b206574] + list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', n16))
    for _ in range(10):
        qr(s,0,4,8,12); qr(s,1,5,9,13); qr(s,2,6,10,14); qr(s,3,7,11,15)
        qr(s,0,5,10,15); qr(s,1,6,11,12); qr(s,2,7,8,13); qr(s,3,4,9,14)
    return struct.pack('<8I', *(s[0:4] + s[12:16]))
def xchacha_seal(key, nonce, pt, ad):
    sub = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(sub).encrypt(b'\0'*4 + nonce[16:], pt, ad)

secs = {}; cur = None
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'post-kat.txt')
for line in open(path):
    line = line.rstrip('\n')
    if line.startswith('#') or not line.strip(): continue
    if line.startswith('['): cur = line.strip('[]'); secs[cur] = {'attachment': []}; continue
    k, v = line.split(' = ', 1) if ' = ' in line else (line.split(' =')[0], '')
    if k == 'attachment': secs[cur]['attachment'].append(v)
    else: secs[cur][k] = v.strip()
for name, f in secs.items():
    h = bytes.fromhex
    sk = Ed25519PrivateKey.from_private_bytes(h(f['author_seed']))
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert pk.hex() == f['author_pk'], name
    outer = bytes([1]) + h(f['group_id']) + struct.pack('>IQ', int(f['epoch']), int(f['created_ms'])) + h(f['nonce'])
    assert len(outer) == 69
    parent = h(f['parent']) if 'parent' in f else b''
    inner = pk + bytes([int(f['kind']), 1 if parent else 0]) + parent
    topic, title, body = h(f['topic']), h(f['title']), h(f['body'])
    inner += bytes([len(topic)]) + topic + struct.pack('>H', len(title)) + title + struct.pack('>I', len(body)) + body
    inner += bytes([len(f['attachment'])])
    for a in f['attachment']:
        hh, sz = a.split(':'); inner += h(hh) + struct.pack('>Q', int(sz))
    msg = b'kith-post-sig-v1' + outer + inner
    assert msg.hex() == f['signed'], name
    sig = sk.sign(msg)
    assert sig.hex() == f['sig'], name
    sk.public_key().verify(sig, msg)
    pkey = hashlib.blake2b(b'kith-post-key-v1', digest_size=32, key=h(f['group_key'])).digest()
    assert pkey.hex() == f['post_key'], name
    sealed = outer + xchacha_seal(pkey, h(f['nonce']), inner + sig, outer)
    assert sealed.hex() == f['sealed'], name
    assert hashlib.blake2b(sealed, digest_size=32).hexdigest() == f['id'], name
    print(name, 'ok', len(sealed), 'bytes')
