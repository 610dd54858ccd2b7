/*
 * beacon: encode and decode the discovery beacon of kith/beacon.h. Pure;
 * the checks run in the order of the fields, so a truncated beacon of a
 * newer version says "version", not "truncated".
 */
#include <string.h>

#include "kith/beacon.h"
#include "kith/proof.h"

/* The pairs carry kith/proof.h's tags and summaries as they are. */
_Static_assert(KITH_BEACON_TAG_BYTES == KITH_TAG_BYTES, "beacon tag size");
_Static_assert(KITH_BEACON_SUMMARY_BYTES == KITH_SUMMARY_BYTES, "beacon summary size");
_Static_assert(KITH_BEACON_KEY_BYTES == KITH_TAG_NODE_KEY_BYTES, "beacon node key size");

#define MAGIC_BYTES 4
#define OFF_VERSION 4
#define OFF_FLAGS 5
#define OFF_KEY 6
#define OFF_PORT (OFF_KEY + KITH_BEACON_KEY_BYTES)
#define OFF_COUNT (OFF_PORT + 2)

int kith_beacon_encode(const struct kith_beacon *b, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t need, pos = KITH_BEACON_FIXED;

    if (b->tcp_port == 0)
        return -KITH_EINVAL;
    if (b->n_groups > KITH_BEACON_GROUPS_MAX)
        return -KITH_ETOOBIG;
    need = KITH_BEACON_FIXED + (size_t)b->n_groups * KITH_BEACON_PAIR;
    if (cap < need)
        return -KITH_EBUFSIZE;
    memcpy(out, KITH_BEACON_MAGIC, MAGIC_BYTES);
    out[OFF_VERSION] = KITH_BEACON_VERSION;
    out[OFF_FLAGS] = 0;
    memcpy(out + OFF_KEY, b->node_key, KITH_BEACON_KEY_BYTES);
    out[OFF_PORT] = (uint8_t)(b->tcp_port >> 8);
    out[OFF_PORT + 1] = (uint8_t)b->tcp_port;
    out[OFF_COUNT] = b->n_groups;
    for (size_t i = 0; i < b->n_groups; i++) {
        memcpy(out + pos, b->groups[i].tag, KITH_BEACON_TAG_BYTES);
        memcpy(out + pos + KITH_BEACON_TAG_BYTES, b->groups[i].summary, KITH_BEACON_SUMMARY_BYTES);
        pos += KITH_BEACON_PAIR;
    }
    *out_len = need;
    return 0;
}

static int check(const uint8_t *in, size_t len, size_t *count)
{
    if (len < MAGIC_BYTES)
        return len == 0 || memcmp(in, KITH_BEACON_MAGIC, len) == 0 ? -KITH_ETRUNCATED
                                                                   : -KITH_EENCODING;
    if (memcmp(in, KITH_BEACON_MAGIC, MAGIC_BYTES) != 0)
        return -KITH_EENCODING;
    if (len <= OFF_VERSION)
        return -KITH_ETRUNCATED;
    if (in[OFF_VERSION] != KITH_BEACON_VERSION)
        return -KITH_EVERSION;
    if (len < KITH_BEACON_FIXED)
        return -KITH_ETRUNCATED;
    if (in[OFF_FLAGS] != 0)
        return -KITH_EENCODING;
    if (in[OFF_PORT] == 0 && in[OFF_PORT + 1] == 0)
        return -KITH_EENCODING;
    *count = in[OFF_COUNT];
    if (*count > KITH_BEACON_GROUPS_MAX)
        return -KITH_ETOOBIG;
    if (len < KITH_BEACON_FIXED + *count * KITH_BEACON_PAIR)
        return -KITH_ETRUNCATED;
    if (len > KITH_BEACON_FIXED + *count * KITH_BEACON_PAIR)
        return -KITH_ETRAILING;
    return 0;
}

int kith_beacon_decode(const uint8_t *in, size_t len, struct kith_beacon *b)
{
    size_t count = 0, pos = KITH_BEACON_FIXED;
    int r;

    memset(b, 0, sizeof(*b));
    r = check(in, len, &count);
    if (r < 0)
        return r;
    memcpy(b->node_key, in + OFF_KEY, KITH_BEACON_KEY_BYTES);
    b->tcp_port = (uint16_t)(((unsigned)in[OFF_PORT] << 8) | in[OFF_PORT + 1]);
    b->n_groups = (uint8_t)count;
    for (size_t i = 0; i < count; i++) {
        memcpy(b->groups[i].tag, in + pos, KITH_BEACON_TAG_BYTES);
        memcpy(b->groups[i].summary, in + pos + KITH_BEACON_TAG_BYTES, KITH_BEACON_SUMMARY_BYTES);
        pos += KITH_BEACON_PAIR;
    }
    return 0;
}
