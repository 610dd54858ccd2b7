/*
 * recon_adapt: the arithmetic of the adaptive split policy
 * (KITH_RECON_POLICY_ADAPTIVE in kith/recon.h, proto/PROTOCOL.md "Set
 * reconciliation"). Negentropy V1 lets each side choose how many buckets it
 * splits a differing range into and when it lists ids instead; the
 * reference always splits in 16 and lists below 32 items, which wastes most
 * of its bytes where many items differ: every differing range of ~15 items
 * goes out as ids both ways. Here each side estimates how many differences
 * a range holds from the share of fingerprints that differed in the message
 * it is answering, splits so that about one difference falls in each bucket,
 * and then keeps splitting so that the last ranges are a few items long and
 * listed by the responder alone, all within the number of messages the
 * reference would have taken for a range of that size. Owns no memory; the
 * few floating point operations need no libm.
 */
#include <string.h>

#include "recon_internal.h"

/* What listing an id costs, in units of one fingerprint range (about 21
 * bytes: bound, mode, 16-byte fingerprint). Sets where the bucket count
 * balances fingerprints against the ids of the last ranges. */
#define ID_PER_FP 1.5
/* A responder lists a range outright once it expects a difference every
 * this many items: splitting it further would cost more than the ids. */
#define DENSE_ITEMS 4.0
/* When every fingerprint differed: the density that would make that as
 * likely as this (a lower estimate; there is no upper one). */
#define ALL_P 0.5

/* e^-x for x >= 0, enough digits for estimates. */
static double exp_neg(double x)
{
    double s = 1.0, term = 1.0;
    int halvings = 0;

    if (x > 700.0)
        return 0.0;
    while (x > 0.5) {
        x /= 2.0;
        halvings++;
    }
    for (int i = 1; i < 16; i++) {
        term *= -x / i;
        s += term;
    }
    while (halvings-- > 0)
        s *= s;
    return s;
}

static double pow_int(double b, uint64_t e)
{
    double r = 1.0;

    while (e != 0) {
        if (e & 1)
            r *= b;
        b *= b;
        e >>= 1;
    }
    return r;
}

/* x^(1/p) for x >= 1, p >= 1. */
static double root(double x, unsigned p)
{
    double lo = 1.0, hi = x;

    if (x <= 1.0)
        return 1.0;
    for (int i = 0; i < 100; i++) {
        double mid = (lo + hi) / 2.0;

        if (pow_int(mid, p) < x)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

void recon_est_init(struct recon_est *e)
{
    memset(e, 0, sizeof(*e));
}

void recon_est_add(struct recon_est *e, uint64_t m, int differ)
{
    unsigned c = 0;

    /* A range we hold nothing of says nothing about our density. */
    if (m == 0)
        return;
    while (c + 1 < RECON_EST_CLASSES && (m >> (c + 1)) != 0)
        c++;
    e->count[c]++;
    e->items[c] += (double)m;
    e->ranges++;
    if (differ)
        e->differ++;
}

/* Expected number of differing ranges at density rho, or when all differed
 * the chance that all would: both grow with rho. */
static double est_eval(const struct recon_est *e, double rho, int all)
{
    double v = all ? 1.0 : 0.0;

    for (unsigned c = 0; c < RECON_EST_CLASSES; c++) {
        double p;

        if (e->count[c] == 0)
            continue;
        p = 1.0 - exp_neg(rho * e->items[c] / (double)e->count[c]);
        if (all)
            v *= pow_int(p, e->count[c]);
        else
            v += p * (double)e->count[c];
    }
    return v;
}

double recon_est_density(const struct recon_est *e)
{
    int all = e->differ == e->ranges;
    double target = all ? ALL_P : (double)e->differ, lo = 0.0, hi = 1.0;

    if (e->differ == 0)
        return 0.0;
    while (est_eval(e, hi, all) < target && hi < 1e9)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > hi * 1e-9; i++) {
        double mid = (lo + hi) / 2.0;

        if (est_eval(e, mid, all) < target)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* How many messages the reference takes to settle a differing range of m
 * items from the side that answers it now, counting this answer: it splits
 * in 16 until under 32 items, then lists them, and a list from the
 * initiator is answered by one from the responder. */
static unsigned ref_msgs(uint64_t m, int responder)
{
    unsigned msgs = 0;

    while (m >= RECON_IDLIST_BELOW) {
        msgs++;
        m = (m + RECON_BUCKETS - 1) / RECON_BUCKETS;
        responder = !responder;
    }
    return msgs + (responder ? 1 : 2);
}

uint64_t recon_adapt_buckets(uint64_t m, int responder, double density, int first)
{
    double mu = density * (double)m, k = 1.0, b;
    unsigned msgs;
    uint64_t nb, least = 1, cap = first ? RECON_BUCKETS : RECON_ADAPT_BUCKETS_MAX;

    /* Nothing to fingerprint: an empty list says the same in 4 bytes. */
    if (m == 0)
        return 0;
    /* The reference's responder lists here; so do we, which keeps the
     * number of rounds at most the reference's. */
    if (responder && m < RECON_IDLIST_BELOW)
        return 0;
    /* Expected differences in a range known to hold at least one. */
    if (mu > 1e-9)
        k = mu / (1.0 - exp_neg(mu));
    if (responder && k * DENSE_ITEMS >= (double)m)
        return 0;
    /* k buckets with one difference each, then each split evenly over the
     * levels left (messages before the responder's closing list), which
     * minimises levels * buckets + ID_PER_FP * leaf items per difference. */
    msgs = ref_msgs(m, responder);
    /* A reference initiator lists ranges under 32 items and the answer
     * lists them again; ours splits them. Give it none where we can, but
     * always split in two at least, or the peer could hand the same range
     * back to us forever. */
    if (responder && m / RECON_IDLIST_BELOW < cap)
        cap = m / RECON_IDLIST_BELOW < 2 ? 2 : m / RECON_IDLIST_BELOW;
    b = k * root(ID_PER_FP * (double)m / k, msgs);
    nb = b >= (double)cap ? cap : (uint64_t)b + 1;
    /* Never so few that a bucket takes the reference more messages than we
     * have left; 16 always qualifies. */
    while (least < RECON_BUCKETS && ref_msgs((m + least - 1) / least, !responder) > msgs - 1)
        least++;
    if (nb < least)
        nb = least;
    return nb > m ? m : nb;
}
