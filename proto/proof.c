/*
 * proof: the group membership proofs of the sync session and the group tags
 * and set summaries of discovery beacons (kith/proof.h, proto/PROTOCOL.md). Owns nothing; the
 * keys it derives from group keys stay on the stack and are wiped.
 */
#include <string.h>

#include <sodium.h>

#include "kith/proof.h"

/* Domain separation strings: ASCII, no NUL on the wire. */
static const uint8_t PROOF_KEY_CTX[] = "kith-proof-key-v1";
static const uint8_t PROOF_CTX[] = "kith-proof-v1";
static const uint8_t TAG_KEY_CTX[] = "kith-beacon-key-v1";
static const uint8_t TAG_CTX[] = "kith-beacon-v1";
static const uint8_t SUMMARY_CTX[] = "kith-summary-v1";
#define PROOF_KEY_CTX_LEN (sizeof(PROOF_KEY_CTX) - 1)
#define PROOF_CTX_LEN (sizeof(PROOF_CTX) - 1)
#define TAG_KEY_CTX_LEN (sizeof(TAG_KEY_CTX) - 1)
#define TAG_CTX_LEN (sizeof(TAG_CTX) - 1)
#define SUMMARY_CTX_LEN (sizeof(SUMMARY_CTX) - 1)

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* key = BLAKE2b-256(key = group_key, ctx | epoch u32 BE) */
static void derive(const uint8_t group_key[KITH_GROUP_KEY_BYTES], const uint8_t *ctx,
                   size_t ctx_len, uint32_t epoch, uint8_t key[32])
{
    uint8_t msg[32];

    memcpy(msg, ctx, ctx_len);
    put32(msg + ctx_len, epoch);
    crypto_generichash(key, 32, msg, ctx_len + 4, group_key, KITH_GROUP_KEY_BYTES);
}

int kith_proof_make(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                    const uint8_t hh[KITH_PROOF_HH_BYTES], int role,
                    uint8_t proof[KITH_PROOF_BYTES])
{
    uint8_t key[32];
    uint8_t msg[PROOF_CTX_LEN + KITH_PROOF_HH_BYTES + 1];

    if (role != KITH_PROOF_INITIATOR && role != KITH_PROOF_RESPONDER)
        return -KITH_EINVAL;
    derive(group_key, PROOF_KEY_CTX, PROOF_KEY_CTX_LEN, epoch, key);
    memcpy(msg, PROOF_CTX, PROOF_CTX_LEN);
    memcpy(msg + PROOF_CTX_LEN, hh, KITH_PROOF_HH_BYTES);
    msg[sizeof(msg) - 1] = (uint8_t)role;
    crypto_generichash(proof, KITH_PROOF_BYTES, msg, sizeof(msg), key, sizeof(key));
    sodium_memzero(key, sizeof(key));
    return 0;
}

int kith_proof_check(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                     const uint8_t hh[KITH_PROOF_HH_BYTES], int role,
                     const uint8_t proof[KITH_PROOF_BYTES])
{
    uint8_t want[KITH_PROOF_BYTES];
    int rc;

    if ((rc = kith_proof_make(group_key, epoch, hh, role, want)) < 0)
        return rc;
    rc = sodium_memcmp(want, proof, KITH_PROOF_BYTES) == 0 ? 0 : -KITH_ENOTFOUND;
    sodium_memzero(want, sizeof(want));
    return rc;
}

int kith_proof_find(const uint8_t *expected, size_t n, const uint8_t proof[KITH_PROOF_BYTES],
                    size_t *index)
{
    size_t found = n;

    /* No early exit: the time taken says nothing about which key matched. */
    for (size_t i = 0; i < n; i++) {
        int eq = sodium_memcmp(expected + i * KITH_PROOF_BYTES, proof, KITH_PROOF_BYTES) == 0;

        if (eq && found == n)
            found = i;
    }
    if (found == n)
        return -KITH_ENOTFOUND;
    *index = found;
    return 0;
}

uint64_t kith_tag_window(uint64_t unix_ms)
{
    return unix_ms / KITH_TAG_WINDOW_MS;
}

/* out = first 16 bytes of BLAKE2b-256(key = tag_key, ctx | window | node_key | extra) */
static void tag_mac(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                    const uint8_t *ctx, size_t ctx_len, uint64_t window,
                    const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES], const uint8_t *extra,
                    size_t extra_len, uint8_t out[16])
{
    uint8_t key[32], full[32];
    uint8_t msg[32 + 8 + KITH_TAG_NODE_KEY_BYTES + KITH_SUMMARY_SET_BYTES];
    size_t n = ctx_len;

    derive(group_key, TAG_KEY_CTX, TAG_KEY_CTX_LEN, epoch, key);
    memcpy(msg, ctx, ctx_len);
    put32(msg + n, (uint32_t)(window >> 32));
    put32(msg + n + 4, (uint32_t)window);
    n += 8;
    memcpy(msg + n, node_key, KITH_TAG_NODE_KEY_BYTES);
    n += KITH_TAG_NODE_KEY_BYTES;
    if (extra_len > 0)
        memcpy(msg + n, extra, extra_len);
    n += extra_len;
    crypto_generichash(full, sizeof(full), msg, n, key, sizeof(key));
    memcpy(out, full, 16);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(full, sizeof(full));
}

void kith_tag_make(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch, uint64_t window,
                   const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES], uint8_t tag[KITH_TAG_BYTES])
{
    tag_mac(group_key, epoch, TAG_CTX, TAG_CTX_LEN, window, node_key, NULL, 0, tag);
}

int kith_tag_check(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch, uint64_t window,
                   const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES],
                   const uint8_t tag[KITH_TAG_BYTES], uint64_t *matched)
{
    uint8_t want[KITH_TAG_BYTES];
    uint64_t at = 0;
    int match = 0;

    for (int d = -1; d <= 1; d++) {
        /* Windows wrap at the ends of u64; no real clock gets there. */
        uint64_t w = window + (uint64_t)(int64_t)d;
        int eq;

        kith_tag_make(group_key, epoch, w, node_key, want);
        eq = sodium_memcmp(want, tag, KITH_TAG_BYTES) == 0;
        if (eq && !match)
            at = w;
        match |= eq;
    }
    sodium_memzero(want, sizeof(want));
    if (!match)
        return -KITH_ENOTFOUND;
    if (matched != NULL)
        *matched = at;
    return 0;
}

void kith_summary_make(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                       uint64_t window, const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES],
                       const uint8_t set_fp[KITH_SUMMARY_SET_BYTES],
                       uint8_t summary[KITH_SUMMARY_BYTES])
{
    tag_mac(group_key, epoch, SUMMARY_CTX, SUMMARY_CTX_LEN, window, node_key, set_fp,
            KITH_SUMMARY_SET_BYTES, summary);
}

int kith_summary_check(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                       uint64_t window, const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES],
                       const uint8_t our_fp[KITH_SUMMARY_SET_BYTES],
                       const uint8_t summary[KITH_SUMMARY_BYTES])
{
    uint8_t want[KITH_SUMMARY_BYTES];
    int rc;

    kith_summary_make(group_key, epoch, window, node_key, our_fp, want);
    rc = sodium_memcmp(want, summary, KITH_SUMMARY_BYTES) == 0 ? 0 : -KITH_ENOTFOUND;
    sodium_memzero(want, sizeof(want));
    return rc;
}
