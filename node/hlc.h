/*
 * hlc: the hybrid logical clock that stamps new posts. A Pi with no network
 * may think it is 1970; a post is therefore never stamped earlier than the
 * newest post its node holds in that group, so the order people see survives
 * a bad clock. Stateless: "newest seen" is read from the store's group index,
 * which also holds posts that arrived by sync and tombstoned ones.
 */
#ifndef KITH_HLC_H
#define KITH_HLC_H

#include <stdint.h>

#include "kith/post.h"
#include "store.h"

/* Wall-clock milliseconds since 1970 (CLOCK_REALTIME; 0 if unavailable). */
uint64_t hlc_wall_ms(void);

/* The stamp for a new post: max(now_ms, newest_ms + 1), saturating at
 * UINT64_MAX so a forged far-future post cannot wrap the clock around. */
uint64_t hlc_next(uint64_t now_ms, uint64_t newest_ms);

/*
 * The created_ms of the newest post held in group gid (0 when none).
 * Returns 0 or a store error.
 */
int hlc_group_newest(struct store_txn *txn, const uint8_t gid[KITH_GROUP_ID_BYTES],
                     uint64_t *newest_ms);

#endif
