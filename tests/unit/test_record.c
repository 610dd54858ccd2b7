/*
 * Tests for node/record.c: name and topic rules, the sealed account and
 * group records (round trip, binding to their store key), and reading the
 * default topics.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kith/error.h"
#include "record.h"
#include "store.h"
#include "vault.h"

static char dir[64];
static struct store *st;
static struct vault *v;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    char key[128];

    cr_assert(sodium_init() >= 0);
    strcpy(dir, "/tmp/kith-record-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, &st), 0);
    snprintf(key, sizeof key, "%s/node.key", dir);
    cr_assert_eq(vault_open_keyfile(st, key, &v), 0);
}

static void teardown(void)
{
    vault_close(v);
    store_close(st);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

// cppcheck-suppress unknownMacro
TestSuite(record, .init = setup, .fini = teardown, .timeout = 60);

Test(record, names)
{
    char out[RECORD_NAME_MAX + 1], n64[65], n65[66];

    cr_assert_eq(record_name_clean("  Ana Lopez ", out), 0);
    cr_assert_str_eq(out, "Ana Lopez");
    cr_assert_eq(record_name_clean("Zoë 🌱", out), 0);
    cr_assert_str_eq(out, "Zoë 🌱");
    memset(n64, 'a', 64);
    n64[64] = '\0';
    memset(n65, 'a', 65);
    n65[65] = '\0';
    cr_assert_eq(record_name_clean(n64, out), 0);
    cr_assert_eq(record_name_clean(n65, out), -KITH_ENAME);
    const char *bad[] = {"",          "   ",       "a\tb",          "a\nb",  "a\x7f",
                         "a\xc2\x85", "a\xc0\xaf", "a\xed\xa0\x80", "a\xff", "a\xe2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(record_name_clean(bad[i], out), -KITH_ENAME, "case %zu", i);
    cr_assert(record_name_equal("Walkers", "wALKERS"));
    cr_assert(!record_name_equal("Walkers", "Walker"));
    cr_assert(!record_name_equal("É", "é")); /* ASCII folding only */
    cr_assert_eq(record_topic_check("Assessments", 11), 0);
    cr_assert_eq(record_topic_check("", 0), -KITH_ENAME);
    cr_assert_eq(record_topic_check("a\nb", 3), -KITH_ENAME);
    cr_assert_eq(record_topic_check(n65, 65), -KITH_ETOOBIG);
    cr_assert_eq(record_topic_check(n64, 64), 0);
}

struct save {
    const uint8_t *key;
    struct record_account *a;
    struct record_group *g;
};

static int save_cb(struct store_txn *txn, void *arg)
{
    struct save *s = arg;
    int r = 0;

    if (s->a != NULL)
        r = record_account_save(txn, v, s->key, s->a);
    if (r == 0 && s->g != NULL)
        r = record_group_save(txn, v, s->g);
    return r;
}

static int move_cb(struct store_txn *txn, void *arg)
{
    const uint8_t *const *keys = arg; /* from, to (32 bytes each) */
    const void *val;
    size_t len;
    uint8_t copy[4096];
    int r = store_get(txn, STORE_DB_ACCOUNTS, keys[0], 32, &val, &len);

    if (r < 0)
        return r;
    memcpy(copy, val, len);
    return store_put(txn, STORE_DB_ACCOUNTS, keys[1], 32, copy, len);
}

Test(record, account_round_trip_and_binding)
{
    struct record_account a, b;
    uint8_t key[32], key2[32], g1[32], g2[32];
    struct store_txn *txn;
    struct save s = {key, &a, NULL};
    const uint8_t *keys[2] = {key, key2};

    memset(&a, 0, sizeof a);
    strcpy(a.name, "Ana");
    randombytes_buf(a.public_key, 32);
    randombytes_buf(a.sealed_sk, sizeof a.sealed_sk);
    a.sealed_sk_len = sizeof a.sealed_sk;
    randombytes_buf(g1, 32);
    randombytes_buf(g2, 32);
    cr_assert_eq(record_account_add_group(&a, g1), 0);
    cr_assert_eq(record_account_add_group(&a, g2), 0);
    cr_assert_eq(record_account_add_group(&a, g1), -KITH_EEXIST);
    record_account_key(v, "ANA", key);
    record_account_key(v, "ana", key2);
    cr_assert_eq(memcmp(key, key2, 32), 0); /* case-folded */
    record_account_key(v, "anb", key2);
    cr_assert_neq(memcmp(key, key2, 32), 0);
    cr_assert_eq(store_write(st, save_cb, &s), 0);

    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(record_account_load(txn, v, key, &b), 0);
    cr_assert_str_eq(b.name, "Ana");
    cr_assert_eq(memcmp(b.public_key, a.public_key, 32), 0);
    cr_assert_eq(b.sealed_sk_len, a.sealed_sk_len);
    cr_assert_eq(memcmp(b.sealed_sk, a.sealed_sk, a.sealed_sk_len), 0);
    cr_assert_eq(b.n_groups, 2);
    cr_assert(record_account_has_group(&b, g2));
    record_account_free(&b);
    cr_assert_eq(record_account_load(txn, v, key2, &b), -KITH_ENOTFOUND);
    store_txn_end(txn);

    /* The same blob under another key does not open: AD binds it. */
    cr_assert_eq(store_write(st, move_cb, keys), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(record_account_load(txn, v, key2, &b), -KITH_EDECRYPT);
    store_txn_end(txn);
    record_account_free(&a);
}

Test(record, group_round_trip)
{
    struct record_group g, h;
    struct store_txn *txn;
    struct save s = {NULL, NULL, &g};
    uint8_t missing[32] = {0};

    memset(&g, 0, sizeof g);
    randombytes_buf(g.id, 32);
    randombytes_buf(g.key, 32);
    g.epoch = 7;
    strcpy(g.name, "Walkers");
    record_topics_default(NULL, &g);
    cr_assert_eq(g.n_topics, 8);
    cr_assert_eq(store_write(st, save_cb, &s), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(record_group_load(txn, v, g.id, &h), 0);
    cr_assert_eq(memcmp(h.id, g.id, 32), 0);
    cr_assert_eq(memcmp(h.key, g.key, 32), 0);
    cr_assert_eq(h.epoch, 7);
    cr_assert_str_eq(h.name, "Walkers");
    cr_assert_eq(h.n_topics, 8);
    cr_assert_str_eq(h.topics[7], "Something else");
    cr_assert_eq(record_group_load(txn, v, missing, &h), -KITH_ENOTFOUND);
    store_txn_end(txn);
    record_group_wipe(&g);
    record_group_wipe(&h);
}

Test(record, topics_from_file)
{
    char path[256], sub[128];
    struct record_group g;
    FILE *f;
    char longline[300];

    snprintf(sub, sizeof sub, "%s/content/topics", dir);
    snprintf(path, sizeof path, "%s/content", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/default.txt", sub);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    fprintf(f, "# comment\n\nFirst topic  \r\n%s\nSecond\n", longline);
    fclose(f);
    snprintf(path, sizeof path, "%s/content", dir);
    memset(&g, 0, sizeof g);
    record_topics_default(path, &g);
    cr_assert_eq(g.n_topics, 2);
    cr_assert_str_eq(g.topics[0], "First topic");
    cr_assert_str_eq(g.topics[1], "Second");
    record_topics_default("/nonexistent", &g);
    cr_assert_eq(g.n_topics, 8);
    cr_assert_str_eq(g.topics[0], "Finding out about personal budgets");
}
