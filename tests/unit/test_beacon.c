/*
 * Tests for proto/beacon.c: known bytes, round trips at every count, and
 * exact errors for truncation, limits and damage.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kith/beacon.h"

static void sample(struct kith_beacon *b, uint8_t n)
{
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < KITH_BEACON_KEY_BYTES; i++)
        b->node_key[i] = (uint8_t)(0xa0 + i);
    b->tcp_port = 7711;
    b->n_groups = n;
    for (int g = 0; g < n && g < KITH_BEACON_GROUPS_MAX; g++) {
        memset(b->groups[g].tag, 0x10 + g, KITH_BEACON_TAG_BYTES);
        memset(b->groups[g].summary, 0x80 + g, KITH_BEACON_SUMMARY_BYTES);
    }
}

Test(beacon, known_bytes)
{
    struct kith_beacon b;
    uint8_t out[KITH_BEACON_MAX], want[KITH_BEACON_FIXED + KITH_BEACON_PAIR];
    size_t n = 0;

    sample(&b, 1);
    memcpy(want, "KITH\x01\x00", 6);
    for (int i = 0; i < 32; i++)
        want[6 + i] = (uint8_t)(0xa0 + i);
    want[38] = 0x1e; /* 7711 = 0x1e1f */
    want[39] = 0x1f;
    want[40] = 1;
    memset(want + 41, 0x10, 16);
    memset(want + 57, 0x80, 16);
    cr_assert_eq(kith_beacon_encode(&b, out, sizeof(out), &n), 0);
    cr_assert_eq(n, sizeof(want));
    cr_assert_arr_eq(out, want, sizeof(want));
}

Test(beacon, round_trips)
{
    struct kith_beacon b, back;
    uint8_t out[KITH_BEACON_MAX];
    size_t n = 0;

    for (int count = 0; count <= KITH_BEACON_GROUPS_MAX; count++) {
        sample(&b, (uint8_t)count);
        b.tcp_port = (uint16_t)(1 + count * 2000);
        cr_assert_eq(kith_beacon_encode(&b, out, sizeof(out), &n), 0);
        cr_assert_eq(n, KITH_BEACON_FIXED + (size_t)count * KITH_BEACON_PAIR);
        cr_assert_eq(kith_beacon_decode(out, n, &back), 0);
        cr_assert_eq(memcmp(&b, &back, sizeof(b)), 0, "count %d", count);
    }
    cr_assert_eq(n, KITH_BEACON_MAX);
    cr_assert_leq(KITH_BEACON_MAX, 1280 - 40 - 8); /* one IPv6 datagram on any link */
}

Test(beacon, encode_errors)
{
    struct kith_beacon b;
    uint8_t out[KITH_BEACON_MAX];
    size_t n = 3;

    sample(&b, 2);
    b.tcp_port = 0;
    cr_assert_eq(kith_beacon_encode(&b, out, sizeof(out), &n), -KITH_EINVAL);
    sample(&b, KITH_BEACON_GROUPS_MAX + 1);
    cr_assert_eq(kith_beacon_encode(&b, out, sizeof(out), &n), -KITH_ETOOBIG);
    sample(&b, 2);
    cr_assert_eq(kith_beacon_encode(&b, out, KITH_BEACON_FIXED + 2 * KITH_BEACON_PAIR - 1, &n),
                 -KITH_EBUFSIZE);
    cr_assert_eq(n, 3);
}

Test(beacon, every_truncation)
{
    struct kith_beacon b, back;
    uint8_t out[KITH_BEACON_MAX];
    size_t n = 0;

    sample(&b, 3);
    cr_assert_eq(kith_beacon_encode(&b, out, sizeof(out), &n), 0);
    for (size_t len = 0; len < n; len++) {
        cr_assert_eq(kith_beacon_decode(out, len, &back), -KITH_ETRUNCATED, "len %zu", len);
        for (size_t i = 0; i < sizeof(back.node_key); i++)
            cr_assert_eq(back.node_key[i], 0); /* zeroed on error */
    }
    out[n] = 0;
    cr_assert_eq(kith_beacon_decode(out, n + 1, &back), -KITH_ETRAILING);
}

Test(beacon, damage)
{
    struct kith_beacon b, back;
    uint8_t out[KITH_BEACON_MAX], bad[KITH_BEACON_MAX];
    size_t n = 0;

    sample(&b, 1);
    cr_assert_eq(kith_beacon_encode(&b, out, sizeof(out), &n), 0);

    memcpy(bad, out, n);
    bad[0] = 'k';
    cr_assert_eq(kith_beacon_decode(bad, n, &back), -KITH_EENCODING);
    cr_assert_eq(kith_beacon_decode(bad, 2, &back), -KITH_EENCODING); /* "ki" is not "KI" */
    memcpy(bad, out, n);
    bad[4] = 2;
    cr_assert_eq(kith_beacon_decode(bad, n, &back), -KITH_EVERSION);
    cr_assert_eq(kith_beacon_decode(bad, 5, &back), -KITH_EVERSION);
    memcpy(bad, out, n);
    bad[5] = 0x01;
    cr_assert_eq(kith_beacon_decode(bad, n, &back), -KITH_EENCODING);
    memcpy(bad, out, n);
    bad[38] = bad[39] = 0;
    cr_assert_eq(kith_beacon_decode(bad, n, &back), -KITH_EENCODING);
    memcpy(bad, out, n);
    bad[40] = KITH_BEACON_GROUPS_MAX + 1;
    cr_assert_eq(kith_beacon_decode(bad, n, &back), -KITH_ETOOBIG);
    bad[40] = 0;
    cr_assert_eq(kith_beacon_decode(bad, n, &back), -KITH_ETRAILING);
    bad[40] = 2;
    cr_assert_eq(kith_beacon_decode(bad, n, &back), -KITH_ETRUNCATED);
}
