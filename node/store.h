/*
 * store: the node's LMDB database. It owns the LMDB environment and its named
 * databases, grows the map when it fills, and keeps the post indexes in step
 * with the posts. It never sees a key or a clear post: everything it holds is
 * a sealed post, a sealed blob, or an index of ids and times.
 *
 * Named databases (all in DIR/store/data.mdb):
 *   posts    post id[32]                         -> 'P' | sealed post, or 'T' (tombstone:
 *                                                   the author deleted it; body gone)
 *   bygroup  group id[32] | created_ms BE[8] | post id[32] -> empty (group + time index)
 *   thread   root id[32]  | created_ms BE[8] | post id[32] -> empty (replies of a thread)
 *   accounts index key[32] (keyed hash of the name) -> sealed account blob
 *   groups   group id[32]                        -> sealed group blob
 *   meta     short ASCII name                    -> bytes ("schema" -> u32 BE, salts, checks)
 *
 * The thread index shows which posts reply to which (by id only); the README's
 * threat model says so.
 *
 * Pointers returned from a transaction point into the memory map and live only
 * until that transaction ends, as with mdb_get: copy what you need to keep.
 */
#ifndef KITH_STORE_H
#define KITH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kith/post.h"

#define STORE_SCHEMA_VERSION 1

struct store;
struct store_txn;

enum store_db {
    STORE_DB_POSTS,
    STORE_DB_BYGROUP,
    STORE_DB_THREAD,
    STORE_DB_ACCOUNTS,
    STORE_DB_GROUPS,
    STORE_DB_META,
    STORE_DB_COUNT
};

/* What the store needs to index a post; the service fills it from the opened
 * post (the store cannot read inside the ciphertext). */
struct store_post_meta {
    uint8_t group_id[KITH_GROUP_ID_BYTES];
    uint64_t created_ms;
    int has_root;                        /* replies, edits, deletes: 1 */
    uint8_t root_id[KITH_POST_ID_BYTES]; /* the post this one hangs under */
};

/*
 * Open (creating if needed, mode 0700) the store under dir. Open a directory
 * at most once per process (LMDB's file locks are per process). Runs schema
 * migrations. Returns 0, -errno, -KITH_ESCHEMA (made by a newer Kith) or
 * -KITH_ESTORE. On success *out is owned by the caller: store_close() it.
 */
int store_open(const char *dir, struct store **out);

/* As store_open, with the initial map size in bytes (0: the default, 64 MiB).
 * The map grows by doubling when full, so this is a starting point, not a
 * limit; tests use a small one to make growth happen. A store that already
 * grew keeps its larger map. */
int store_open_ex(const char *dir, size_t map_bytes, struct store **out);

/* Close the store. No transaction may be open. NULL is fine. */
void store_close(struct store *st);

/* Callback for store_write: do all the puts of one batch through txn. Return 0
 * to commit, or a negative code to abort (nothing is written). May run more
 * than once: when the map is full the store aborts, grows the map and calls it
 * again, so it must not have side effects outside txn. */
typedef int (*store_write_fn)(struct store_txn *txn, void *arg);

/*
 * Run fn in one write transaction and commit; when it returns 0 the batch is
 * on disk (fsynced). Returns 0, fn's error (nothing written), or
 * -KITH_ENOSPC if the disk is full or the map cannot grow further (nothing
 * written, the store stays good), -EBUSY if the map had to grow but read
 * transactions stayed open for 5 s (so never hold a read transaction in the
 * calling thread across store_write), or -KITH_ESTORE / -errno.
 * Inside fn, store calls that hit a full map return -KITH_ENOSPC; fn should
 * just pass the error up, and the store grows the map and retries.
 */
int store_write(struct store *st, store_write_fn fn, void *arg);

/* Begin a read-only transaction; end it with store_txn_end(). Read
 * transactions may be used from any one thread at a time (MDB_NOTLS).
 * Returns 0, -ENOMEM or a store error. */
int store_read_begin(struct store *st, struct store_txn **out);
void store_txn_end(struct store_txn *txn);

/* Generic key/value access for accounts, groups and meta. get returns
 * -KITH_ENOTFOUND; del returns -KITH_ENOTFOUND when absent. Keys are 1-511
 * bytes (-KITH_EINVAL otherwise). put and del need the transaction of a
 * store_write callback (-KITH_EINVAL on a read transaction). */
int store_get(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
              const void **val, size_t *vlen);
int store_put(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen);
int store_del(struct store_txn *txn, enum store_db db, const void *key, size_t klen);

/* Call fn for every entry of db in key order; stop early when fn returns
 * non-zero and return that value. */
typedef int (*store_kv_fn)(const void *key, size_t klen, const void *val, size_t vlen, void *arg);
int store_each(struct store_txn *txn, enum store_db db, store_kv_fn fn, void *arg);

/*
 * Store a sealed post under id with its index entries (bygroup, and thread
 * when meta->has_root). Needs a store_write transaction. Returns 0,
 * -KITH_EEXIST (already held: nothing changed), -KITH_EDELETED (a tombstone
 * is there: the post stays deleted), -KITH_EINVAL (read transaction), or a
 * store error.
 */
int store_post_put(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES],
                   const uint8_t *sealed, size_t len, const struct store_post_meta *meta);

/* Find a post. Returns 0, -KITH_ENOTFOUND, or -KITH_EDELETED (then *sealed
 * is NULL). */
int store_post_get(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES],
                   const uint8_t **sealed, size_t *len);

/* Replace a post's sealed bytes with a tombstone (the index entries stay, so
 * sync still knows the id). Needs a store_write transaction. Returns 0 or
 * -KITH_ENOTFOUND. Idempotent. The old sealed bytes leave the live database
 * at once, but like any LMDB page they may linger in free pages of the file
 * until reused (they stay sealed under the group key). */
int store_post_tombstone(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES]);

/* Resolve a hex prefix (1-64 chars, odd lengths too; upper case accepted) to
 * a full id. Tombstoned posts are found too. Returns 0, -KITH_ENOTFOUND,
 * -KITH_EAMBIGUOUS or -KITH_EINVAL (empty, too long or not hex). */
int store_post_find_prefix(struct store_txn *txn, const char *hex, uint8_t id[KITH_POST_ID_BYTES]);

/* Posts of one group, newest first (created_ms, then id, descending),
 * tombstones included. fn may read through the same txn (store_post_get);
 * it returns non-zero to stop, and that value is returned. Returns 0 when
 * the walk ends, or a store error. */
typedef int (*store_post_fn)(const uint8_t id[KITH_POST_ID_BYTES], uint64_t created_ms, void *arg);
int store_group_posts(struct store_txn *txn, const uint8_t group_id[KITH_GROUP_ID_BYTES],
                      store_post_fn fn, void *arg);

/* Posts hanging under root (replies, edits, deletes), oldest first
 * (created_ms, then id, ascending); otherwise as store_group_posts. */
int store_thread_posts(struct store_txn *txn, const uint8_t root_id[KITH_POST_ID_BYTES],
                       store_post_fn fn, void *arg);

struct store_stats {
    uint64_t posts; /* entries in posts, tombstones included */
    uint64_t tombstones;
    uint64_t accounts;
    uint64_t groups;
    uint64_t map_size;   /* bytes */
    uint64_t used_bytes; /* pages in use x page size */
    uint64_t map_grows;  /* times this process grew the map since store_open */
};
/* Fill out. Counting tombstones walks every post (O(n)). Returns 0 or a store
 * error. */
int store_stats(struct store_txn *txn, struct store_stats *out);

#endif
