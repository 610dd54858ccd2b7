/*
 * Tests for proto/recon_adapt.c and KITH_RECON_POLICY_ADAPTIVE: the density
 * estimate against values worked out independently (Python), the bucket
 * rule's promises (never more messages than the reference, never a range a
 * reference initiator would list both ways, frame-sized splits), and whole
 * reconciliations in memory where the adaptive side talks to an adaptive or
 * a reference-policy peer in either role, with and without frame limits, on
 * random and clustered differences, each checked for the exact difference
 * sets; and what it saves against the reference on the same sets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "../../proto/recon_internal.h"
#include "kith/recon.h"

#define REF KITH_RECON_POLICY_REFERENCE
#define ADA KITH_RECON_POLICY_ADAPTIVE

__attribute__((constructor)) static void init_sodium(void)
{
    if (sodium_init() < 0)
        abort();
}

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The initiator's reports: a sorted table of the differing ids, each with
 * what it should be reported as, and how often it was. */
struct want {
    uint8_t (*ids)[33]; /* id, then 1 have / 0 need */
    int *seen;
    size_t n;
    size_t wrong;
};

static int cmp33(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static int on_id(void *arg, int have, const uint8_t id[32])
{
    struct want *w = arg;
    uint8_t key[33];
    const uint8_t(*hit)[33];

    memcpy(key, id, 32);
    hit = bsearch(key, w->ids, w->n, 33, cmp33);
    if (hit == NULL || (*hit)[32] != have)
        w->wrong++;
    else
        w->seen[hit - w->ids]++;
    return 0;
}

struct cost {
    int rounds;
    size_t up, down, max_up, max_down;
};

/* Sets of n shared items, only_a in a alone, only_b in b alone; timestamps
 * collide often (n/2 seconds) so bounds need id prefixes; clustered puts the
 * differences at neighbouring timestamps. The same seed gives the same sets. */
static void make_sets(uint64_t seed, size_t n, size_t only_a, size_t only_b, int clustered,
                      struct kith_recon_array *a, struct kith_recon_array *b, struct want *w)
{
    size_t total = n + only_a + only_b;

    rng = seed;
    kith_recon_array_init(a);
    kith_recon_array_init(b);
    w->n = only_a + only_b;
    w->ids = calloc(w->n + 1, 33);
    w->seen = calloc(w->n + 1, sizeof(int));
    w->wrong = 0;
    cr_assert(w->ids != NULL && w->seen != NULL);
    for (size_t i = 0; i < total; i++) {
        uint8_t id[32];
        uint64_t ts = 1700000000 + rnd() % (total / 2 + 1);

        for (int k = 0; k < 32; k += 8) {
            uint64_t v = rnd();
            memcpy(id + k, &v, 8);
        }
        if (i >= n && clustered == 1)
            ts = 1700000000 + total / 3 + (i - n);
        if (clustered == 2) /* the shared items first, then the differences */
            ts = 1700000000 + i;
        if (i < n + only_a)
            cr_assert_eq(kith_recon_array_add(a, ts, id), 0);
        if (i < n || i >= n + only_a)
            cr_assert_eq(kith_recon_array_add(b, ts, id), 0);
        if (i >= n) {
            memcpy(w->ids[i - n], id, 32);
            w->ids[i - n][32] = i < n + only_a;
        }
    }
    qsort(w->ids, w->n, 33, cmp33);
    cr_assert_eq(kith_recon_array_seal(a), 0);
    cr_assert_eq(kith_recon_array_seal(b), 0);
}

/* Reconcile a (initiator, policy pa, frame limit la) against b and check
 * that every difference was reported, rightly, exactly once (repeats are
 * allowed only after a side stopped a message short at its frame limit,
 * which for an adaptive initiator means its responder, see PROTOCOL.md). */
static void run(uint64_t seed, size_t n, size_t only_a, size_t only_b, int clustered, size_t la,
                size_t lb, enum kith_recon_policy pa, enum kith_recon_policy pb, struct cost *c)
{
    struct kith_recon_array a, b;
    struct kith_recon_storage sa, sb;
    struct kith_recon ra, rb;
    struct want w;
    uint8_t *m1, *m2 = NULL;
    size_t len1, len2, cap1 = KITH_RECON_INITIATE_MAX, cap2 = 0, need;

    make_sets(seed, n, only_a, only_b, clustered, &a, &b, &w);
    kith_recon_array_storage(&a, &sa);
    kith_recon_array_storage(&b, &sb);
    cr_assert_eq(kith_recon_init_policy(&ra, &sa, la, 0, pa), 0);
    cr_assert_eq(kith_recon_init_policy(&rb, &sb, lb, 0, pb), 0);
    memset(c, 0, sizeof(*c));
    m1 = malloc(cap1);
    cr_assert_eq(kith_recon_initiate(&ra, m1, cap1, &len1), 0);
    while (len1 > 0) {
        c->up += len1;
        c->max_up = len1 > c->max_up ? len1 : c->max_up;
        cr_assert_eq(kith_recon_out_max(&rb, m1, len1, &need), 0);
        if (need > cap2) {
            free(m2);
            m2 = malloc(cap2 = need);
        }
        cr_assert_eq(kith_recon_reconcile(&rb, m1, len1, NULL, NULL, m2, cap2, &len2), 0);
        c->down += len2;
        c->max_down = len2 > c->max_down ? len2 : c->max_down;
        c->rounds++;
        cr_assert_eq(kith_recon_out_max(&ra, m2, len2, &need), 0);
        if (need > cap1) {
            free(m1);
            m1 = malloc(cap1 = need);
        }
        cr_assert_eq(kith_recon_reconcile(&ra, m2, len2, on_id, &w, m1, cap1, &len1), 0);
        cr_assert_lt(c->rounds, 10000, "no convergence");
    }
    cr_assert_eq(w.wrong, 0);
    for (size_t i = 0; i < w.n; i++) {
        cr_assert_geq(w.seen[i], 1, "difference %zu missed", i);
        if (lb == 0 && (la == 0 || pa == ADA))
            cr_assert_eq(w.seen[i], 1);
    }
    if (la != 0)
        cr_assert_leq(c->max_up, la);
    if (lb != 0)
        cr_assert_leq(c->max_down, lb);
    fprintf(stderr,
            "recon_adapt n=%zu a=%zu b=%zu%s limits=%zu/%zu policies=%d/%d: %d rounds, %zu up,"
            " %zu down\n",
            n, only_a, only_b, clustered ? " clustered" : "", la, lb, (int)pa, (int)pb, c->rounds,
            c->up, c->down);
    kith_recon_free(&ra);
    kith_recon_free(&rb);
    free(m1);
    free(m2);
    free(w.ids);
    free(w.seen);
    kith_recon_array_free(&a);
    kith_recon_array_free(&b);
}

/* ---- the arithmetic ---- */

static void near(double got, double want)
{
    double d = got > want ? got - want : want - got;

    cr_assert_leq(d, want * 1e-6, "got %.12g want %.12g", got, want);
}

Test(recon_adapt, density_estimate)
{
    struct recon_est e;

    recon_est_init(&e);
    cr_assert_eq(recon_est_density(&e), 0.0);
    /* 4 of 16 ranges of 1000 differ: -ln(12/16) / 1000 (Python). */
    for (int i = 0; i < 16; i++)
        recon_est_add(&e, 1000, i < 4);
    recon_est_add(&e, 0, 1); /* says nothing: ignored */
    near(recon_est_density(&e), 0.0002876820724517809);
    /* All 16 differ: the rate at which that happens half the time,
     * -ln(1 - 0.5^(1/16)) / 1000. */
    recon_est_init(&e);
    for (int i = 0; i < 16; i++)
        recon_est_add(&e, 1000, 1);
    near(recon_est_density(&e), 0.003160684294704183);
    /* Two sizes: 10 ranges of 100, 10 of 1000, 5 differ; solves
     * 10 (1 - e^(-100 r)) + 10 (1 - e^(-1000 r)) = 5 (Python, bisection). */
    recon_est_init(&e);
    for (int i = 0; i < 10; i++) {
        recon_est_add(&e, 100, i < 2);
        recon_est_add(&e, 1000, i < 3);
    }
    near(recon_est_density(&e), 0.0005854362078166762);
    /* Nothing differed. */
    recon_est_init(&e);
    recon_est_add(&e, 5, 0);
    cr_assert_eq(recon_est_density(&e), 0.0);
}

/* The reference's message count for a range (see recon_adapt.c). */
static unsigned ref_msgs(uint64_t m, int responder)
{
    unsigned msgs = 0;

    while (m >= 32) {
        msgs++;
        m = (m + 15) / 16;
        responder = !responder;
    }
    return msgs + (responder ? 1 : 2);
}

Test(recon_adapt, bucket_rule)
{
    static const double rhos[] = {0.0, 1e-6, 1e-4, 1e-2, 0.3};

    /* Worked by hand from the formula in recon_adapt.c. */
    cr_assert_eq(recon_adapt_buckets(0, 0, 0.0, 0), 0);
    cr_assert_eq(recon_adapt_buckets(0, 1, 0.0, 0), 0);
    cr_assert_eq(recon_adapt_buckets(31, 1, 0.0, 0), 0);       /* as the reference */
    cr_assert_eq(recon_adapt_buckets(20, 0, 0.0, 0), 6);       /* sqrt(1.5 * 20) */
    cr_assert_eq(recon_adapt_buckets(300, 0, 0.0, 0), 22);     /* sqrt(1.5 * 300) */
    cr_assert_eq(recon_adapt_buckets(1000000, 0, 0.0, 1), 11); /* (1.5e6)^(1/6) */
    cr_assert_eq(recon_adapt_buckets(100000, 0, 0.0, 1), 16);  /* opening cap */
    cr_assert_eq(recon_adapt_buckets(100, 1, 0.5, 0), 0);      /* dense: list */
    cr_assert_eq(recon_adapt_buckets(1, 0, 0.0, 0), 1);
    for (uint64_t m = 1; m < 3000000; m += 1 + m / 50) {
        for (int resp = 0; resp <= 1; resp++) {
            for (size_t i = 0; i < sizeof(rhos) / sizeof(rhos[0]); i++) {
                uint64_t nb = recon_adapt_buckets(m, resp, rhos[i], 0);
                uint64_t first = recon_adapt_buckets(m, resp, rhos[i], 1);

                cr_assert_leq(first, RECON_BUCKETS);
                if (nb == 0) {
                    cr_assert(resp, "an initiator lists only empty ranges (m %lu)",
                              (unsigned long)m);
                    continue;
                }
                cr_assert_leq(nb, m);
                cr_assert_leq(nb, RECON_ADAPT_BUCKETS_MAX);
                /* No bucket takes the reference more messages than are left. */
                cr_assert_leq(ref_msgs((m + nb - 1) / nb, !resp), ref_msgs(m, resp) - 1,
                              "m %lu resp %d rho %g nb %lu", (unsigned long)m, resp, rhos[i],
                              (unsigned long)nb);
                /* Every split makes the ranges smaller (or the two sides
                 * could pass one back and forth), and a responder leaves no
                 * bucket a reference initiator would list where it can. */
                cr_assert(nb >= 2 || m == 1);
                if (resp && m >= 64)
                    cr_assert_geq(m / nb, 32);
            }
        }
    }
}

Test(recon_adapt, init_policy)
{
    struct kith_recon_array a;
    struct kith_recon_storage st;
    struct kith_recon r1, r2;
    uint8_t m1[KITH_RECON_INITIATE_MAX], m2[KITH_RECON_INITIATE_MAX], id[32] = {0};
    size_t l1, l2;

    kith_recon_array_init(&a);
    for (unsigned i = 0; i < 5000; i++) {
        memcpy(id, &i, sizeof(i));
        cr_assert_eq(kith_recon_array_add(&a, 1000 + i / 3, id), 0);
    }
    cr_assert_eq(kith_recon_array_seal(&a), 0);
    kith_recon_array_storage(&a, &st);
    cr_assert_eq(kith_recon_init_policy(&r1, &st, 0, 0, (enum kith_recon_policy)2), -KITH_EINVAL);
    cr_assert_eq(kith_recon_init_policy(&r1, &st, 100, 0, ADA), -KITH_EINVAL);
    /* The default is the reference, byte for byte. */
    cr_assert_eq(kith_recon_init(&r1, &st, 0, 0), 0);
    cr_assert_eq(kith_recon_init_policy(&r2, &st, 0, 0, REF), 0);
    cr_assert_eq(kith_recon_initiate(&r1, m1, sizeof(m1), &l1), 0);
    cr_assert_eq(kith_recon_initiate(&r2, m2, sizeof(m2), &l2), 0);
    cr_assert_eq(l1, l2);
    cr_assert_eq(memcmp(m1, m2, l1), 0);
    kith_recon_free(&r1);
    kith_recon_free(&r2);
    kith_recon_array_free(&a);
}

/* ---- whole reconciliations ---- */

/* Every pairing that involves the adaptive policy, both roles. */
Test(recon_adapt, interop_exact)
{
    static const enum kith_recon_policy pairs[][2] = {{ADA, ADA}, {ADA, REF}, {REF, ADA}};
    static const size_t cases[][3] = {
        {20000, 0, 0},  {20000, 1, 0},  {20000, 0, 1},      {20000, 5, 5}, {20000, 150, 150},
        {1000, 0, 700}, {1000, 700, 0}, {0, 0, 300},        {0, 300, 0},   {20, 5, 7},
        {40, 1, 0},     {0, 0, 0},      {3000, 3000, 3000},
    };
    struct cost c;

    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            for (int cl = 0; cl <= 1; cl++)
                run(100 + i, cases[i][0], cases[i][1], cases[i][2], cl, 0, 0, pairs[p][0],
                    pairs[p][1], &c);
}

Test(recon_adapt, interop_frame_limits)
{
    static const enum kith_recon_policy pairs[][2] = {{ADA, ADA}, {ADA, REF}, {REF, ADA}};
    static const size_t limits[][2] = {{4096, 4096}, {60000, 500000}, {0, 4096}, {4096, 0}};
    struct cost c;

    for (size_t p = 0; p < 3; p++) {
        for (size_t l = 0; l < 4; l++) {
            run(200 + l, 30000, 1500, 1500, 0, limits[l][0], limits[l][1], pairs[p][0], pairs[p][1],
                &c);
            run(300 + l, 5000, 0, 6000, 1, limits[l][0], limits[l][1], pairs[p][0], pairs[p][1],
                &c);
        }
    }
}

/* On the same sets: never more rounds than the reference, and no more bytes
 * where differences are scattered (clustered ones cost about the same, see
 * PROTOCOL.md), far fewer where many differ. */
Test(recon_adapt, cheaper_than_reference)
{
    static const size_t ds[] = {0, 1, 10, 100, 1000};
    struct cost cr, ca;

    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        size_t d = ds[i];

        run(7, 100000, d / 2, d - d / 2, 0, 0, 0, REF, REF, &cr);
        run(7, 100000, d / 2, d - d / 2, 0, 0, 0, ADA, ADA, &ca);
        cr_assert_leq(ca.rounds, cr.rounds);
        cr_assert_leq(ca.up + ca.down, cr.up + cr.down);
        if (d == 1000)
            cr_assert_lt((ca.up + ca.down) * 10, (cr.up + cr.down) * 6, "%zu vs %zu",
                         ca.up + ca.down, cr.up + cr.down);
        run(8, 100000, d / 2, d - d / 2, 1, 0, 0, REF, REF, &cr);
        run(8, 100000, d / 2, d - d / 2, 1, 0, 0, ADA, ADA, &ca);
        cr_assert_leq(ca.rounds, cr.rounds);
    }
}

/* One side holds the oldest few hundred items of the other's thousands (a
 * first sync cut short, then resumed): the adaptive answer to the first
 * range (those items' ids) does not fit a 4 KiB frame, and was dropped and
 * asked again every round, forever. It must fall back and finish. */
Test(recon_adapt, resumed_first_sync_in_small_frames)
{
    static const enum kith_recon_policy pairs[][2] = {{ADA, ADA}, {ADA, REF}, {REF, ADA}};
    static const size_t held[] = {150, 300, 600};
    struct cost c;

    for (size_t p = 0; p < 3; p++) {
        for (size_t h = 0; h < 3; h++) {
            run(400 + h, held[h], 2000 - held[h], 1, 2, 4096, 4096, pairs[p][0], pairs[p][1], &c);
            cr_assert_leq(c.rounds, 40, "%d rounds", c.rounds);
            run(500 + h, held[h], 1, 2000 - held[h], 2, 4096, 4096, pairs[p][0], pairs[p][1], &c);
            cr_assert_leq(c.rounds, 40, "%d rounds", c.rounds);
        }
    }
}
