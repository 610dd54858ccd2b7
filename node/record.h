/*
 * record: the account and group records the service keeps in the store, and
 * the rules for the names in them. It owns their byte layout and their seals;
 * the service owns what they mean.
 *
 * Both records are sealed under the node key (vault_seal) with an AD that
 * binds them to their place in the store, so a blob moved to another key does
 * not open:
 *
 *   account (STORE_DB_ACCOUNTS, key = vault_index_key(v, "account", folded name)),
 *   AD = "account" | index key[32]:
 *     version u8 (1) | name_len u8 | name | public_key[32]
 *     | sealed_sk_len u16 BE | sealed_sk (vault_pw_seal of the 64-byte secret key)
 *     | n_groups u16 BE | n x group_id[32]
 *
 *   group (STORE_DB_GROUPS, key = group id), AD = "group" | group id[32]:
 *     version u8 (1) | epoch u32 BE | group_key[32] | name_len u8 | name
 *     | n_topics u8 | n x (topic_len u8 | topic)
 *
 * Names are folded to lower case for lookups in ASCII only: "Ana" and "ana"
 * are one account, while non-ASCII letters are compared as they are.
 */
#ifndef KITH_RECORD_H
#define KITH_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "kith/invite.h"
#include "kith/post.h"
#include "store.h"
#include "vault.h"

#define RECORD_VERSION 1
#define RECORD_NAME_MAX 64     /* bytes of UTF-8, account and group names alike */
#define RECORD_TOPICS_MAX 32   /* topics per group */
#define RECORD_GROUPS_MAX 1024 /* groups per account */
#define RECORD_SEALED_SK_BYTES (KITH_SECKEY_BYTES + VAULT_PW_SEAL_OVERHEAD)

struct record_account {
    char name[RECORD_NAME_MAX + 1];
    uint8_t public_key[KITH_PUBKEY_BYTES];
    uint8_t sealed_sk[RECORD_SEALED_SK_BYTES];
    size_t sealed_sk_len;
    size_t n_groups;
    uint8_t *groups; /* n_groups x 32 bytes, malloc'd; record_account_free() */
};

struct record_group {
    uint8_t id[KITH_GROUP_ID_BYTES];
    uint32_t epoch;
    uint8_t key[KITH_GROUP_KEY_BYTES]; /* secret: record_group_wipe() when done */
    char name[RECORD_NAME_MAX + 1];
    size_t n_topics;
    char topics[RECORD_TOPICS_MAX][KITH_POST_TOPIC_MAX + 1];
};

/*
 * Check a name (account or group) and copy it, leading and trailing spaces
 * trimmed, NUL-terminated, into out. Returns 0 or -KITH_ENAME (empty after
 * trimming, over RECORD_NAME_MAX bytes, not UTF-8, or a control character).
 */
int record_name_clean(const char *in, char out[RECORD_NAME_MAX + 1]);

/* Check topic text: 1..KITH_POST_TOPIC_MAX bytes of UTF-8 without control
 * characters. Returns 0, -KITH_ETOOBIG or -KITH_ENAME. */
int record_topic_check(const char *t, size_t len);

/* 1 if s (len bytes) is valid UTF-8 (no overlongs, no surrogates), else 0. */
int record_utf8_valid(const char *s, size_t len);

/* ASCII case-insensitive equality of two NUL-terminated strings. */
int record_name_equal(const char *a, const char *b);

/* The store key of an account: keyed hash of the folded clean name. */
void record_account_key(const struct vault *v, const char *clean_name, uint8_t key[32]);

/*
 * Read and open the account stored under key. Returns 0, -KITH_ENOTFOUND,
 * -KITH_EDECRYPT / -KITH_ESTORE (a damaged record) or -ENOMEM. On success
 * *out is filled and owns its groups array: record_account_free().
 */
int record_account_load(struct store_txn *txn, const struct vault *v, const uint8_t key[32],
                        struct record_account *out);

/* Seal and put a under key. Returns 0, -ENOMEM or a store error. */
int record_account_save(struct store_txn *txn, const struct vault *v, const uint8_t key[32],
                        const struct record_account *a);

/* 1 if the account is in the group, else 0. */
int record_account_has_group(const struct record_account *a, const uint8_t gid[32]);

/* Append a group id. Returns 0, -KITH_EEXIST (already there), -KITH_ETOOBIG
 * (RECORD_GROUPS_MAX reached) or -ENOMEM. */
int record_account_add_group(struct record_account *a, const uint8_t gid[32]);

/* Free the groups array and wipe. NULL is fine. */
void record_account_free(struct record_account *a);

/* Read and open a group. Returns 0, -KITH_ENOTFOUND or -KITH_EDECRYPT /
 * -KITH_ESTORE. On error *out is wiped. */
int record_group_load(struct store_txn *txn, const struct vault *v, const uint8_t gid[32],
                      struct record_group *out);

/* Seal and put g under g->id. Returns 0 or a store error. */
int record_group_save(struct store_txn *txn, const struct vault *v, const struct record_group *g);

/* Wipe g (it holds the group key). */
void record_group_wipe(struct record_group *g);

/*
 * Fill g's topics from content_dir/topics/default.txt (one per line, '#'
 * starts a comment line, blank lines skipped), or from the built-in copy of
 * the same list when content_dir is NULL or the file cannot be read. Lines
 * that are not valid topics are skipped. Always succeeds.
 */
void record_topics_default(const char *content_dir, struct record_group *g);

#endif
