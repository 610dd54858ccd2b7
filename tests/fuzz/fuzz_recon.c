/*
 * libFuzzer target for proto/recon.c: reconciliation messages from a peer,
 * against a fixed set of 300 items (timestamps collide, so bounds carry id
 * prefixes). The first input byte picks the role and frame limit:
 *   bit 0: 0 responder, 1 initiator (after its own initiate)
 *   bit 1: frame limit 4096 instead of none
 * The rest is the peer's message. Checks, besides no crash or leak: an
 * accepted message gets an answer within the buffer and the frame limit,
 * that answer parses cleanly at a fresh peer, and an initiator reports as
 * "have" only ids it holds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/recon.h"

#define N_ITEMS 300
#define OUT_MAX (1u << 20)

static struct kith_recon_array set;
static struct kith_recon_storage st;
static uint8_t out[OUT_MAX], reply[OUT_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (sodium_init() < 0)
        abort();
    kith_recon_array_init(&set);
    for (uint32_t i = 0; i < N_ITEMS; i++) {
        uint8_t id[KITH_RECON_ID_BYTES], seed[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0, 0};

        crypto_generichash(id, sizeof(id), seed, sizeof(seed), NULL, 0);
        if (i % 7 == 0)
            memset(id, 0xab, 6); /* long shared prefixes */
        if (kith_recon_array_add(&set, 1000 + i / 3, id) < 0)
            abort();
    }
    if (kith_recon_array_seal(&set) < 0)
        abort();
    kith_recon_array_storage(&set, &st);
    return 0;
}

static int holds(const uint8_t id[KITH_RECON_ID_BYTES])
{
    for (size_t i = 0; i < set.n; i++)
        if (memcmp(set.items[i].id, id, KITH_RECON_ID_BYTES) == 0)
            return 1;
    return 0;
}

static int on_id(void *arg, int have, const uint8_t id[KITH_RECON_ID_BYTES])
{
    (void)arg;
    /* A "need" may name an id we hold elsewhere in the set (a peer can list
     * any id in any range), but a "have" is always one of ours. */
    if (have && !holds(id))
        abort();
    return 0;
}

/* Our answer must be a message a peer accepts. */
static void check_answer(const uint8_t *msg, size_t len, int from_initiator)
{
    struct kith_recon peer;
    uint8_t first[KITH_RECON_INITIATE_MAX];
    size_t need, got;
    int rc;

    if (len == 0)
        return;
    if (kith_recon_init(&peer, &st, 0, 0) < 0)
        abort();
    if (!from_initiator && kith_recon_initiate(&peer, first, sizeof(first), &got) < 0)
        abort();
    rc = kith_recon_out_max(&peer, msg, len, &need);
    if (rc == 0 && need <= OUT_MAX)
        rc = kith_recon_reconcile(&peer, msg, len, from_initiator ? NULL : on_id, NULL, reply,
                                  OUT_MAX, &got);
    if (rc < 0 && rc != -ENOMEM)
        abort();
    kith_recon_free(&peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kith_recon r;
    uint8_t first[KITH_RECON_INITIATE_MAX];
    size_t limit, need, len = 0;
    int initiator, rc;

    if (size < 1)
        return 0;
    initiator = data[0] & 1;
    limit = (data[0] & 2) ? KITH_RECON_FRAME_MIN : 0;
    data++;
    size--;
    if (kith_recon_init(&r, &st, limit, 0) < 0)
        abort();
    if (initiator && kith_recon_initiate(&r, first, sizeof(first), &len) < 0)
        abort();
    rc = kith_recon_out_max(&r, data, size, &need);
    if (rc == 0 && need <= OUT_MAX) {
        rc = kith_recon_reconcile(&r, data, size, initiator ? on_id : NULL, NULL, out, OUT_MAX,
                                  &len);
        if (rc == 0) {
            if (len > OUT_MAX || (limit != 0 && len > limit))
                abort();
            check_answer(out, len, initiator);
        }
    }
    kith_recon_free(&r);
    return 0;
}
