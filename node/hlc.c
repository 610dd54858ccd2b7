/*
 * hlc: hybrid logical clock for post stamps (see hlc.h). Owns nothing.
 */
#include <stdint.h>
#include <time.h>

#include "hlc.h"

uint64_t hlc_wall_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t hlc_next(uint64_t now_ms, uint64_t newest_ms)
{
    uint64_t after = newest_ms == UINT64_MAX ? UINT64_MAX : newest_ms + 1;

    return now_ms > after ? now_ms : after;
}

static int newest_cb(const uint8_t id[KITH_POST_ID_BYTES], uint64_t created_ms, void *arg)
{
    *(uint64_t *)arg = created_ms;
    return 1; /* the first one is the newest: stop */
}

int hlc_group_newest(struct store_txn *txn, const uint8_t gid[KITH_GROUP_ID_BYTES],
                     uint64_t *newest_ms)
{
    int r;

    *newest_ms = 0;
    r = store_group_posts(txn, gid, newest_cb, newest_ms);
    return r < 0 ? r : 0;
}
