/*
 * libFuzzer target for proto/post.c. The first input byte picks a mode:
 *   0: the rest is a sealed post from a peer: decode_outer, open with a fixed
 *      group key, verify.
 *   1: the rest is an inner plaintext: it is sealed here with the fixed key
 *      (so the fuzzer reaches the decoder past the AEAD), opened, verified,
 *      and, if it opens, sealed again: the bytes must come back identical
 *      (one encoding per post).
 *   2: the rest describes a draft post: sign, seal, open and verify must all
 *      succeed for every draft that sign accepts, giving back the same post.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/post.h"

static uint8_t group_key[KITH_GROUP_KEY_BYTES];
static uint8_t post_key[32];
static uint8_t author_pk[KITH_PUBKEY_BYTES], author_sk[KITH_SECKEY_BYTES];
static uint8_t sealed[KITH_POST_SEALED_MAX + 64];
static uint8_t resealed[KITH_POST_SEALED_MAX + 64];
static uint8_t plain[KITH_POST_SEALED_MAX + 64];
static uint8_t work[KITH_POST_SEALED_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t seed[32];

    if (sodium_init() < 0)
        abort();
    for (int i = 0; i < 32; i++) {
        group_key[i] = (uint8_t)(0x40 + i);
        seed[i] = (uint8_t)(1 + i);
    }
    crypto_generichash(post_key, 32, (const uint8_t *)"kith-post-key-v1", 16, group_key, 32);
    crypto_sign_seed_keypair(author_pk, author_sk, seed);
    return 0;
}

static void open_sealed(const uint8_t *data, size_t size)
{
    struct kith_post_outer outer;
    struct kith_post post;

    (void)kith_post_decode_outer(data, size, &outer);
    if (kith_post_open(data, size, group_key, plain, sizeof(plain), &post) == 0)
        (void)kith_post_verify(&post);
}

static void open_inner(const uint8_t *data, size_t size)
{
    struct kith_post post;
    unsigned long long clen;
    size_t len, relen;

    if (size > KITH_POST_INNER_MAX + 16)
        return;
    memset(sealed, 0, KITH_POST_OUTER_BYTES);
    sealed[0] = KITH_POST_VERSION;
    memset(sealed + KITH_POST_OUTER_BYTES - KITH_POST_NONCE_BYTES, 0x4e, KITH_POST_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        sealed + KITH_POST_OUTER_BYTES, &clen, data, size, sealed, KITH_POST_OUTER_BYTES, NULL,
        sealed + KITH_POST_OUTER_BYTES - KITH_POST_NONCE_BYTES, post_key);
    len = KITH_POST_OUTER_BYTES + (size_t)clen;
    if (kith_post_open(sealed, len, group_key, plain, sizeof(plain), &post) != 0)
        return;
    (void)kith_post_verify(&post);
    if (kith_post_seal(&post, group_key, resealed, sizeof(resealed), &relen) != 0)
        abort();
    if (relen != len || memcmp(resealed, sealed, len) != 0)
        abort();
}

/* Draft layout: kind, has_parent, topic_len, title_len u8, body_len u16,
 * n_attachments, attachment size u64, then text bytes (topic, title, body),
 * reused cyclically. */
static void draft_round_trip(const uint8_t *data, size_t size)
{
    static char text[2048];
    struct kith_post p, o;
    size_t len, t = 0, tl = 0;

    if (size < 14)
        return;
    memset(&p, 0, sizeof(p));
    p.outer.version = KITH_POST_VERSION;
    p.outer.created_ms = 1700000000000ull;
    p.kind = data[0];
    p.has_parent = data[1] & 1;
    memset(p.parent, data[1], sizeof(p.parent));
    p.topic_len = data[2] % (KITH_POST_TOPIC_MAX + 2);
    p.title_len = data[3];
    p.body_len = ((size_t)data[4] << 8 | data[5]) % 1024;
    p.n_attachments = data[6] % (KITH_POST_ATTACH_MAX + 2);
    for (size_t i = 0; i < KITH_POST_ATTACH_MAX; i++) {
        uint64_t sz = 0;

        for (int k = 0; k < 7; k++)
            sz = (sz << 8) | data[7 + k];
        p.attachments[i].size = sz >> (i % 30);
        memset(p.attachments[i].hash, (int)i, KITH_HASH_BYTES);
    }
    data += 14;
    size -= 14;
    tl = p.topic_len + p.title_len + p.body_len;
    for (size_t i = 0; i < tl; i++)
        text[i] = size > 0 ? (char)data[i % size] : 'a';
    p.topic = text;
    p.title = text + p.topic_len;
    p.body = text + p.topic_len + p.title_len;
    t = kith_post_sealed_size(&p);
    if (kith_post_sign(&p, author_sk, work, sizeof(work)) != 0) {
        if (t != 0)
            abort();
        return;
    }
    if (t == 0 || kith_post_seal(&p, group_key, sealed, sizeof(sealed), &len) != 0 || len != t)
        abort();
    if (kith_post_open(sealed, len, group_key, plain, sizeof(plain), &o) != 0 ||
        kith_post_verify(&o) != 0)
        abort();
    if (o.kind != p.kind || o.body_len != p.body_len || o.title_len != p.title_len ||
        o.topic_len != p.topic_len || o.n_attachments != p.n_attachments ||
        memcmp(o.body, p.body, p.body_len) != 0 || memcmp(o.title, p.title, p.title_len) != 0 ||
        memcmp(o.topic, p.topic, p.topic_len) != 0 || memcmp(o.author, author_pk, 32) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        open_sealed(data + 1, size - 1);
        break;
    case 1:
        open_inner(data + 1, size - 1);
        break;
    default:
        draft_round_trip(data + 1, size - 1);
        break;
    }
    return 0;
}
