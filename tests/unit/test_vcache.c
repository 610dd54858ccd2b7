/*
 * Tests for node/vcache.c: the set of post ids whose signature was checked.
 * What matters to a member: a post not checked before is never reported as
 * checked, and a full set forgets (so the post is checked again) rather than
 * growing without bound.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "vcache.h"

/* An id whose set (bytes 16..23) is chosen by the caller. */
static void make_id(uint8_t id[KITH_POST_ID_BYTES], uint64_t set, unsigned n)
{
    randombytes_buf(id, KITH_POST_ID_BYTES);
    memcpy(id + 16, &set, sizeof(set));
    id[0] = (uint8_t)n;
}

Test(vcache, bad_sizes_refused)
{
    struct vcache *c = NULL;

    cr_assert_eq(vcache_new(3, &c), -KITH_EINVAL);
    cr_assert_eq(vcache_new(25, &c), -KITH_EINVAL);
    cr_assert_null(c);
}

Test(vcache, added_ids_are_found_others_not)
{
    struct vcache *c;
    uint8_t ids[200][KITH_POST_ID_BYTES], other[KITH_POST_ID_BYTES];

    cr_assert_eq(sodium_init() >= 0, 1);
    cr_assert_eq(vcache_new(12, &c), 0);
    for (size_t i = 0; i < 200; i++) {
        randombytes_buf(ids[i], sizeof(ids[i]));
        cr_assert_eq(vcache_has(c, ids[i]), 0);
        vcache_add(c, ids[i]);
    }
    for (size_t i = 0; i < 200; i++)
        cr_assert_eq(vcache_has(c, ids[i]), 1, "id %zu lost", i);
    /* An id that differs in one kept byte is a different post. */
    memcpy(other, ids[7], sizeof(other));
    other[3] ^= 1;
    cr_assert_eq(vcache_has(c, other), 0);
    vcache_free(c);
}

Test(vcache, full_set_forgets_the_oldest)
{
    struct vcache *c;
    uint8_t ids[5][KITH_POST_ID_BYTES];

    cr_assert_eq(sodium_init() >= 0, 1);
    cr_assert_eq(vcache_new(4, &c), 0); /* 4 sets of 4 */
    for (unsigned i = 0; i < 5; i++)
        make_id(ids[i], 2, i);
    for (unsigned i = 0; i < 4; i++)
        vcache_add(c, ids[i]);
    vcache_add(c, ids[1]); /* again: no second slot */
    for (unsigned i = 0; i < 4; i++)
        cr_assert_eq(vcache_has(c, ids[i]), 1);
    vcache_add(c, ids[4]);
    cr_assert_eq(vcache_has(c, ids[4]), 1);
    cr_assert_eq(vcache_has(c, ids[0]), 0, "the oldest of a full set goes first");
    for (unsigned i = 1; i < 4; i++)
        cr_assert_eq(vcache_has(c, ids[i]), 1);
    vcache_free(c);
}
