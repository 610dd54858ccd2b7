/*
 * test_identity: the node's Noise static key pair is made once, is the same
 * after the store is reopened, is kept sealed under the node key (not in the
 * clear), and does not open under another node key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "identity.h"
#include "kith/error.h"

static char dir[64], keyfile[128];

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    snprintf(dir, sizeof(dir), "/tmp/kith-identity-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(keyfile, sizeof(keyfile), "%s/node.key", dir);
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(identity, .init = setup, .fini = teardown);

static void open_node(struct store **st, struct vault **v)
{
    cr_assert_eq(store_open(dir, st), 0);
    cr_assert_eq(vault_open_keyfile(*st, keyfile, v), 0);
}

static void close_node(struct store *st, struct vault *v)
{
    vault_close(v);
    store_close(st);
}

Test(identity, created_once_and_same_after_reopen)
{
    struct store *st;
    struct vault *v;
    struct identity *a, *b;
    uint8_t pk[32], sk[32], derived[32];

    open_node(&st, &v);
    cr_assert_eq(identity_open(st, v, &a), 0);
    memcpy(pk, a->pk, 32);
    memcpy(sk, a->sk, 32);
    cr_assert_eq(crypto_scalarmult_base(derived, a->sk), 0);
    cr_assert_eq(memcmp(derived, a->pk, 32), 0);
    /* Opening again in the same run reads the same key. */
    cr_assert_eq(identity_open(st, v, &b), 0);
    cr_assert_eq(memcmp(b->pk, pk, 32), 0);
    identity_close(b);
    identity_close(a);
    close_node(st, v);

    open_node(&st, &v);
    cr_assert_eq(identity_open(st, v, &a), 0);
    cr_assert_eq(memcmp(a->pk, pk, 32), 0);
    cr_assert_eq(memcmp(a->sk, sk, 32), 0);
    identity_close(a);
    close_node(st, v);
    sodium_memzero(sk, sizeof(sk));
}

struct find {
    const uint8_t *needle;
    int found;
};

static int scan(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    struct find *f = arg;
    const uint8_t *b = val;

    (void)key;
    (void)klen;
    for (size_t i = 0; i + 32 <= vlen; i++) {
        if (memcmp(b + i, f->needle, 32) == 0)
            f->found = 1;
    }
    return 0;
}

Test(identity, sealed_in_meta)
{
    struct store *st;
    struct vault *v;
    struct identity *a;
    struct store_txn *txn;
    const void *val;
    size_t vlen;
    struct find f;

    open_node(&st, &v);
    cr_assert_eq(identity_open(st, v, &a), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(
        store_get(txn, STORE_DB_META, IDENTITY_META_KEY, strlen(IDENTITY_META_KEY), &val, &vlen),
        0);
    cr_assert_eq(vlen, 1 + 32 + VAULT_SEAL_OVERHEAD);
    /* Neither half of the key is anywhere in meta in the clear. */
    f.needle = a->sk;
    f.found = 0;
    cr_assert_eq(store_each(txn, STORE_DB_META, scan, &f), 0);
    cr_assert_eq(f.found, 0);
    f.needle = a->pk;
    cr_assert_eq(store_each(txn, STORE_DB_META, scan, &f), 0);
    cr_assert_eq(f.found, 0);
    store_txn_end(txn);
    identity_close(a);
    close_node(st, v);
}

static int put_cb(struct store_txn *txn, void *arg)
{
    const uint8_t *blob = arg;

    return store_put(txn, STORE_DB_META, IDENTITY_META_KEY, strlen(IDENTITY_META_KEY), blob, 10);
}

Test(identity, damaged_blob_refused)
{
    struct store *st;
    struct vault *v;
    struct identity *a = (struct identity *)1;
    uint8_t junk[10] = {0};

    open_node(&st, &v);
    cr_assert_eq(store_write(st, put_cb, junk), 0);
    cr_assert_eq(identity_open(st, v, &a), -KITH_ESTORE);
    cr_assert_null(a);
    close_node(st, v);
}

Test(identity, other_node_key_cannot_open)
{
    struct store *st;
    struct vault *v;
    struct identity *a;
    char other[160];

    open_node(&st, &v);
    cr_assert_eq(identity_open(st, v, &a), 0);
    identity_close(a);
    close_node(st, v);
    /* A node key file that is not this store's is refused by the vault
     * before the identity is read; the seal's AD binds the blob too, so a
     * swapped blob would not open either (checked by vault's tests). */
    snprintf(other, sizeof(other), "%s/other.key", dir);
    cr_assert_eq(store_open(dir, &st), 0);
    cr_assert_eq(vault_open_keyfile(st, other, &v), -KITH_ENOKEY);
    store_close(st);
}
