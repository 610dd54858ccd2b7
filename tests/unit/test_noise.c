/*
 * Tests for proto/noise.c: the CipherState (nonce layout, associated data,
 * limits, nonce exhaustion), HMAC-BLAKE2b and HKDF against values from
 * Python's independent hmac module, protocol name parsing, and the Kith XX
 * handshake between two in-memory parties with random keys: a flipped bit
 * anywhere, a truncated or oversized message, and misuse. The published
 * vectors run separately (tests/tools/kith_noise_vectors.c, ctest
 * noise_vectors).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "kith/noise.h"

__attribute__((constructor)) static void init_sodium(void)
{
    if (sodium_init() < 0)
        abort();
}

static uint8_t big[KITH_NOISE_MSG_MAX + 64];
static uint8_t big2[KITH_NOISE_MSG_MAX + 64];

static void unhex(const char *s, uint8_t *out, size_t len)
{
    size_t bin_len = 0;

    cr_assert_eq(sodium_hex2bin(out, len, s, strlen(s), NULL, &bin_len, NULL), 0);
    cr_assert_eq(bin_len, len);
}

/* ---- CipherState -------------------------------------------------------- */

static const uint8_t KEY[32] = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
                                0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
                                0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f};

Test(noise_cipher, nonce_is_four_zero_bytes_then_little_endian_counter)
{
    struct kith_noise_cipher cs;
    const uint8_t msg[] = "hello";
    const uint8_t ad[] = "ad";
    uint8_t out[64], want[64];
    uint8_t nonce[12] = {0, 0, 0, 0, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00};
    size_t out_len = 0;

    kith_noise_cipher_init(&cs, KEY);
    kith_noise_cipher_set_nonce(&cs, 0x0001020304050607ull);
    cr_assert_eq(kith_noise_cipher_encrypt(&cs, ad, 2, msg, 5, out, sizeof(out), &out_len), 0);
    cr_assert_eq(out_len, 5 + KITH_NOISE_TAGLEN);
    crypto_aead_chacha20poly1305_ietf_encrypt(want, NULL, msg, 5, ad, 2, NULL, nonce, KEY);
    cr_assert_arr_eq(out, want, out_len);

    /* The next message uses the next nonce. */
    nonce[4]++;
    cr_assert_eq(kith_noise_cipher_encrypt(&cs, ad, 2, msg, 5, out, sizeof(out), &out_len), 0);
    crypto_aead_chacha20poly1305_ietf_encrypt(want, NULL, msg, 5, ad, 2, NULL, nonce, KEY);
    cr_assert_arr_eq(out, want, out_len);
    kith_noise_cipher_wipe(&cs);
}

Test(noise_cipher, without_key_copies_through)
{
    struct kith_noise_cipher cs;
    const uint8_t msg[5] = "abcde";
    uint8_t out[5];
    size_t out_len = 0;

    kith_noise_cipher_init(&cs, NULL);
    cr_assert_eq(kith_noise_cipher_encrypt(&cs, NULL, 0, msg, 5, out, 5, &out_len), 0);
    cr_assert_eq(out_len, 5);
    cr_assert_arr_eq(out, msg, 5);
    cr_assert_eq(kith_noise_cipher_decrypt(&cs, NULL, 0, msg, 5, out, 4, &out_len), -KITH_EBUFSIZE);
}

Test(noise_cipher, wrong_ad_or_nonce_fails_and_keeps_the_nonce)
{
    struct kith_noise_cipher a, b;
    const uint8_t msg[] = "the message";
    uint8_t ct[64], pt[64];
    size_t ct_len = 0, pt_len = 99;

    kith_noise_cipher_init(&a, KEY);
    kith_noise_cipher_init(&b, KEY);
    cr_assert_eq(kith_noise_cipher_encrypt(&a, (const uint8_t *)"A", 1, msg, sizeof(msg), ct,
                                           sizeof(ct), &ct_len),
                 0);
    cr_assert_eq(
        kith_noise_cipher_decrypt(&b, (const uint8_t *)"B", 1, ct, ct_len, pt, sizeof(pt), &pt_len),
        -KITH_EDECRYPT);
    cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, ct, ct_len, pt, sizeof(pt), &pt_len),
                 -KITH_EDECRYPT);
    cr_assert_eq(pt_len, 99);
    /* The failures did not advance b's nonce: the right AD still opens it. */
    cr_assert_eq(
        kith_noise_cipher_decrypt(&b, (const uint8_t *)"A", 1, ct, ct_len, pt, sizeof(pt), &pt_len),
        0);
    cr_assert_eq(pt_len, sizeof(msg));
    cr_assert_arr_eq(pt, msg, sizeof(msg));
    /* Replaying the same message now fails: b's nonce moved on. */
    cr_assert_eq(
        kith_noise_cipher_decrypt(&b, (const uint8_t *)"A", 1, ct, ct_len, pt, sizeof(pt), &pt_len),
        -KITH_EDECRYPT);
}

Test(noise_cipher, every_flipped_bit_fails)
{
    struct kith_noise_cipher a, b;
    uint8_t msg[40], ct[64], pt[64];
    size_t ct_len = 0, pt_len = 0;

    randombytes_buf(msg, sizeof(msg));
    kith_noise_cipher_init(&a, KEY);
    kith_noise_cipher_init(&b, KEY);
    cr_assert_eq(kith_noise_cipher_encrypt(&a, NULL, 0, msg, sizeof(msg), ct, sizeof(ct), &ct_len),
                 0);
    for (size_t bit = 0; bit < ct_len * 8; bit++) {
        ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, ct, ct_len, pt, sizeof(pt), &pt_len),
                     -KITH_EDECRYPT, "bit %zu", bit);
        ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, ct, ct_len, pt, sizeof(pt), &pt_len), 0);
}

Test(noise_cipher, in_place)
{
    struct kith_noise_cipher a, b;
    uint8_t buf[32 + KITH_NOISE_TAGLEN], orig[32];
    size_t len = 0;

    randombytes_buf(orig, sizeof(orig));
    memcpy(buf, orig, sizeof(orig));
    kith_noise_cipher_init(&a, KEY);
    kith_noise_cipher_init(&b, KEY);
    cr_assert_eq(kith_noise_cipher_encrypt(&a, NULL, 0, buf, 32, buf, sizeof(buf), &len), 0);
    cr_assert_eq(len, sizeof(buf));
    cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, buf, len, buf, sizeof(buf), &len), 0);
    cr_assert_eq(len, 32);
    cr_assert_arr_eq(buf, orig, 32);
}

Test(noise_cipher, limits)
{
    struct kith_noise_cipher a, b;
    size_t len = 7;

    kith_noise_cipher_init(&a, KEY);
    kith_noise_cipher_init(&b, KEY);
    cr_assert_eq(kith_noise_cipher_encrypt(&a, NULL, 0, big, KITH_NOISE_PLAIN_MAX + 1, big2,
                                           sizeof(big2), &len),
                 -KITH_ETOOBIG);
    cr_assert_eq(kith_noise_cipher_encrypt(&a, NULL, 0, big, KITH_NOISE_PLAIN_MAX, big2,
                                           KITH_NOISE_MSG_MAX - 1, &len),
                 -KITH_EBUFSIZE);
    cr_assert_eq(len, 7);
    cr_assert_eq(
        kith_noise_cipher_encrypt(&a, NULL, 0, big, KITH_NOISE_PLAIN_MAX, big2, sizeof(big2), &len),
        0);
    cr_assert_eq(len, KITH_NOISE_MSG_MAX);
    cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, big2, KITH_NOISE_MSG_MAX + 1, big,
                                           sizeof(big), &len),
                 -KITH_ETOOBIG);
    cr_assert_eq(
        kith_noise_cipher_decrypt(&b, NULL, 0, big2, KITH_NOISE_TAGLEN - 1, big, sizeof(big), &len),
        -KITH_ETRUNCATED);
    cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, big2, KITH_NOISE_MSG_MAX, big,
                                           KITH_NOISE_PLAIN_MAX - 1, &len),
                 -KITH_EBUFSIZE);
    cr_assert_eq(
        kith_noise_cipher_decrypt(&b, NULL, 0, big2, KITH_NOISE_MSG_MAX, big, sizeof(big), &len),
        0);
    cr_assert_eq(len, KITH_NOISE_PLAIN_MAX);
}

Test(noise_cipher, nonce_exhaustion)
{
    struct kith_noise_cipher a, b;
    uint8_t ct[32], pt[32];
    size_t len = 0;

    kith_noise_cipher_init(&a, KEY);
    kith_noise_cipher_init(&b, KEY);
    kith_noise_cipher_set_nonce(&a, UINT64_MAX - 1);
    kith_noise_cipher_set_nonce(&b, UINT64_MAX - 1);
    cr_assert_eq(
        kith_noise_cipher_encrypt(&a, NULL, 0, (const uint8_t *)"x", 1, ct, sizeof(ct), &len), 0);
    cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, ct, len, pt, sizeof(pt), &len), 0);
    /* 2^64 - 1 is reserved: both directions refuse from here on. */
    cr_assert_eq(
        kith_noise_cipher_encrypt(&a, NULL, 0, (const uint8_t *)"x", 1, ct, sizeof(ct), &len),
        -KITH_EINVAL);
    cr_assert_eq(kith_noise_cipher_decrypt(&b, NULL, 0, ct, 17, pt, sizeof(pt), &len),
                 -KITH_EINVAL);
}

/* ---- HMAC and HKDF ------------------------------------------------------ */

/* Expected values from Python: hmac.new(key, msg, hashlib.blake2b). */
Test(noise_hash, hmac_blake2b)
{
    static const char fox[] = "The quick brown fox jumps over the lazy dog";
    static const char large[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    uint8_t key[131], out[64], want[64];

    kith_noise_hmac((const uint8_t *)"key", 3, (const uint8_t *)fox, strlen(fox), out);
    unhex("92294f92c0dfb9b00ec9ae8bd94d7e7d8a036b885a499f149dfe2fd2199394aa"
          "af6b8894a1730cccb2cd050f9bcf5062a38b51b0dab33207f8ef35ae2c9df51b",
          want, 64);
    cr_assert_arr_eq(out, want, 64);

    /* A key longer than BLOCKLEN is hashed first. */
    memset(key, 0xaa, sizeof(key));
    kith_noise_hmac(key, sizeof(key), (const uint8_t *)large, strlen(large), out);
    unhex("a54b2943b2a20227d41ca46c0945af09bc1faefb2f49894c23aebc557fb79c48"
          "89dca74408dc865086667aedee4a3185c53a49c80b814c4c5813ea0c8b38a8f8",
          want, 64);
    cr_assert_arr_eq(out, want, 64);

    kith_noise_hmac(NULL, 0, NULL, 0, out);
    unhex("198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a684"
          "66775177424f58286886cbae8229644cec747237d4b721735485e17372fdf59c",
          want, 64);
    cr_assert_arr_eq(out, want, 64);
}

/* ck = 00..3f, ikm = 00..1f; expected values from Python's hmac module
 * following the spec's HKDF definition. */
Test(noise_hash, hkdf)
{
    uint8_t ck[64], ikm[32], o1[64], o2[64], o3[64], want[64], o1b[64], o2b[64];

    for (int i = 0; i < 64; i++)
        ck[i] = (uint8_t)i;
    for (int i = 0; i < 32; i++)
        ikm[i] = (uint8_t)i;
    kith_noise_hkdf(ck, ikm, sizeof(ikm), o1, o2, o3);
    unhex("b257cf2863e7aa7f84d41d31e58df6dfb1e0a6cf3172192cc35eba2625a21975"
          "db4475b2ef89316383acac6b2ac7cf03f7583e0ff20a64fb208fa5b1199f835f",
          want, 64);
    cr_assert_arr_eq(o1, want, 64);
    unhex("4f4d712feaff914e80db4d0d400a46056854134b5001018c4f1fe19bb477053c"
          "5a9b92f8c937b1328c0ae7e51895b8d68068bc84d59436cc3b75de5a2d6d0630",
          want, 64);
    cr_assert_arr_eq(o2, want, 64);
    unhex("c3e03a921f0f492329fe003e995b982fdd8c0596cc3575e01c2f24234e05e477"
          "8d233726d60ffe48a7d9ef235a6ff5fac555bafcfdd1272c4763ded2e01c0c3f",
          want, 64);
    cr_assert_arr_eq(o3, want, 64);

    /* Two outputs are the first two of three. */
    kith_noise_hkdf(ck, ikm, sizeof(ikm), o1b, o2b, NULL);
    cr_assert_arr_eq(o1b, o1, 64);
    cr_assert_arr_eq(o2b, o2, 64);
}

/* ---- Protocol names ----------------------------------------------------- */

Test(noise_name, supported_and_not)
{
    static const char *const good[] = {
        "Noise_XX_25519_ChaChaPoly_BLAKE2b",          "Noise_N_25519_ChaChaPoly_BLAKE2b",
        "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b",      "Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b",
        "Noise_I1X1_25519_ChaChaPoly_BLAKE2b",        "Noise_Npsk0_25519_ChaChaPoly_BLAKE2b",
        "Noise_IKpsk0+psk2_25519_ChaChaPoly_BLAKE2b",
    };
    static const char *const bad[] = {
        "Noise_XX_25519_AESGCM_BLAKE2b",
        "Noise_XX_448_ChaChaPoly_BLAKE2b",
        "Noise_XX_25519_ChaChaPoly_SHA256",
        "Noise_XY_25519_ChaChaPoly_BLAKE2b",
        "Noise__25519_ChaChaPoly_BLAKE2b",
        "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b",
        "Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b", /* XX has 3 messages */
        "Noise_XXpsk3+_25519_ChaChaPoly_BLAKE2b",
        "Noise_XXpsk3+psk_25519_ChaChaPoly_BLAKE2b",
        "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
        "noise_XX_25519_ChaChaPoly_BLAKE2b",
        "Noise_XX_25519_ChaChaPoly_BLAKE2b ",
        "",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert_eq(kith_noise_protocol_supported(good[i]), 0, "%s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(kith_noise_protocol_supported(bad[i]), -KITH_EINVAL, "%s", bad[i]);
    cr_assert_eq(kith_noise_protocol_supported(NULL), -KITH_EINVAL);
}

Test(noise_name, init_checks_keys)
{
    struct kith_noise_handshake hs;
    uint8_t k[32], psk[32];
    struct kith_noise_config cfg = {.protocol_name = "Noise_IK_25519_ChaChaPoly_BLAKE2b",
                                    .initiator = 1};

    randombytes_buf(k, sizeof(k));
    randombytes_buf(psk, sizeof(psk));
    cr_assert_eq(kith_noise_handshake_init(&hs, NULL), -KITH_EINVAL);
    cr_assert_eq(kith_noise_handshake_init(&hs, &cfg), -KITH_EINVAL); /* no s, e, rs */
    cr_assert_eq(kith_noise_handshake_action(&hs), KITH_NOISE_FAILED);
    cfg.s = k;
    cfg.e = k;
    cr_assert_eq(kith_noise_handshake_init(&hs, &cfg), -KITH_EINVAL); /* no rs */
    cfg.rs = k;
    cr_assert_eq(kith_noise_handshake_init(&hs, &cfg), 0);
    cr_assert_eq(kith_noise_handshake_action(&hs), KITH_NOISE_WRITE);
    cfg.psks = psk;
    cfg.n_psks = 1; /* IK has no psk token */
    cr_assert_eq(kith_noise_handshake_init(&hs, &cfg), -KITH_EINVAL);
    cfg.protocol_name = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
    cr_assert_eq(kith_noise_handshake_init(&hs, &cfg), 0);
    cfg.n_psks = 0;
    cr_assert_eq(kith_noise_handshake_init(&hs, &cfg), -KITH_EINVAL);
    /* A responder of IK needs only s and e. */
    cfg = (struct kith_noise_config){
        .protocol_name = "Noise_IK_25519_ChaChaPoly_BLAKE2b", .s = k, .e = k};
    cr_assert_eq(kith_noise_handshake_init(&hs, &cfg), 0);
    cr_assert_eq(kith_noise_handshake_action(&hs), KITH_NOISE_READ);
    kith_noise_handshake_wipe(&hs);
    cr_assert_eq(kith_noise_handshake_action(&hs), KITH_NOISE_FAILED);
}

/* ---- The Kith XX handshake ---------------------------------------------- */

struct party {
    uint8_t s[32], s_pub[32], e[32];
    struct kith_noise_handshake hs;
    struct kith_noise_cipher send, recv;
};

static void new_party(struct party *p, int initiator)
{
    randombytes_buf(p->s, 32);
    randombytes_buf(p->e, 32);
    crypto_scalarmult_base(p->s_pub, p->s);
    cr_assert_eq(kith_noise_handshake_init_kith(&p->hs, initiator, p->s, p->e), 0);
}

/* Messages of one XX handshake with payloads, recorded for tampering. */
struct transcript {
    uint8_t msg[3][256];
    size_t len[3];
};

static const char *const PAYLOADS[3] = {"", "responder hello", "initiator proof"};

/* Run message i (0..2) from its sender to its receiver: write, optionally
 * corrupt with flip (a bit index, or -1), truncate to cut (or SIZE_MAX),
 * then read. Returns the reader's result; the writer must succeed. */
static int step(struct party *ini, struct party *res, int i, long flip, size_t cut,
                struct transcript *tr)
{
    struct party *from = i == 1 ? res : ini, *to = i == 1 ? ini : res;
    uint8_t msg[256], payload[256];
    size_t len = 0, plen = 0;
    int rc;

    cr_assert_eq(kith_noise_handshake_action(&from->hs), KITH_NOISE_WRITE);
    cr_assert_eq(kith_noise_handshake_action(&to->hs), KITH_NOISE_READ);
    rc = kith_noise_handshake_write(&from->hs, (const uint8_t *)PAYLOADS[i], strlen(PAYLOADS[i]),
                                    msg, sizeof(msg), &len);
    cr_assert_eq(rc, 0, "write %d: %d", i, rc);
    if (tr != NULL) {
        memcpy(tr->msg[i], msg, len);
        tr->len[i] = len;
    }
    if (flip >= 0 && (size_t)flip < len * 8)
        msg[flip / 8] ^= (uint8_t)(1u << (flip % 8));
    if (cut < len)
        len = cut;
    rc = kith_noise_handshake_read(&to->hs, msg, len, payload, sizeof(payload), &plen);
    if (rc == 0 && flip < 0) {
        cr_assert_eq(plen, strlen(PAYLOADS[i]));
        cr_assert_arr_eq(payload, PAYLOADS[i], plen);
    }
    return rc;
}

static void handshake(struct party *ini, struct party *res, struct transcript *tr)
{
    for (int i = 0; i < 3; i++)
        cr_assert_eq(step(ini, res, i, -1, SIZE_MAX, tr), 0);
    cr_assert_eq(kith_noise_handshake_action(&ini->hs), KITH_NOISE_SPLIT);
    cr_assert_eq(kith_noise_handshake_action(&res->hs), KITH_NOISE_SPLIT);
    cr_assert_eq(kith_noise_handshake_split(&ini->hs, &ini->send, &ini->recv), 0);
    cr_assert_eq(kith_noise_handshake_split(&res->hs, &res->send, &res->recv), 0);
}

Test(noise_xx, two_parties_agree)
{
    struct party ini, res;
    struct transcript tr;
    uint8_t h1[64], h2[64], rs[32], ct[128], pt[128];
    size_t ct_len = 0, pt_len = 0;

    new_party(&ini, 1);
    new_party(&res, 0);
    cr_assert_eq(kith_noise_handshake_hash(&ini.hs, h1), -KITH_EINVAL);
    cr_assert_eq(kith_noise_handshake_remote_static(&ini.hs, rs), -KITH_EINVAL);
    handshake(&ini, &res, &tr);
    /* XX: e | e, ee, s, es | s, se. */
    cr_assert_eq(tr.len[0], 32 + 0);
    cr_assert_eq(tr.len[1], 32 + 48 + strlen(PAYLOADS[1]) + 16);
    cr_assert_eq(tr.len[2], 48 + strlen(PAYLOADS[2]) + 16);

    cr_assert_eq(kith_noise_handshake_action(&ini.hs), KITH_NOISE_DONE);
    cr_assert_eq(kith_noise_handshake_hash(&ini.hs, h1), 0);
    cr_assert_eq(kith_noise_handshake_hash(&res.hs, h2), 0);
    cr_assert_arr_eq(h1, h2, 64);
    cr_assert_eq(kith_noise_handshake_remote_static(&ini.hs, rs), 0);
    cr_assert_arr_eq(rs, res.s_pub, 32);
    cr_assert_eq(kith_noise_handshake_remote_static(&res.hs, rs), 0);
    cr_assert_arr_eq(rs, ini.s_pub, 32);
    cr_assert_eq(kith_noise_handshake_one_way(&ini.hs), 0);

    /* Transport both ways, interleaved, 100 messages each. */
    for (int i = 0; i < 100; i++) {
        struct party *a = i % 2 ? &ini : &res, *b = i % 2 ? &res : &ini;
        uint8_t msg[64];

        randombytes_buf(msg, sizeof(msg));
        cr_assert_eq(kith_noise_cipher_encrypt(&a->send, NULL, 0, msg, (size_t)i % 64, ct,
                                               sizeof(ct), &ct_len),
                     0);
        cr_assert_eq(
            kith_noise_cipher_decrypt(&b->recv, NULL, 0, ct, ct_len, pt, sizeof(pt), &pt_len), 0);
        cr_assert_eq(pt_len, (size_t)i % 64);
        cr_assert_arr_eq(pt, msg, pt_len);
    }
    /* What one side sends, it cannot open itself (different keys per direction). */
    cr_assert_eq(kith_noise_cipher_encrypt(&ini.send, NULL, 0, pt, 5, ct, sizeof(ct), &ct_len), 0);
    cr_assert_eq(kith_noise_cipher_decrypt(&ini.recv, NULL, 0, ct, ct_len, pt, sizeof(pt), &pt_len),
                 -KITH_EDECRYPT);

    kith_noise_handshake_wipe(&ini.hs);
    kith_noise_handshake_wipe(&res.hs);
    cr_assert_eq(kith_noise_handshake_hash(&ini.hs, h1), -KITH_EINVAL);
}

Test(noise_xx, different_sessions_different_hashes)
{
    struct party a1, b1, a2, b2;
    uint8_t h1[64], h2[64];

    new_party(&a1, 1);
    new_party(&b1, 0);
    handshake(&a1, &b1, NULL);
    /* Same statics, new ephemerals: a new handshake hash. */
    memcpy(&a2, &a1, sizeof(a2));
    memcpy(&b2, &b1, sizeof(b2));
    randombytes_buf(a2.e, 32);
    randombytes_buf(b2.e, 32);
    cr_assert_eq(kith_noise_handshake_init_kith(&a2.hs, 1, a2.s, a2.e), 0);
    cr_assert_eq(kith_noise_handshake_init_kith(&b2.hs, 0, b2.s, b2.e), 0);
    handshake(&a2, &b2, NULL);
    cr_assert_eq(kith_noise_handshake_hash(&a1.hs, h1), 0);
    cr_assert_eq(kith_noise_handshake_hash(&a2.hs, h2), 0);
    cr_assert_arr_neq(h1, h2, 64);
}

/* A bit flipped in handshake message i must make the handshake fail with
 * -KITH_EDECRYPT no later than the next message read. Message 1 of XX has
 * no key yet, so its damage shows when the initiator reads message 2. */
static void flip_every_bit_of(int i)
{
    struct party ini0, res0;
    struct transcript tr;

    new_party(&ini0, 1);
    new_party(&res0, 0);
    handshake(&ini0, &res0, &tr);

    for (long bit = 0; bit < (long)(tr.len[i] * 8); bit++) {
        struct party ini, res;
        int rc = 0, j;

        cr_assert_eq(kith_noise_handshake_init_kith(&ini.hs, 1, ini0.s, ini0.e), 0);
        cr_assert_eq(kith_noise_handshake_init_kith(&res.hs, 0, res0.s, res0.e), 0);
        for (j = 0; j < 3 && rc == 0; j++)
            rc = step(&ini, &res, j, j == i ? bit : -1, SIZE_MAX, NULL);
        cr_assert_eq(rc, -KITH_EDECRYPT, "message %d bit %ld", i, bit);
        cr_assert_leq(j - 1, i + 1, "message %d bit %ld: noticed late", i, bit);
        cr_assert(kith_noise_handshake_action(&ini.hs) == KITH_NOISE_FAILED ||
                  kith_noise_handshake_action(&res.hs) == KITH_NOISE_FAILED);
        kith_noise_handshake_wipe(&ini.hs);
        kith_noise_handshake_wipe(&res.hs);
    }
}

Test(noise_xx, flipped_bit_in_message_1)
{
    flip_every_bit_of(0);
}

Test(noise_xx, flipped_bit_in_message_2)
{
    flip_every_bit_of(1);
}

Test(noise_xx, flipped_bit_in_message_3)
{
    flip_every_bit_of(2);
}

Test(noise_xx, failed_state_sticks)
{
    struct party ini, res;
    uint8_t msg[256], pt[256];
    size_t len = 0, plen = 0;

    new_party(&ini, 1);
    new_party(&res, 0);
    cr_assert_eq(step(&ini, &res, 0, -1, SIZE_MAX, NULL), 0);
    cr_assert_eq(step(&ini, &res, 1, 40L * 8, SIZE_MAX, NULL), -KITH_EDECRYPT);
    cr_assert_eq(kith_noise_handshake_action(&ini.hs), KITH_NOISE_FAILED);
    cr_assert_eq(kith_noise_handshake_write(&ini.hs, NULL, 0, msg, sizeof(msg), &len),
                 -KITH_EINVAL);
    cr_assert_eq(kith_noise_handshake_read(&ini.hs, msg, 100, pt, sizeof(pt), &plen), -KITH_EINVAL);
    cr_assert_eq(kith_noise_handshake_split(&ini.hs, &ini.send, &ini.recv), -KITH_EINVAL);
}

Test(noise_xx, truncated_messages)
{
    struct party ini, res;
    struct transcript tr;
    uint8_t pt[256];
    size_t plen = 0;

    new_party(&ini, 1);
    new_party(&res, 0);
    /* Message 1 is just e: anything shorter is truncated. */
    cr_assert_eq(step(&ini, &res, 0, -1, 31, &tr), -KITH_ETRUNCATED);
    /* Nothing changed: the full message still reads. */
    cr_assert_eq(kith_noise_handshake_read(&res.hs, tr.msg[0], tr.len[0], pt, sizeof(pt), &plen),
                 0);
    /* Message 2 needs e (32) + s (48) + a tag (16) = 96 bytes at least. */
    cr_assert_eq(step(&ini, &res, 1, -1, 95, &tr), -KITH_ETRUNCATED);
    cr_assert_eq(kith_noise_handshake_action(&ini.hs), KITH_NOISE_READ);
    /* Long enough for the layout but one byte short: the tag fails. */
    cr_assert_eq(
        kith_noise_handshake_read(&ini.hs, tr.msg[1], tr.len[1] - 1, pt, sizeof(pt), &plen),
        -KITH_EDECRYPT);
}

Test(noise_xx, truncated_message_3)
{
    struct party ini, res;

    new_party(&ini, 1);
    new_party(&res, 0);
    cr_assert_eq(step(&ini, &res, 0, -1, SIZE_MAX, NULL), 0);
    cr_assert_eq(step(&ini, &res, 1, -1, SIZE_MAX, NULL), 0);
    /* s (48) + tag (16) = 64 at least. */
    cr_assert_eq(step(&ini, &res, 2, -1, 63, NULL), -KITH_ETRUNCATED);
}

Test(noise_xx, over_the_limit)
{
    struct party ini, res;
    size_t len = 0, plen = 0;

    new_party(&ini, 1);
    new_party(&res, 0);
    /* Message 1 carries 32 bytes of e: the payload may be 65503 bytes. */
    cr_assert_eq(
        kith_noise_handshake_write(&ini.hs, big, KITH_NOISE_MSG_MAX - 31, big2, sizeof(big2), &len),
        -KITH_ETOOBIG);
    cr_assert_eq(kith_noise_handshake_write(&ini.hs, big, SIZE_MAX, big2, sizeof(big2), &len),
                 -KITH_ETOOBIG);
    cr_assert_eq(kith_noise_handshake_write(&ini.hs, big, KITH_NOISE_MSG_MAX - 32, big2,
                                            KITH_NOISE_MSG_MAX - 1, &len),
                 -KITH_EBUFSIZE);
    cr_assert_eq(kith_noise_handshake_action(&ini.hs), KITH_NOISE_WRITE);
    cr_assert_eq(
        kith_noise_handshake_write(&ini.hs, big, KITH_NOISE_MSG_MAX - 32, big2, sizeof(big2), &len),
        0);
    cr_assert_eq(len, KITH_NOISE_MSG_MAX);
    cr_assert_eq(
        kith_noise_handshake_read(&res.hs, big2, KITH_NOISE_MSG_MAX + 1, big, sizeof(big), &plen),
        -KITH_ETOOBIG);
    cr_assert_eq(kith_noise_handshake_read(&res.hs, big2, KITH_NOISE_MSG_MAX, big,
                                           KITH_NOISE_MSG_MAX - 33, &plen),
                 -KITH_EBUFSIZE);
    cr_assert_eq(
        kith_noise_handshake_read(&res.hs, big2, KITH_NOISE_MSG_MAX, big, sizeof(big), &plen), 0);
    cr_assert_eq(plen, KITH_NOISE_MSG_MAX - 32);
}

Test(noise_xx, out_of_turn)
{
    struct party ini, res;
    uint8_t msg[256], pt[256];
    size_t len = 0, plen = 0;

    new_party(&ini, 1);
    new_party(&res, 0);
    cr_assert_eq(kith_noise_handshake_write(&res.hs, NULL, 0, msg, sizeof(msg), &len),
                 -KITH_EINVAL);
    cr_assert_eq(kith_noise_handshake_read(&ini.hs, msg, 32, pt, sizeof(pt), &plen), -KITH_EINVAL);
    cr_assert_eq(kith_noise_handshake_split(&ini.hs, &ini.send, &ini.recv), -KITH_EINVAL);
    /* Misuse changes nothing: the handshake still completes. */
    handshake(&ini, &res, NULL);
}

Test(noise_xx, other_prologue_fails)
{
    struct party ini, res;
    uint8_t msg[256], pt[256];
    size_t len = 0, plen = 0;
    const struct kith_noise_config cfg = {.protocol_name = KITH_NOISE_PROTOCOL,
                                          .prologue = (const uint8_t *)"kith-sync-v2",
                                          .prologue_len = 12};
    struct kith_noise_config c = cfg;

    new_party(&ini, 1);
    randombytes_buf(res.s, 32);
    randombytes_buf(res.e, 32);
    c.s = res.s;
    c.e = res.e;
    cr_assert_eq(kith_noise_handshake_init(&res.hs, &c), 0);
    cr_assert_eq(kith_noise_handshake_write(&ini.hs, NULL, 0, msg, sizeof(msg), &len), 0);
    cr_assert_eq(kith_noise_handshake_read(&res.hs, msg, len, pt, sizeof(pt), &plen), 0);
    cr_assert_eq(kith_noise_handshake_write(&res.hs, NULL, 0, msg, sizeof(msg), &len), 0);
    cr_assert_eq(kith_noise_handshake_read(&ini.hs, msg, len, pt, sizeof(pt), &plen),
                 -KITH_EDECRYPT);
}

Test(noise_xx, low_order_ephemeral_is_refused)
{
    struct party ini, res;
    uint8_t msg[256], pt[256], out[256];
    size_t plen = 0, len = 0;

    new_party(&res, 0);
    new_party(&ini, 1);
    /* The all-zero point: every DH with it is zero. */
    memset(msg, 0, 32);
    cr_assert_eq(kith_noise_handshake_read(&res.hs, msg, 32, pt, sizeof(pt), &plen), 0);
    cr_assert_eq(kith_noise_handshake_write(&res.hs, NULL, 0, out, sizeof(out), &len),
                 -KITH_EDECRYPT);
    cr_assert_eq(kith_noise_handshake_action(&res.hs), KITH_NOISE_FAILED);
}
