/*
 * Tests for node/hlc.c: the hybrid logical clock that stamps posts.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hlc.h"
#include "kith/error.h"
#include "store.h"

Test(hlc, next)
{
    cr_assert_eq(hlc_next(5000, 0), 5000);
    cr_assert_eq(hlc_next(5000, 4999), 5000);
    cr_assert_eq(hlc_next(5000, 5000), 5001);
    cr_assert_eq(hlc_next(0, 1700000000000ull), 1700000000001ull); /* a clock in 1970 */
    cr_assert_eq(hlc_next(10, UINT64_MAX), UINT64_MAX);            /* no wrap-around */
    cr_assert_eq(hlc_next(10, UINT64_MAX - 1), UINT64_MAX);
}

Test(hlc, wall_clock_is_plausible)
{
    cr_assert_gt(hlc_wall_ms(), 1600000000000ull); /* after 2020 */
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

struct one {
    uint8_t id[32];
    struct store_post_meta meta;
};

static int put_cb(struct store_txn *txn, void *arg)
{
    struct one *o = arg;
    uint8_t sealed[100];

    memset(sealed, 0x5a, sizeof sealed);
    sealed[0] = o->id[0];
    return store_post_put(txn, o->id, sealed, sizeof sealed, &o->meta);
}

Test(hlc, group_newest)
{
    char dir[] = "/tmp/kith-hlc-XXXXXX";
    struct store *st;
    struct store_txn *txn;
    uint8_t gid[32], other[32];
    uint64_t ms = 99;
    const uint64_t times[] = {3000, 9000, 5000};
    struct one o;

    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, &st), 0);
    memset(gid, 1, 32);
    memset(other, 2, 32);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(hlc_group_newest(txn, gid, &ms), 0);
    cr_assert_eq(ms, 0);
    store_txn_end(txn);
    for (int i = 0; i < 3; i++) {
        memset(&o, 0, sizeof o);
        o.id[0] = (uint8_t)(i + 1);
        memcpy(o.meta.group_id, gid, 32);
        o.meta.created_ms = times[i];
        cr_assert_eq(store_write(st, put_cb, &o), 0);
    }
    memset(&o, 0, sizeof o);
    o.id[0] = 9;
    memcpy(o.meta.group_id, other, 32);
    o.meta.created_ms = 50000; /* another group's time does not count */
    cr_assert_eq(store_write(st, put_cb, &o), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(hlc_group_newest(txn, gid, &ms), 0);
    cr_assert_eq(ms, 9000);
    store_txn_end(txn);
    store_close(st);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
