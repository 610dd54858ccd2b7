/*
 * reconset: a group's sync set, the items (created_ms, post id) that go
 * into set reconciliation (proto/PROTOCOL.md, "Sync set"): every post of the
 * group the store holds (posts, replies, deletes, profiles, ...) except the
 * ones tombstoned by a delete. So two nodes that have seen the same posts
 * hold the same set whatever order the posts came in, and a node that
 * tombstoned a post agrees with one that never had it (both hold the
 * delete).
 *
 * It reads the store's group index (bygroup) and the posts database; it
 * owns nothing but what it returns.
 */
#ifndef KITH_RECONSET_H
#define KITH_RECONSET_H

#include <stddef.h>
#include <stdint.h>

#include "kith/post.h"
#include "kith/recon.h"
#include "store.h"

/*
 * Fill a (initialised with kith_recon_array_init, empty) with the sync set of
 * group gid and seal it, as a snapshot read in txn.
 *
 * A snapshot copies the set into memory (40 bytes an item plus 32 of prefix
 * sums): fine for the sets of a peer group (thousands to a few hundred
 * thousand posts). A storage served straight from an LMDB cursor over
 * bygroup would need no copy and no O(n) start, but it would need the
 * tombstones out of bygroup (or a separate sync index) and a tree of range
 * sums to keep fingerprints below O(n); that is for when sets outgrow
 * memory.
 * Returns 0, -ENOMEM or a store error; on error a holds what was added
 * (kith_recon_array_free it either way).
 */
int reconset_build(struct store_txn *txn, const uint8_t gid[KITH_GROUP_ID_BYTES],
                   struct kith_recon_array *a);

/*
 * The size and Negentropy fingerprint of group gid's whole sync set (the
 * set_fp of beacon summaries and the digest `sync.sets` shows), without
 * building the set. Returns 0 or a store error.
 */
int reconset_digest(struct store_txn *txn, const uint8_t gid[KITH_GROUP_ID_BYTES], uint64_t *count,
                    uint8_t fp[KITH_RECON_FP_BYTES]);

/* 1 if id is in a sync set (held and not tombstoned), else 0. */
int reconset_member(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES]);

#endif
