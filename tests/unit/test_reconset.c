/*
 * test_reconset: a group's sync set read from the store: every post of the
 * group but the tombstoned ones, in (created_ms, id) order, only that
 * group's; and the digest equals the Negentropy fingerprint of the set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "kith/error.h"
#include "reconset.h"

static char dir[64];
static struct store *st;

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    snprintf(dir, sizeof(dir), "/tmp/kith-reconset-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, &st), 0);
}

static void teardown(void)
{
    char cmd[128];

    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(reconset, .init = setup, .fini = teardown);

struct put {
    const uint8_t *gid;
    uint8_t id[32];
    uint64_t ms;
    int tomb;
};

static int put_cb(struct store_txn *txn, void *arg)
{
    struct put *p = arg;
    struct store_post_meta m;
    uint8_t sealed[KITH_POST_OUTER_BYTES + KITH_POST_TAG_BYTES] = {0};
    int r;

    memset(&m, 0, sizeof(m));
    memcpy(m.group_id, p->gid, 32);
    m.created_ms = p->ms;
    r = store_post_put(txn, p->id, sealed, sizeof(sealed), &m);
    if (r == 0 && p->tomb)
        r = store_post_tombstone(txn, p->id);
    return r;
}

static void put(const uint8_t gid[32], uint8_t id[32], uint64_t ms, int tomb)
{
    struct put p = {gid, {0}, ms, tomb};

    randombytes_buf(p.id, sizeof(p.id));
    memcpy(id, p.id, 32);
    cr_assert_eq(store_write(st, put_cb, &p), 0);
}

Test(reconset, set_is_group_posts_minus_tombstones)
{
    uint8_t g1[32], g2[32], ids[6][32], sum[32] = {0}, fp[16], want_fp[16];
    struct kith_recon_array a;
    struct kith_recon_item it;
    struct store_txn *txn;
    uint64_t count;

    randombytes_buf(g1, sizeof(g1));
    randombytes_buf(g2, sizeof(g2));
    put(g1, ids[0], 30, 0);
    put(g1, ids[1], 10, 0);
    put(g1, ids[2], 20, 1); /* tombstoned: out */
    put(g2, ids[3], 15, 0); /* other group: out */
    put(g1, ids[4], 10, 0);
    put(g1, ids[5], UINT64_MAX, 0); /* Negentropy's infinity: out */
    cr_assert_eq(store_read_begin(st, &txn), 0);
    kith_recon_array_init(&a);
    cr_assert_eq(reconset_build(txn, g1, &a), 0);
    cr_assert_eq(a.n, 3);
    cr_assert_eq(a.items[2].ts, 30);
    cr_assert_eq(memcmp(a.items[2].id, ids[0], 32), 0);
    /* ts 10 twice: ordered by id */
    it = a.items[0];
    cr_assert_eq(it.ts, 10);
    cr_assert_eq(a.items[1].ts, 10);
    cr_assert_lt(memcmp(a.items[0].id, a.items[1].id, 32), 0);
    kith_recon_array_free(&a);

    cr_assert_eq(reconset_digest(txn, g1, &count, fp), 0);
    cr_assert_eq(count, 3);
    kith_recon_sum_add(sum, ids[0]);
    kith_recon_sum_add(sum, ids[1]);
    kith_recon_sum_add(sum, ids[4]);
    kith_recon_fingerprint(sum, 3, want_fp);
    cr_assert_eq(memcmp(fp, want_fp, 16), 0);
    cr_assert_eq(reconset_member(txn, ids[0]), 1);
    cr_assert_eq(reconset_member(txn, ids[2]), 0);
    store_txn_end(txn);
}

Test(reconset, empty_group)
{
    uint8_t g[32], fp[16], want[16], zero[32] = {0};
    struct kith_recon_array a;
    struct store_txn *txn;
    uint64_t count = 7;

    randombytes_buf(g, sizeof(g));
    cr_assert_eq(store_read_begin(st, &txn), 0);
    kith_recon_array_init(&a);
    cr_assert_eq(reconset_build(txn, g, &a), 0);
    cr_assert_eq(a.n, 0);
    kith_recon_array_free(&a);
    cr_assert_eq(reconset_digest(txn, g, &count, fp), 0);
    cr_assert_eq(count, 0);
    kith_recon_fingerprint(zero, 0, want);
    cr_assert_eq(memcmp(fp, want, 16), 0);
    store_txn_end(txn);
}
