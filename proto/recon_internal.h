/*
 * recon_internal: what proto/recon.c and proto/recon_adapt.c share and no
 * one else may use. recon_adapt.c owns the adaptive split policy's arithmetic
 * (how many differences a range probably holds, how many buckets to split it
 * into); recon.c owns everything that touches bytes or storage.
 */
#ifndef KITH_RECON_INTERNAL_H
#define KITH_RECON_INTERNAL_H

#include <stdint.h>

/* The reference policy's numbers (Negentropy's defaults). */
#define RECON_BUCKETS 16
#define RECON_IDLIST_BELOW ((uint64_t)2 * RECON_BUCKETS)
/* Most buckets the adaptive policy splits one range into. */
#define RECON_ADAPT_BUCKETS_MAX 48

/* Log2 size classes of the fingerprint ranges seen in one message. */
#define RECON_EST_CLASSES 64

/*
 * What one incoming message says about how dense the differences are: for
 * each size class of fingerprint ranges (sizes counted on our side), how many
 * there were and their total size, and how many of all of them differed.
 */
struct recon_est {
    uint64_t count[RECON_EST_CLASSES];
    double items[RECON_EST_CLASSES];
    uint64_t ranges, differ;
};

void recon_est_init(struct recon_est *e);
/* Note a fingerprint range where we hold m items; differ: ours is not equal. */
void recon_est_add(struct recon_est *e, uint64_t m, int differ);
/* Differences per item of ours that best explain what was noted (0 when
 * nothing differed): the rate under which, with differences scattered at
 * random, as many ranges would differ as did; when every range differed,
 * the rate at which that would happen half the time (a lower estimate). */
double recon_est_density(const struct recon_est *e);

/*
 * How the adaptive policy answers a differing range where we hold m items,
 * given the density from recon_est_density (0: unknown). responder is 1 on
 * the responder's side. Returns 0 for an IdList, else the number of
 * fingerprint buckets, 1..min(m, RECON_ADAPT_BUCKETS_MAX). first: this is
 * the initiator's opening message, which never has more than RECON_BUCKETS
 * buckets so that equal sets cost no more than with the reference.
 */
uint64_t recon_adapt_buckets(uint64_t m, int responder, double density, int first);

#endif
