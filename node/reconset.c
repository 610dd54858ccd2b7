/*
 * reconset: the sync set of a group, read from the store (see reconset.h
 * for the rule and why it converges).
 */
#include <errno.h>
#include <string.h>

#include "kith/error.h"
#include "reconset.h"

struct walk {
    struct store_txn *txn;
    struct kith_recon_array *a; /* NULL: only count and sum */
    uint64_t count;
    uint8_t sum[KITH_RECON_SUM_BYTES];
};

int reconset_member(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES])
{
    const uint8_t *sealed;
    size_t len;

    return store_post_get(txn, id, &sealed, &len) == 0;
}

static int walk_cb(const uint8_t id[KITH_POST_ID_BYTES], uint64_t created_ms, void *arg)
{
    struct walk *w = arg;
    const uint8_t *sealed;
    size_t len;
    int r = store_post_get(w->txn, id, &sealed, &len);

    if (r == -KITH_EDELETED || r == -KITH_ENOTFOUND)
        return 0;
    if (r < 0)
        return r;
    /* The infinity timestamp is reserved by Negentropy; no honest clock
     * reaches it, and a post claiming it cannot be reconciled. */
    if (created_ms == KITH_RECON_TS_INFINITY)
        return 0;
    if (w->a != NULL)
        return kith_recon_array_add(w->a, created_ms, id);
    kith_recon_sum_add(w->sum, id);
    w->count++;
    return 0;
}

int reconset_build(struct store_txn *txn, const uint8_t gid[KITH_GROUP_ID_BYTES],
                   struct kith_recon_array *a)
{
    struct walk w;
    int r;

    memset(&w, 0, sizeof(w));
    w.txn = txn;
    w.a = a;
    r = store_group_posts(txn, gid, walk_cb, &w);
    if (r < 0)
        return r;
    return kith_recon_array_seal(a);
}

int reconset_digest(struct store_txn *txn, const uint8_t gid[KITH_GROUP_ID_BYTES], uint64_t *count,
                    uint8_t fp[KITH_RECON_FP_BYTES])
{
    struct walk w;
    int r;

    memset(&w, 0, sizeof(w));
    w.txn = txn;
    r = store_group_posts(txn, gid, walk_cb, &w);
    if (r < 0)
        return r;
    *count = w.count;
    kith_recon_fingerprint(w.sum, w.count, fp);
    return 0;
}
