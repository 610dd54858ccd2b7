/*
 * noise: the Noise Protocol Framework, revision 34
 * (https://noiseprotocol.org/noise.html), for the one suite Kith uses:
 * 25519 (X25519), ChaChaPoly (ChaCha20-Poly1305 IETF) and BLAKE2b.
 *
 * Kith's sync channel is Noise_XX_25519_ChaChaPoly_BLAKE2b with the prologue
 * KITH_NOISE_PROLOGUE (proto/PROTOCOL.md, "Noise channel"). The code is
 * general: every interactive and one-way pattern of the spec (sections 7.4,
 * 7.5 and 7.6, fundamental and deferred) and psk modifiers (section 9), so the
 * published test vectors check it.
 *
 * Everything here is pure: no allocation, no I/O, no clock, no randomness.
 * The caller supplies the ephemeral private key (randombytes_buf in the node,
 * fixed in tests), every buffer, and the fixed-size state structs, whose
 * fields are private. Keys in a state are secrets: call the matching _wipe
 * function when done with it, on every path.
 *
 * Messages are at most KITH_NOISE_MSG_MAX bytes, as the spec requires.
 */
#ifndef KITH_NOISE_H
#define KITH_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"

/* The Kith channel. Bump the prologue's version when anything about the
 * channel changes, so old and new nodes fail the handshake cleanly. */
#define KITH_NOISE_PROTOCOL "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define KITH_NOISE_PROLOGUE "kith-sync-v1"
#define KITH_NOISE_PROLOGUE_BYTES 12

#define KITH_NOISE_DHLEN 32   /* X25519 public key, private key and shared secret */
#define KITH_NOISE_KEYLEN 32  /* cipher key */
#define KITH_NOISE_HASHLEN 64 /* BLAKE2b-512 */
#define KITH_NOISE_BLOCKLEN 128
#define KITH_NOISE_TAGLEN 16
#define KITH_NOISE_PSKLEN 32
#define KITH_NOISE_MSG_MAX 65535
/* Largest transport plaintext: one message minus the tag. */
#define KITH_NOISE_PLAIN_MAX (KITH_NOISE_MSG_MAX - KITH_NOISE_TAGLEN)

#define KITH_NOISE_MAX_PSKS 4
#define KITH_NOISE_MAX_MESSAGES 4 /* handshake messages in the longest pattern */
#define KITH_NOISE_MAX_TOKENS 8   /* tokens in one message, psk included, plus an end mark */

/* A CipherState. Fields are private. */
struct kith_noise_cipher {
    uint8_t k[KITH_NOISE_KEYLEN];
    uint64_t n;
    int has_key;
};

/* A SymmetricState. Fields are private. */
struct kith_noise_symmetric {
    struct kith_noise_cipher cs;
    uint8_t ck[KITH_NOISE_HASHLEN];
    uint8_t h[KITH_NOISE_HASHLEN];
};

/* A HandshakeState. Fields are private. */
struct kith_noise_handshake {
    struct kith_noise_symmetric ss;
    uint8_t s[KITH_NOISE_DHLEN], s_pub[KITH_NOISE_DHLEN];
    uint8_t e[KITH_NOISE_DHLEN], e_pub[KITH_NOISE_DHLEN];
    uint8_t rs[KITH_NOISE_DHLEN], re[KITH_NOISE_DHLEN];
    uint8_t psks[KITH_NOISE_MAX_PSKS][KITH_NOISE_PSKLEN];
    uint8_t tokens[KITH_NOISE_MAX_MESSAGES][KITH_NOISE_MAX_TOKENS];
    unsigned has_s : 1, has_e : 1, has_rs : 1, has_re : 1;
    unsigned initiator : 1, one_way : 1, psk_mode : 1;
    uint8_t n_messages, next_message, n_psks, next_psk;
    uint8_t phase; /* enum kith_noise_action */
};

/*
 * What a handshake wants next. After the last handshake message it is
 * KITH_NOISE_SPLIT; after kith_noise_handshake_split() KITH_NOISE_DONE; after
 * any error that changed the state, KITH_NOISE_FAILED for good (the spec's
 * "abort the handshake": wipe it and drop the connection).
 */
enum kith_noise_action {
    KITH_NOISE_WRITE = 1,
    KITH_NOISE_READ,
    KITH_NOISE_SPLIT,
    KITH_NOISE_DONE,
    KITH_NOISE_FAILED,
};

/* Parameters of kith_noise_handshake_init(). Keys are read during init and
 * copied; the pointers need not outlive the call. */
struct kith_noise_config {
    const char *protocol_name; /* "Noise_<pattern>_25519_ChaChaPoly_BLAKE2b", NUL-terminated */
    int initiator;             /* 1 for the initiator, 0 for the responder */
    const uint8_t *prologue;   /* may be NULL when prologue_len is 0 */
    size_t prologue_len;
    const uint8_t *s;    /* our static private key (32 bytes), or NULL if the pattern has none */
    const uint8_t *e;    /* our ephemeral private key (32 bytes), or NULL if we send no "e" */
    const uint8_t *rs;   /* the peer's static public key known in advance (pre-message), or NULL */
    const uint8_t *psks; /* n_psks x 32 bytes, used in the order the pattern's psk tokens come */
    size_t n_psks;
};

/* ---- CipherState ---- */

/* InitializeKey(key): key is copied; the nonce starts at 0. key NULL gives
 * a state without a key, whose encrypt and decrypt copy the data through. */
void kith_noise_cipher_init(struct kith_noise_cipher *cs, const uint8_t key[KITH_NOISE_KEYLEN]);

/* SetNonce(n). Transport code never needs it; tests do. */
void kith_noise_cipher_set_nonce(struct kith_noise_cipher *cs, uint64_t n);

/*
 * EncryptWithAd(ad, plaintext): encrypt in (in_len bytes) with associated
 * data ad (ad_len bytes; ad may be NULL when ad_len is 0) into out (capacity
 * out_cap), which gets in_len + 16 bytes (in_len without a key). out may be
 * in itself (in place) but must not otherwise overlap it.
 * Returns 0; -KITH_ETOOBIG if the result would be over KITH_NOISE_MSG_MAX;
 * -KITH_EBUFSIZE if out_cap is too small; -KITH_EINVAL if the nonce is
 * exhausted (2^64 - 1 is reserved: the session must end). On error nothing
 * changes and *out_len is not set.
 */
int kith_noise_cipher_encrypt(struct kith_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                              const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                              size_t *out_len);

/*
 * DecryptWithAd(ad, ciphertext): the reverse of kith_noise_cipher_encrypt,
 * same buffer rules; out gets in_len - 16 bytes.
 * Returns 0; -KITH_EDECRYPT if the tag does not verify; -KITH_ETRUNCATED if
 * in is shorter than a tag; -KITH_ETOOBIG if in_len is over
 * KITH_NOISE_MSG_MAX; -KITH_EBUFSIZE; -KITH_EINVAL if the nonce is
 * exhausted. On error the nonce is not advanced, *out_len is not set and out
 * holds no plaintext.
 */
int kith_noise_cipher_decrypt(struct kith_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                              const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                              size_t *out_len) __attribute__((warn_unused_result));

/* Forget the key and the nonce. */
void kith_noise_cipher_wipe(struct kith_noise_cipher *cs);

/* ---- The hash functions of the suite (exposed for tests and group proofs) ---- */

/* HMAC-BLAKE2b-512 as the spec defines it (RFC 2104 with BLOCKLEN 128, not
 * keyed BLAKE2b): out = HMAC(key, data). key may be any length. */
void kith_noise_hmac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
                     uint8_t out[KITH_NOISE_HASHLEN]);

/* HKDF(chaining_key, ikm, n) for n = 2 (out3 NULL) or 3: each output is
 * HASHLEN bytes. out1..out3 must not overlap ck or ikm. */
void kith_noise_hkdf(const uint8_t ck[KITH_NOISE_HASHLEN], const uint8_t *ikm, size_t ikm_len,
                     uint8_t out1[KITH_NOISE_HASHLEN], uint8_t out2[KITH_NOISE_HASHLEN],
                     uint8_t out3[KITH_NOISE_HASHLEN]);

/* ---- HandshakeState ---- */

/* 0 if protocol_name names a protocol this module implements (the suite
 * above, a known pattern, valid psk modifiers), else -KITH_EINVAL. */
int kith_noise_protocol_supported(const char *protocol_name);

/*
 * Initialize(): start a handshake as cfg says. Our public keys are derived
 * from the private keys given.
 * Returns 0, or -KITH_EINVAL: unsupported protocol name, a key the pattern
 * needs is missing (s, e, the pre-message rs, or psks: exactly as many as the
 * pattern has psk tokens), or a private key gives an all-zero public key.
 * On error hs holds no secret and is in phase KITH_NOISE_FAILED.
 */
int kith_noise_handshake_init(struct kith_noise_handshake *hs, const struct kith_noise_config *cfg);

/*
 * The Kith channel: Noise_XX_25519_ChaChaPoly_BLAKE2b with the Kith
 * prologue, static private key s and ephemeral private key e (32 bytes each).
 * Same returns as kith_noise_handshake_init.
 */
int kith_noise_handshake_init_kith(struct kith_noise_handshake *hs, int initiator,
                                   const uint8_t s[KITH_NOISE_DHLEN],
                                   const uint8_t e[KITH_NOISE_DHLEN]);

/* What hs wants next (enum kith_noise_action). */
int kith_noise_handshake_action(const struct kith_noise_handshake *hs);

/* 1 for a one-way pattern (N, K, X and their psk variants: the initiator
 * sends every message, transport included), else 0. */
int kith_noise_handshake_one_way(const struct kith_noise_handshake *hs);

/*
 * WriteMessage(payload): write our next handshake message into out
 * (capacity out_cap) carrying payload (payload_len bytes; NULL if 0), which
 * must not overlap out. *out_len gets the message length.
 * Returns 0; -KITH_EINVAL if it is not our turn to write (see
 * kith_noise_handshake_action); -KITH_ETOOBIG if the message would be over
 * KITH_NOISE_MSG_MAX; -KITH_EBUFSIZE if out_cap is too small (on these three
 * nothing changes); -KITH_EDECRYPT if a Diffie-Hellman result is all zero
 * (the peer sent a low-order key; the handshake has failed).
 */
int kith_noise_handshake_write(struct kith_noise_handshake *hs, const uint8_t *payload,
                               size_t payload_len, uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * ReadMessage(message): read the peer's next handshake message (msg_len
 * bytes) and put its payload into payload (capacity payload_cap; must not
 * overlap msg); *payload_len gets its length.
 * Returns 0; -KITH_EINVAL if it is not our turn to read; -KITH_ETOOBIG if
 * msg_len is over KITH_NOISE_MSG_MAX; -KITH_ETRUNCATED if msg is shorter than
 * this message's keys and tags; -KITH_EBUFSIZE if payload_cap is too small
 * (on these four nothing changes); -KITH_EDECRYPT if a tag does not verify
 * or a Diffie-Hellman result is all zero: the handshake has failed, and
 * payload holds no plaintext.
 */
int kith_noise_handshake_read(struct kith_noise_handshake *hs, const uint8_t *msg, size_t msg_len,
                              uint8_t *payload, size_t payload_cap, size_t *payload_len)
    __attribute__((warn_unused_result));

/*
 * Split(): after the last handshake message, derive the two transport
 * CipherStates: send encrypts what we send, recv decrypts what we receive
 * (for one-way patterns the responder's send must not be used). Either may
 * be NULL if unwanted. The chaining key and our private keys are wiped; the
 * handshake hash and the peer's static key stay readable until
 * kith_noise_handshake_wipe. Returns 0, or -KITH_EINVAL if the phase is not
 * KITH_NOISE_SPLIT.
 */
int kith_noise_handshake_split(struct kith_noise_handshake *hs, struct kith_noise_cipher *send,
                               struct kith_noise_cipher *recv);

/* The handshake hash h (channel binding), once the handshake is complete
 * (phase KITH_NOISE_SPLIT or KITH_NOISE_DONE). Returns 0 or -KITH_EINVAL. */
int kith_noise_handshake_hash(const struct kith_noise_handshake *hs,
                              uint8_t out[KITH_NOISE_HASHLEN]);

/* The peer's static public key, once known (from a pre-message or a
 * decrypted "s" token). Returns 0, or -KITH_EINVAL if we do not have it.
 * Only a complete handshake has authenticated it. */
int kith_noise_handshake_remote_static(const struct kith_noise_handshake *hs,
                                       uint8_t out[KITH_NOISE_DHLEN]);

/* Wipe every key and the transcript; hs ends in phase KITH_NOISE_FAILED. */
void kith_noise_handshake_wipe(struct kith_noise_handshake *hs);

#endif
