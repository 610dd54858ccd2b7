/*
 * Tests for proto/proof.c: known answers for group proofs and beacon tags and summaries
 * (computed with Python's hashlib.blake2b from the formulas in
 * proto/PROTOCOL.md, not with proof.c), and that a proof, tag or summary
 * matches only with the same session, role, epoch, key, node and (near) time
 * window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "kith/proof.h"

__attribute__((constructor)) static void init_sodium(void)
{
    if (sodium_init() < 0)
        abort();
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    cr_assert_eq(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* group key 40..5f, handshake hash 00..3f */
static uint8_t gk[32], hh[64];

static void setup(void)
{
    for (int i = 0; i < 32; i++)
        gk[i] = (uint8_t)(0x40 + i);
    for (int i = 0; i < 64; i++)
        hh[i] = (uint8_t)i;
}

static const struct {
    uint32_t epoch;
    int role;
    const char *hex;
} PROOF_KAT[] = {
    {1, 0, "69558de73dcd961bc55207442e967d029b010c35d8092d2524f230912eff1bd6"},
    {1, 1, "8ee6052a729f32db0b8dfa38da7e7e171ecb0ce95ff439251adef09e734cd750"},
    {2, 0, "d4c2e6343e055f60ea1cd31a5a79ffd109622532645e5c4eb749aa36c541e653"},
    {2, 1, "e6e9dc9e4eb1a241152c776c7967e56c62e67d63f7b9865f531d610c87b5af9e"},
};

Test(proof, known_answers)
{
    uint8_t want[32], got[32];

    setup();
    for (size_t i = 0; i < sizeof(PROOF_KAT) / sizeof(PROOF_KAT[0]); i++) {
        unhex(PROOF_KAT[i].hex, want, 32);
        cr_assert_eq(kith_proof_make(gk, PROOF_KAT[i].epoch, hh, PROOF_KAT[i].role, got), 0);
        cr_assert_arr_eq(got, want, 32, "epoch %u role %d", PROOF_KAT[i].epoch, PROOF_KAT[i].role);
        cr_assert_eq(kith_proof_check(gk, PROOF_KAT[i].epoch, hh, PROOF_KAT[i].role, want), 0);
    }
}

Test(proof, matches_only_the_same_session_role_epoch_key)
{
    uint8_t p[32], other[64], gk2[32];

    setup();
    cr_assert_eq(kith_proof_make(gk, 7, hh, KITH_PROOF_INITIATOR, p), 0);
    cr_assert_eq(kith_proof_check(gk, 7, hh, KITH_PROOF_INITIATOR, p), 0);
    /* Reflected back to its sender, who checks it as the responder's. */
    cr_assert_eq(kith_proof_check(gk, 7, hh, KITH_PROOF_RESPONDER, p), -KITH_ENOTFOUND);
    cr_assert_eq(kith_proof_check(gk, 6, hh, KITH_PROOF_INITIATOR, p), -KITH_ENOTFOUND);
    cr_assert_eq(kith_proof_check(gk, 8, hh, KITH_PROOF_INITIATOR, p), -KITH_ENOTFOUND);
    /* Replayed on another session: one bit of the handshake hash differs. */
    for (size_t bit = 0; bit < 64 * 8; bit += 37) {
        memcpy(other, hh, 64);
        other[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(kith_proof_check(gk, 7, other, KITH_PROOF_INITIATOR, p), -KITH_ENOTFOUND);
    }
    memcpy(gk2, gk, 32);
    gk2[31] ^= 0x80;
    cr_assert_eq(kith_proof_check(gk2, 7, hh, KITH_PROOF_INITIATOR, p), -KITH_ENOTFOUND);
    p[0] ^= 1;
    cr_assert_eq(kith_proof_check(gk, 7, hh, KITH_PROOF_INITIATOR, p), -KITH_ENOTFOUND);
}

Test(proof, bad_role)
{
    uint8_t p[32];

    setup();
    memset(p, 0xee, sizeof(p));
    cr_assert_eq(kith_proof_make(gk, 1, hh, 2, p), -KITH_EINVAL);
    cr_assert_eq(kith_proof_make(gk, 1, hh, -1, p), -KITH_EINVAL);
    for (int i = 0; i < 32; i++)
        cr_assert_eq(p[i], 0xee); /* untouched */
    cr_assert_eq(kith_proof_check(gk, 1, hh, 2, p), -KITH_EINVAL);
}

/* The receiver's side: expected proofs for each key it holds, matched
 * against what the peer sent. */
Test(proof, find)
{
    uint8_t keys[3][32], expected[3 * 32], sent[32];
    size_t idx = 99;

    setup();
    for (int k = 0; k < 3; k++) {
        memset(keys[k], 0x10 * (k + 1), 32);
        cr_assert_eq(kith_proof_make(keys[k], 1, hh, KITH_PROOF_RESPONDER, expected + 32 * k), 0);
    }
    cr_assert_eq(kith_proof_make(keys[2], 1, hh, KITH_PROOF_RESPONDER, sent), 0);
    cr_assert_eq(kith_proof_find(expected, 3, sent, &idx), 0);
    cr_assert_eq(idx, 2);
    cr_assert_eq(kith_proof_make(keys[0], 1, hh, KITH_PROOF_RESPONDER, sent), 0);
    cr_assert_eq(kith_proof_find(expected, 3, sent, &idx), 0);
    cr_assert_eq(idx, 0);
    /* The same key twice: the first is reported. */
    memcpy(expected + 64, expected, 32);
    cr_assert_eq(kith_proof_find(expected, 3, sent, &idx), 0);
    cr_assert_eq(idx, 0);
    idx = 99;
    cr_assert_eq(kith_proof_make(gk, 1, hh, KITH_PROOF_RESPONDER, sent), 0);
    cr_assert_eq(kith_proof_find(expected, 3, sent, &idx), -KITH_ENOTFOUND);
    cr_assert_eq(idx, 99);
    cr_assert_eq(kith_proof_find(expected, 0, sent, &idx), -KITH_ENOTFOUND);
}

/* node key 80..9f, set fingerprint c0..cf */
static uint8_t nk[32], fp[16];

static void setup_beacon(void)
{
    setup();
    for (int i = 0; i < 32; i++)
        nk[i] = (uint8_t)(0x80 + i);
    for (int i = 0; i < 16; i++)
        fp[i] = (uint8_t)(0xc0 + i);
}

static const struct {
    uint64_t window;
    const char *hex;
} TAG_KAT[] = {
    {472221, "51e9d342a041ddffa31f91892cc9c7f8"},
    {472222, "71b72912de1c6b4d02b2389e94a97e6e"},
    {472223, "aa32b444bb453e0b39da764202b6c8e3"},
    {472224, "ed1f0ff0b751c1815aa040230d3a4e59"},
};

Test(tag, known_answers)
{
    uint8_t want[16], got[16];

    setup_beacon();
    cr_assert_eq(kith_tag_window(1700000000000ull), 472222);
    cr_assert_eq(kith_tag_window(0), 0);
    cr_assert_eq(kith_tag_window(3599999), 0);
    cr_assert_eq(kith_tag_window(3600000), 1);
    for (size_t i = 0; i < sizeof(TAG_KAT) / sizeof(TAG_KAT[0]); i++) {
        unhex(TAG_KAT[i].hex, want, 16);
        kith_tag_make(gk, 1, TAG_KAT[i].window, nk, got);
        cr_assert_arr_eq(got, want, 16, "window %llu", (unsigned long long)TAG_KAT[i].window);
    }
    unhex("ff58525d0cd5772a9043619fc74fa59b", want, 16);
    kith_summary_make(gk, 1, 472222, nk, fp, got);
    cr_assert_arr_eq(got, want, 16);
}

Test(tag, windows_keys_and_nodes)
{
    uint8_t tag[16], gk2[32], nk2[32];
    uint64_t w = 472222, at = 0;

    setup_beacon();
    kith_tag_make(gk, 1, w, nk, tag);
    /* The receiver's clock may be an hour either way. */
    cr_assert_eq(kith_tag_check(gk, 1, w, nk, tag, &at), 0);
    cr_assert_eq(at, w);
    cr_assert_eq(kith_tag_check(gk, 1, w - 1, nk, tag, &at), 0);
    cr_assert_eq(at, w);
    cr_assert_eq(kith_tag_check(gk, 1, w + 1, nk, tag, NULL), 0);
    at = 7;
    cr_assert_eq(kith_tag_check(gk, 1, w - 2, nk, tag, &at), -KITH_ENOTFOUND);
    cr_assert_eq(at, 7);
    cr_assert_eq(kith_tag_check(gk, 1, w + 2, nk, tag, &at), -KITH_ENOTFOUND);
    cr_assert_eq(kith_tag_check(gk, 2, w, nk, tag, &at), -KITH_ENOTFOUND);
    memcpy(gk2, gk, 32);
    gk2[0] ^= 1;
    cr_assert_eq(kith_tag_check(gk2, 1, w, nk, tag, &at), -KITH_ENOTFOUND);
    /* Another node's beacon: its tag for the same group differs. */
    memcpy(nk2, nk, 32);
    nk2[31] ^= 1;
    cr_assert_eq(kith_tag_check(gk, 1, w, nk2, tag, &at), -KITH_ENOTFOUND);
    tag[15] ^= 1;
    cr_assert_eq(kith_tag_check(gk, 1, w, nk, tag, &at), -KITH_ENOTFOUND);

    /* Window 0 (a Pi that thinks it is 1970) checks its neighbours too,
     * with the u64 wrap at the low end harmless. */
    kith_tag_make(gk, 1, 0, nk, tag);
    cr_assert_eq(kith_tag_check(gk, 1, 0, nk, tag, &at), 0);
    cr_assert_eq(kith_tag_check(gk, 1, 1, nk, tag, &at), 0);
    cr_assert_eq(at, 0);
    kith_tag_make(gk, 1, UINT64_MAX, nk, tag);
    cr_assert_eq(kith_tag_check(gk, 1, 0, nk, tag, &at), 0);
    cr_assert_eq(at, UINT64_MAX);
}

Test(tag, summary)
{
    uint8_t s[16], fp2[16], nk2[32];

    setup_beacon();
    kith_summary_make(gk, 1, 472222, nk, fp, s);
    cr_assert_eq(kith_summary_check(gk, 1, 472222, nk, fp, s), 0);
    memcpy(fp2, fp, 16);
    fp2[0] ^= 1; /* one post more or less */
    cr_assert_eq(kith_summary_check(gk, 1, 472222, nk, fp2, s), -KITH_ENOTFOUND);
    cr_assert_eq(kith_summary_check(gk, 1, 472223, nk, fp, s), -KITH_ENOTFOUND);
    cr_assert_eq(kith_summary_check(gk, 2, 472222, nk, fp, s), -KITH_ENOTFOUND);
    memcpy(nk2, nk, 32);
    nk2[0] ^= 1;
    cr_assert_eq(kith_summary_check(gk, 1, 472222, nk2, fp, s), -KITH_ENOTFOUND);
}

/* Tags of one group in different windows do not repeat, and the tag is not
 * a prefix of the proof or of the summary (separate derived keys and
 * domain strings). */
Test(tag, unlinkable_across_windows)
{
    uint8_t a[16], b[16], p[32], s[16];

    setup_beacon();
    kith_tag_make(gk, 1, 100, nk, a);
    for (uint64_t w = 101; w < 200; w++) {
        kith_tag_make(gk, 1, w, nk, b);
        cr_assert_arr_neq(a, b, 16);
    }
    cr_assert_eq(kith_proof_make(gk, 1, hh, 0, p), 0);
    cr_assert_arr_neq(a, p, 16);
    kith_summary_make(gk, 1, 100, nk, fp, s);
    cr_assert_arr_neq(a, s, 16);
}
