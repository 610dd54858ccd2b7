/*
 * Tests for node/store.c: the LMDB store, its post indexes, map growth,
 * batch atomicity, schema versions, a full disk and a kill -9 mid-burst.
 * Every test works in its own mkdtemp directory and removes it.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kith/error.h"
#include "store.h"

/* ---- fixtures ---- */

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    strcpy(tmpdir, "/tmp/kith-store-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char mnt[128];
    snprintf(mnt, sizeof mnt, "%s/mnt", tmpdir);
    umount2(mnt, MNT_DETACH); /* left mounted only when a test failed midway */
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Criterion macros are unknown to cppcheck. */
// cppcheck-suppress unknownMacro
TestSuite(store, .init = setup, .fini = teardown, .timeout = 120);

/* A post as the store sees it: random sealed bytes, id = BLAKE2b-256 of
 * them (as in the real format), a group and a time. */
struct tpost {
    uint8_t id[32];
    uint8_t sealed[600];
    size_t len;
    struct store_post_meta meta;
};

static void make_post(struct tpost *p, const uint8_t group[32], uint64_t ms, size_t len)
{
    cr_assert(len <= sizeof p->sealed);
    memset(p, 0, sizeof *p);
    p->len = len;
    randombytes_buf(p->sealed, len);
    crypto_generichash(p->id, 32, p->sealed, len, NULL, 0);
    memcpy(p->meta.group_id, group, 32);
    p->meta.created_ms = ms;
}

struct put_batch {
    struct tpost *posts;
    size_t n;
    int calls;
    int fail_with; /* return this after the puts */
};

static int put_batch_fn(struct store_txn *txn, void *arg)
{
    struct put_batch *b = arg;
    b->calls++;
    for (size_t i = 0; i < b->n; i++) {
        int rc = store_post_put(txn, b->posts[i].id, b->posts[i].sealed, b->posts[i].len,
                                &b->posts[i].meta);
        if (rc != 0)
            return rc;
    }
    return b->fail_with;
}

static int put_posts(struct store *st, struct tpost *posts, size_t n)
{
    struct put_batch b = {posts, n, 0, 0};
    return store_write(st, put_batch_fn, &b);
}

static void assert_post(struct store *st, const struct tpost *p)
{
    struct store_txn *txn;
    const uint8_t *sealed;
    size_t len;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_post_get(txn, p->id, &sealed, &len), 0);
    cr_assert_eq(len, p->len);
    cr_assert_eq(memcmp(sealed, p->sealed, len), 0);
    store_txn_end(txn);
}

static struct store *open_store(void)
{
    struct store *st = NULL;
    cr_assert_eq(store_open(tmpdir, &st), 0);
    cr_assert_not_null(st);
    return st;
}

struct kv_arg {
    enum store_db db;
    const char *key;
    const void *val;
    size_t vlen;
};

static int put_kv_fn(struct store_txn *txn, void *arg)
{
    struct kv_arg *a = arg;
    return store_put(txn, a->db, a->key, strlen(a->key), a->val, a->vlen);
}

static int del_kv_fn(struct store_txn *txn, void *arg)
{
    struct kv_arg *a = arg;
    return store_del(txn, a->db, a->key, strlen(a->key));
}

static uint32_t read_schema(struct store *st)
{
    struct store_txn *txn;
    const void *v;
    size_t vlen;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_get(txn, STORE_DB_META, "schema", 6, &v, &vlen), 0);
    cr_assert_eq(vlen, 4);
    const uint8_t *b = v;
    uint32_t ver = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    store_txn_end(txn);
    return ver;
}

/* ---- open, reopen, schema ---- */

Test(store, open_creates_private_dirs_and_schema)
{
    char path[128];
    struct stat sb;
    struct store *st = open_store();
    snprintf(path, sizeof path, "%s/store", tmpdir);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/store/data.mdb", tmpdir);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 077, 0);
    cr_assert_eq(read_schema(st), STORE_SCHEMA_VERSION);
    store_close(st);
}

Test(store, reopen_keeps_data)
{
    uint8_t group[32];
    struct tpost p;
    randombytes_buf(group, sizeof group);
    make_post(&p, group, 1700000000000ull, 300);
    struct store *st = open_store();
    cr_assert_eq(put_posts(st, &p, 1), 0);
    store_close(st);
    st = open_store();
    assert_post(st, &p);
    store_close(st);
}

Test(store, newer_schema_is_refused)
{
    uint8_t v2[4] = {0, 0, 0, STORE_SCHEMA_VERSION + 1};
    struct kv_arg a = {STORE_DB_META, "schema", v2, 4};
    struct store *st = open_store();
    cr_assert_eq(store_write(st, put_kv_fn, &a), 0);
    store_close(st);
    st = (struct store *)1;
    cr_assert_eq(store_open(tmpdir, &st), -KITH_ESCHEMA);
    cr_assert_null(st);
}

Test(store, schema_0_store_is_migrated_and_keeps_data)
{
    uint8_t v0[4] = {0, 0, 0, 0}, group[32];
    struct kv_arg a = {STORE_DB_META, "schema", v0, 4};
    struct tpost p;
    randombytes_buf(group, sizeof group);
    make_post(&p, group, 5, 100);
    struct store *st = open_store();
    cr_assert_eq(put_posts(st, &p, 1), 0);
    cr_assert_eq(store_write(st, put_kv_fn, &a), 0);
    cr_assert_eq(read_schema(st), 0);
    store_close(st);
    st = open_store();
    cr_assert_eq(read_schema(st), STORE_SCHEMA_VERSION);
    assert_post(st, &p);
    store_close(st);
}

/* ---- posts ---- */

struct tomb_arg {
    const uint8_t *id;
};

static int tomb_fn(struct store_txn *txn, void *arg)
{
    return store_post_tombstone(txn, ((struct tomb_arg *)arg)->id);
}

static int collect_fn(const uint8_t id[32], uint64_t ms, void *arg);

struct collected {
    uint8_t ids[1024][32];
    uint64_t ms[1024];
    size_t n;
    size_t stop_at; /* 0: never */
};

static int collect_fn(const uint8_t id[32], uint64_t ms, void *arg)
{
    struct collected *c = arg;
    cr_assert(c->n < 1024);
    memcpy(c->ids[c->n], id, 32);
    c->ms[c->n] = ms;
    c->n++;
    return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

Test(store, put_get_exists_tombstone_deleted)
{
    uint8_t group[32], missing[32];
    struct tpost p, reply;
    struct store_txn *txn;
    const uint8_t *sealed;
    size_t len;
    randombytes_buf(group, sizeof group);
    randombytes_buf(missing, sizeof missing);
    make_post(&p, group, 1000, 200);
    make_post(&reply, group, 2000, 150);
    reply.meta.has_root = 1;
    memcpy(reply.meta.root_id, p.id, 32);

    struct store *st = open_store();
    cr_assert_eq(put_posts(st, &p, 1), 0);
    cr_assert_eq(put_posts(st, &reply, 1), 0);
    cr_assert_eq(put_posts(st, &p, 1), -KITH_EEXIST);
    assert_post(st, &p);

    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_post_get(txn, missing, &sealed, &len), -KITH_ENOTFOUND);
    store_txn_end(txn);

    struct tomb_arg ta = {p.id};
    cr_assert_eq(store_write(st, tomb_fn, &ta), 0);
    cr_assert_eq(store_write(st, tomb_fn, &ta), 0); /* idempotent */
    ta.id = missing;
    cr_assert_eq(store_write(st, tomb_fn, &ta), -KITH_ENOTFOUND);
    cr_assert_eq(put_posts(st, &p, 1), -KITH_EDELETED);

    cr_assert_eq(store_read_begin(st, &txn), 0);
    sealed = (const uint8_t *)1;
    cr_assert_eq(store_post_get(txn, p.id, &sealed, &len), -KITH_EDELETED);
    cr_assert_null(sealed);
    /* The tombstone keeps its index entries, so sync still knows the id. */
    struct collected *c = calloc(1, sizeof *c);
    cr_assert_eq(store_group_posts(txn, group, collect_fn, c), 0);
    cr_assert_eq(c->n, 2);
    cr_assert_eq(memcmp(c->ids[0], reply.id, 32), 0);
    cr_assert_eq(memcmp(c->ids[1], p.id, 32), 0);
    c->n = 0;
    cr_assert_eq(store_thread_posts(txn, p.id, collect_fn, c), 0);
    cr_assert_eq(c->n, 1);
    cr_assert_eq(memcmp(c->ids[0], reply.id, 32), 0);
    cr_assert_eq(c->ms[0], 2000);
    struct store_stats s;
    cr_assert_eq(store_stats(txn, &s), 0);
    cr_assert_eq(s.posts, 2);
    cr_assert_eq(s.tombstones, 1);
    store_txn_end(txn);
    free(c);
    store_close(st);
}

/* Compare (ms, id) pairs the way the indexes order them. */
static int cmp_entry(uint64_t ma, const uint8_t *ia, uint64_t mb, const uint8_t *ib)
{
    if (ma != mb)
        return ma < mb ? -1 : 1;
    return memcmp(ia, ib, 32);
}

Test(store, index_order_two_groups_and_threads)
{
    const size_t N = 300;
    uint8_t groups[2][32];
    struct tpost *posts = calloc(N, sizeof *posts);
    struct collected *c = calloc(1, sizeof *c);
    struct store_txn *txn;
    size_t in_group[2] = {0, 0}, in_thread = 0;
    randombytes_buf(groups, sizeof groups);
    for (size_t i = 0; i < N; i++) {
        int g = i % 3 == 0; /* 100 in group 1, 200 in group 0 */
        /* Few distinct times, so equal times are ordered by id. */
        make_post(&posts[i], groups[g], 1700000000000ull + (uint64_t)randombytes_uniform(40) * 1000,
                  50 + i);
        in_group[g]++;
        if (g == 0 && i > 10 && i % 2 == 0) {
            posts[i].meta.has_root = 1;
            memcpy(posts[i].meta.root_id, posts[1].id, 32);
            in_thread++;
        }
    }
    struct store *st = open_store();
    /* Two batches, so order does not depend on insertion order. */
    cr_assert_eq(put_posts(st, posts + N / 2, N - N / 2), 0);
    cr_assert_eq(put_posts(st, posts, N / 2), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);

    for (int g = 0; g < 2; g++) {
        c->n = 0;
        cr_assert_eq(store_group_posts(txn, groups[g], collect_fn, c), 0);
        cr_assert_eq(c->n, in_group[g]);
        for (size_t i = 1; i < c->n; i++)
            cr_assert_gt(cmp_entry(c->ms[i - 1], c->ids[i - 1], c->ms[i], c->ids[i]), 0,
                         "group %d not newest first at %zu", g, i);
        for (size_t i = 0; i < c->n; i++) { /* each entry is a post of this group */
            size_t j = 0;
            while (j < N && memcmp(posts[j].id, c->ids[i], 32) != 0)
                j++;
            cr_assert_lt(j, N);
            cr_assert_eq(memcmp(posts[j].meta.group_id, groups[g], 32), 0);
            cr_assert_eq(posts[j].meta.created_ms, c->ms[i]);
        }
    }
    c->n = 0;
    cr_assert_eq(store_thread_posts(txn, posts[1].id, collect_fn, c), 0);
    cr_assert_eq(c->n, in_thread);
    for (size_t i = 1; i < c->n; i++)
        cr_assert_lt(cmp_entry(c->ms[i - 1], c->ids[i - 1], c->ms[i], c->ids[i]), 0);

    /* A callback's non-zero return stops the walk and is returned. */
    c->n = 0;
    c->stop_at = 5;
    cr_assert_eq(store_group_posts(txn, groups[0], collect_fn, c), 7);
    cr_assert_eq(c->n, 5);
    c->n = 0;
    c->stop_at = 0;
    /* Unknown group, and a post with no replies: nothing. */
    uint8_t other[32];
    randombytes_buf(other, sizeof other);
    cr_assert_eq(store_group_posts(txn, other, collect_fn, c), 0);
    cr_assert_eq(store_thread_posts(txn, posts[2].id, collect_fn, c), 0);
    cr_assert_eq(c->n, 0);
    store_txn_end(txn);
    store_close(st);
    free(c);
    free(posts);
}

/* Group ids at the very ends of the key space: the backwards walk must not
 * spill into the neighbouring group. */
Test(store, group_posts_at_key_space_edges)
{
    uint8_t lo[32], hi[32];
    struct tpost p[4];
    struct collected *c = calloc(1, sizeof *c);
    struct store_txn *txn;
    memset(lo, 0x00, 32);
    memset(hi, 0xff, 32);
    make_post(&p[0], lo, 1, 40);
    make_post(&p[1], lo, UINT64_MAX, 40);
    make_post(&p[2], hi, 0, 40);
    make_post(&p[3], hi, UINT64_MAX, 40);
    memset(p[3].id, 0xff, 32); /* the largest possible key */
    struct store *st = open_store();
    cr_assert_eq(put_posts(st, p, 4), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_group_posts(txn, hi, collect_fn, c), 0);
    cr_assert_eq(c->n, 2);
    cr_assert_eq(memcmp(c->ids[0], p[3].id, 32), 0);
    cr_assert_eq(memcmp(c->ids[1], p[2].id, 32), 0);
    c->n = 0;
    cr_assert_eq(store_group_posts(txn, lo, collect_fn, c), 0);
    cr_assert_eq(c->n, 2);
    cr_assert_eq(c->ms[0], UINT64_MAX);
    cr_assert_eq(c->ms[1], 1);
    store_txn_end(txn);
    store_close(st);
    free(c);
}

Test(store, find_prefix)
{
    uint8_t group[32] = {1};
    struct tpost p[4];
    struct store_txn *txn;
    uint8_t id[32];
    char hex[65];
    for (int i = 0; i < 4; i++)
        make_post(&p[i], group, (uint64_t)i, 30);
    /* Crafted ids: ab12.., ab13.., ab1f.. share "ab1"; 70.. stands alone. */
    memset(p[0].id, 0x11, 32);
    p[0].id[0] = 0xab, p[0].id[1] = 0x12;
    memset(p[1].id, 0x22, 32);
    p[1].id[0] = 0xab, p[1].id[1] = 0x13;
    memset(p[2].id, 0x33, 32);
    p[2].id[0] = 0xab, p[2].id[1] = 0x1f;
    memset(p[3].id, 0x44, 32);
    p[3].id[0] = 0x70;
    struct store *st = open_store();
    cr_assert_eq(put_posts(st, p, 4), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);

    sodium_bin2hex(hex, sizeof hex, p[1].id, 32);
    cr_assert_eq(store_post_find_prefix(txn, hex, id), 0); /* all 64 */
    cr_assert_eq(memcmp(id, p[1].id, 32), 0);
    cr_assert_eq(store_post_find_prefix(txn, "ab13", id), 0);
    cr_assert_eq(memcmp(id, p[1].id, 32), 0);
    cr_assert_eq(store_post_find_prefix(txn, "ab121", id), 0); /* odd length */
    cr_assert_eq(memcmp(id, p[0].id, 32), 0);
    cr_assert_eq(store_post_find_prefix(txn, "7", id), 0);
    cr_assert_eq(memcmp(id, p[3].id, 32), 0);
    cr_assert_eq(store_post_find_prefix(txn, "AB1F", id), 0);
    cr_assert_eq(memcmp(id, p[2].id, 32), 0);

    cr_assert_eq(store_post_find_prefix(txn, "ab1", id), -KITH_EAMBIGUOUS);
    cr_assert_eq(store_post_find_prefix(txn, "a", id), -KITH_EAMBIGUOUS);
    cr_assert_eq(store_post_find_prefix(txn, "ab14", id), -KITH_ENOTFOUND);
    cr_assert_eq(store_post_find_prefix(txn, "ab120", id), -KITH_ENOTFOUND);
    cr_assert_eq(store_post_find_prefix(txn, "f", id), -KITH_ENOTFOUND); /* past the end */
    cr_assert_eq(store_post_find_prefix(txn, "0", id), -KITH_ENOTFOUND);
    cr_assert_eq(store_post_find_prefix(txn, "", id), -KITH_EINVAL);
    cr_assert_eq(store_post_find_prefix(txn, "ab1g", id), -KITH_EINVAL);
    cr_assert_eq(store_post_find_prefix(txn, "ab 1", id), -KITH_EINVAL);
    memset(hex, 'a', 64);
    hex[64] = 0;
    char longhex[66];
    snprintf(longhex, sizeof longhex, "%s0", hex);
    cr_assert_eq(store_post_find_prefix(txn, longhex, id), -KITH_EINVAL);
    store_txn_end(txn);
    store_close(st);
}

/* ---- generic key/value ---- */

static int each_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    char *seen = arg;
    strncat(seen, key, klen);
    strncat(seen, "=", 2);
    strncat(seen, val, vlen);
    strncat(seen, ";", 2);
    return strlen(seen) > 100 ? 9 : 0;
}

Test(store, generic_get_put_del_each)
{
    struct kv_arg a = {STORE_DB_GROUPS, "gb", "two", 3};
    struct store_txn *txn;
    const void *v;
    size_t vlen;
    char seen[256] = "";
    struct store *st = open_store();
    cr_assert_eq(store_write(st, put_kv_fn, &a), 0);
    a.key = "ga";
    a.val = "one";
    cr_assert_eq(store_write(st, put_kv_fn, &a), 0);
    a.key = "";
    cr_assert_eq(store_write(st, put_kv_fn, &a), -KITH_EINVAL); /* LMDB refuses empty keys */

    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_get(txn, STORE_DB_GROUPS, "gb", 2, &v, &vlen), 0);
    cr_assert_eq(vlen, 3);
    cr_assert_eq(memcmp(v, "two", 3), 0);
    cr_assert_eq(store_get(txn, STORE_DB_GROUPS, "gc", 2, &v, &vlen), -KITH_ENOTFOUND);
    cr_assert_eq(store_get(txn, STORE_DB_ACCOUNTS, "gb", 2, &v, &vlen), -KITH_ENOTFOUND);
    cr_assert_eq(store_put(txn, STORE_DB_GROUPS, "gd", 2, "x", 1), -KITH_EINVAL);
    cr_assert_eq(store_del(txn, STORE_DB_GROUPS, "ga", 2), -KITH_EINVAL);
    cr_assert_eq(store_each(txn, STORE_DB_GROUPS, each_fn, seen), 0);
    cr_assert_str_eq(seen, "ga=one;gb=two;");
    store_txn_end(txn);

    a.key = "ga";
    cr_assert_eq(store_write(st, del_kv_fn, &a), 0);
    cr_assert_eq(store_write(st, del_kv_fn, &a), -KITH_ENOTFOUND);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    seen[0] = 0;
    cr_assert_eq(store_each(txn, STORE_DB_GROUPS, each_fn, seen), 0);
    cr_assert_str_eq(seen, "gb=two;");
    struct store_stats s;
    cr_assert_eq(store_stats(txn, &s), 0);
    cr_assert_eq(s.groups, 1);
    cr_assert_eq(s.accounts, 0);
    cr_assert_eq(s.posts, 0);
    store_txn_end(txn);
    store_close(st);
}

/* ---- batches and growth ---- */

Test(store, failed_batch_writes_nothing)
{
    const size_t N = 50;
    uint8_t group[32];
    struct tpost *posts = calloc(N, sizeof *posts);
    struct store_txn *txn;
    const uint8_t *sealed;
    size_t len;
    randombytes_buf(group, sizeof group);
    for (size_t i = 0; i < N; i++)
        make_post(&posts[i], group, i, 200);
    struct store *st = open_store();
    struct put_batch b = {posts, N, 0, -KITH_EINVAL};
    cr_assert_eq(store_write(st, put_batch_fn, &b), -KITH_EINVAL);
    cr_assert_eq(b.calls, 1);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(store_post_get(txn, posts[i].id, &sealed, &len), -KITH_ENOTFOUND);
    struct collected *c = calloc(1, sizeof *c);
    cr_assert_eq(store_group_posts(txn, group, collect_fn, c), 0);
    cr_assert_eq(c->n, 0);
    store_txn_end(txn);
    /* A failing post in the middle of a batch also rolls back the others. */
    posts[N - 1] = posts[0];
    b.fail_with = 0;
    cr_assert_eq(store_write(st, put_batch_fn, &b), -KITH_EEXIST);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_post_get(txn, posts[1].id, &sealed, &len), -KITH_ENOTFOUND);
    store_txn_end(txn);
    store_close(st);
    free(c);
    free(posts);
}

Test(store, map_grows_and_keeps_everything)
{
    const size_t BATCHES = 40, PER = 100; /* 4000 posts of ~600 B + indexes: ~4 MiB */
    uint8_t group[32];
    struct tpost *posts = calloc(BATCHES * PER, sizeof *posts);
    struct store *st = NULL;
    struct store_txn *txn;
    struct store_stats s;
    int calls = 0;
    randombytes_buf(group, sizeof group);
    for (size_t i = 0; i < BATCHES * PER; i++)
        make_post(&posts[i], group, i, 600);
    cr_assert_eq(store_open_ex(tmpdir, (size_t)256 * 1024, &st), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_stats(txn, &s), 0);
    store_txn_end(txn);
    uint64_t first_map = s.map_size;
    for (size_t b = 0; b < BATCHES; b++) {
        struct put_batch pb = {posts + b * PER, PER, 0, 0};
        cr_assert_eq(store_write(st, put_batch_fn, &pb), 0, "batch %zu", b);
        calls += pb.calls;
    }
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_stats(txn, &s), 0);
    store_txn_end(txn);
    cr_assert_gt(s.map_grows, 0);
    cr_assert_gt(s.map_size, first_map);
    cr_assert_eq(s.posts, BATCHES * PER);
    cr_assert_geq(s.used_bytes, BATCHES * PER * 600);
    cr_assert_leq(s.used_bytes, s.map_size);
    /* Each growth re-ran one callback: one extra call per grow at most. */
    cr_assert_eq(calls, BATCHES + (int)s.map_grows);
    cr_log_info("map %llu -> %llu bytes in %llu grows, %llu bytes used",
                (unsigned long long)first_map, (unsigned long long)s.map_size,
                (unsigned long long)s.map_grows, (unsigned long long)s.used_bytes);
    for (size_t i = 0; i < BATCHES * PER; i++)
        assert_post(st, &posts[i]);
    uint64_t grown = s.map_size;
    store_close(st);
    /* Reopened with the small default it keeps the grown map. */
    cr_assert_eq(store_open_ex(tmpdir, (size_t)256 * 1024, &st), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_stats(txn, &s), 0);
    store_txn_end(txn);
    cr_assert_geq(s.map_size, s.used_bytes);
    cr_assert_eq(s.map_grows, 0);
    (void)grown;
    for (size_t i = 0; i < BATCHES * PER; i += 97)
        assert_post(st, &posts[i]);
    store_close(st);
    free(posts);
}

/* A reader held across a write that must grow the map: the write waits,
 * then gives up with -EBUSY instead of remapping under the reader. */
Test(store, grow_waits_for_readers_then_gives_up)
{
    const size_t N = 600;
    uint8_t group[32];
    struct tpost *posts = calloc(N, sizeof *posts);
    struct store *st = NULL;
    struct store_txn *txn;
    randombytes_buf(group, sizeof group);
    for (size_t i = 0; i < N; i++)
        make_post(&posts[i], group, i, 600);
    cr_assert_eq(store_open_ex(tmpdir, (size_t)128 * 1024, &st), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(put_posts(st, posts, N), -EBUSY);
    store_txn_end(txn);
    cr_assert_eq(put_posts(st, posts, N), 0);
    assert_post(st, &posts[N - 1]);
    store_close(st);
    free(posts);
}

/* ---- full disk ---- */

Test(store, full_disk_keeps_committed_posts)
{
    const size_t PER = 20, MAXB = 400;
    char mnt[128];
    uint8_t group[32];
    struct tpost *posts = calloc(PER * MAXB, sizeof *posts);
    struct store *st = NULL;
    int rc = 0;
    size_t b;

    if (geteuid() != 0)
        cr_skip_test("full-disk test needs root to mount a 2 MiB tmpfs (CI runs as root)");
    snprintf(mnt, sizeof mnt, "%s/mnt", tmpdir);
    cr_assert_eq(mkdir(mnt, 0700), 0);
    if (mount("kith-test", mnt, "tmpfs", 0, "size=2m,mode=0700") != 0) {
        int e = errno;
        free(posts);
        cr_skip_test("cannot mount a tmpfs here (%s): full-disk test skipped", strerror(e));
    }
    randombytes_buf(group, sizeof group);
    for (size_t i = 0; i < PER * MAXB; i++)
        make_post(&posts[i], group, i, 500);
    cr_assert_eq(store_open(mnt, &st), 0);
    for (b = 0; b < MAXB; b++) {
        rc = put_posts(st, posts + b * PER, PER);
        if (rc != 0)
            break;
    }
    cr_assert_eq(rc, -KITH_ENOSPC, "batch %zu gave %d", b, rc);
    cr_assert_gt(b, 10);
    /* Still usable: reads work and the failed batch left nothing. */
    for (size_t i = 0; i < b * PER; i++)
        assert_post(st, &posts[i]);
    struct store_txn *txn;
    const uint8_t *sealed;
    size_t len;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    for (size_t i = b * PER; i < (b + 1) * PER; i++)
        cr_assert_eq(store_post_get(txn, posts[i].id, &sealed, &len), -KITH_ENOTFOUND);
    store_txn_end(txn);
    store_close(st);
    /* And it opens again on the still-full disk with every post intact. */
    cr_assert_eq(store_open(mnt, &st), 0);
    for (size_t i = 0; i < b * PER; i++)
        assert_post(st, &posts[i]);
    cr_assert_eq(put_posts(st, posts + b * PER, PER), -KITH_ENOSPC);
    store_close(st);
    cr_log_info("full disk after %zu batches of %zu posts", b, PER);
    nftw(mnt, rm_one, 16, FTW_DEPTH | FTW_PHYS); /* empties it; rmdir of mnt fails */
    cr_assert_eq(umount(mnt), 0);
    free(posts);
}

/* ---- kill -9 ---- */

Test(store, kill_9_mid_burst_loses_no_committed_post)
{
    const size_t PER = 10, MAXB = 2000;
    uint8_t group[32];
    struct tpost *posts = calloc(PER * MAXB, sizeof *posts);
    int pipefd[2];
    randombytes_buf(group, sizeof group);
    for (size_t i = 0; i < PER * MAXB; i++)
        make_post(&posts[i], group, i, 300);
    cr_assert_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct store *st;
        close(pipefd[0]);
        if (store_open(tmpdir, &st) != 0)
            _exit(2);
        for (int b = 0; b < (int)MAXB; b++) {
            if (put_posts(st, posts + (size_t)b * PER, PER) != 0)
                _exit(3);
            /* Acknowledge the batch only after store_write returned. */
            if (write(pipefd[1], &b, sizeof b) != sizeof b)
                _exit(4);
        }
        _exit(0);
    }
    close(pipefd[1]);
    int acked = -1, got;
    while (acked < 30 && read(pipefd[0], &got, sizeof got) == sizeof got)
        acked = got;
    cr_assert_eq(kill(pid, SIGKILL), 0);
    /* Batches acknowledged while we were killing it count too. */
    while (read(pipefd[0], &got, sizeof got) == sizeof got)
        acked = got;
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "writer finished before the kill (status %d)", status);
    close(pipefd[0]);

    struct store *st = open_store();
    for (size_t i = 0; i < (size_t)(acked + 1) * PER; i++)
        assert_post(st, &posts[i]);
    /* The store takes new writes after the crash. */
    cr_assert_eq(put_posts(st, posts + (MAXB - 1) * PER, PER), 0);
    store_close(st);
    free(posts);
}
