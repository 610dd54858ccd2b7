/*
 * recon: Negentropy V1 range-based set reconciliation (see kith/recon.h and
 * proto/PROTOCOL.md, "Set reconciliation"). This file owns the wire format
 * (varints, bounds, ranges, fingerprints), both roles' message processing
 * and the scratch index in struct kith_recon; recon_array.c has the
 * in-memory storage, recon_adapt.c the arithmetic of the adaptive split
 * policy (how many buckets; this file measures what it needs). Every
 * incoming message is parsed twice: a first pass that checks it completely
 * and sizes the work, then a second that answers it, so a malformed message
 * changes nothing and reports no id.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/recon.h"
#include "recon_internal.h"

#define BUCKETS RECON_BUCKETS
#define IDLIST_BELOW ((size_t)RECON_IDLIST_BELOW)
/* Room kept free under the frame limit, as the reference does. */
#define FRAME_SLACK 200
/* Largest encoded bound: ts varint, length byte, 32-byte prefix. */
#define BOUND_MAX (KITH_RECON_VARINT_MAX + 1 + KITH_RECON_ID_BYTES)
/* The closing "fingerprint of the rest": infinity bound (2), mode, fp. */
#define TAIL_MAX (2 + 1 + KITH_RECON_FP_BYTES)
/* Most a fingerprint range of the peer's can make us write. */
#define SPLIT_MAX (BOUND_MAX + 1 + BUCKETS * (BOUND_MAX + 1 + KITH_RECON_FP_BYTES))
#define SPLIT_MAX_ADAPT                                                                            \
    (BOUND_MAX + 1 + RECON_ADAPT_BUCKETS_MAX * (BOUND_MAX + 1 + KITH_RECON_FP_BYTES))
/* Most an id list range makes us write, besides our ids themselves. */
#define LIST_MAX (2 * (BOUND_MAX + 1) + KITH_RECON_VARINT_MAX)

struct bound {
    struct kith_recon_item it; /* id zero-padded past len */
    size_t len;
};

struct range {
    struct bound b;
    uint64_t mode;
    const uint8_t *payload; /* fingerprint or ids */
    uint64_t count;         /* ids in an id list */
};

struct reader {
    const uint8_t *p;
    size_t len, off;
    uint64_t last_ts;
};

struct writer {
    uint8_t *p;
    size_t len, cap;
    uint64_t last_ts;
    int err;
};

/* ---- varints, sums, fingerprints ---- */

size_t kith_recon_varint_encode(uint64_t v, uint8_t out[KITH_RECON_VARINT_MAX])
{
    uint8_t tmp[KITH_RECON_VARINT_MAX];
    size_t n = 0;

    do {
        tmp[n++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
    return n;
}

int kith_recon_varint_decode(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
    uint64_t acc = 0;

    for (size_t i = 0; i < len; i++) {
        /* A leading zero digit would give one value two spellings. */
        if (i == 0 && p[0] == 0x80)
            return -KITH_EENCODING;
        if (acc > (UINT64_MAX >> 7))
            return -KITH_EENCODING;
        acc = (acc << 7) | (p[i] & 0x7f);
        if ((p[i] & 0x80) == 0) {
            *v = acc;
            *used = i + 1;
            return 0;
        }
    }
    return -KITH_ETRUNCATED;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void kith_recon_sum_add(uint8_t acc[KITH_RECON_SUM_BYTES], const uint8_t id[KITH_RECON_ID_BYTES])
{
    uint64_t carry = 0;

    for (size_t i = 0; i < 4; i++) {
        uint64_t a = load64(acc + 8 * i), b = load64(id + 8 * i);
        uint64_t s = a + b;
        uint64_t c = s < a;

        s += carry;
        c |= s < carry;
        store64(acc + 8 * i, s);
        carry = c;
    }
}

void kith_recon_sum_sub(uint8_t acc[KITH_RECON_SUM_BYTES], const uint8_t id[KITH_RECON_ID_BYTES])
{
    uint64_t borrow = 0;

    for (size_t i = 0; i < 4; i++) {
        uint64_t a = load64(acc + 8 * i), b = load64(id + 8 * i);
        uint64_t d = a - b;
        uint64_t c = a < b;

        c |= d < borrow;
        d -= borrow;
        store64(acc + 8 * i, d);
        borrow = c;
    }
}

void kith_recon_fingerprint(const uint8_t sum[KITH_RECON_SUM_BYTES], uint64_t count,
                            uint8_t fp[KITH_RECON_FP_BYTES])
{
    uint8_t buf[KITH_RECON_SUM_BYTES + KITH_RECON_VARINT_MAX];
    uint8_t h[crypto_hash_sha256_BYTES];
    size_t n;

    memcpy(buf, sum, KITH_RECON_SUM_BYTES);
    n = kith_recon_varint_encode(count, buf + KITH_RECON_SUM_BYTES);
    crypto_hash_sha256(h, buf, KITH_RECON_SUM_BYTES + n);
    memcpy(fp, h, KITH_RECON_FP_BYTES);
}

static int item_cmp(const struct kith_recon_item *a, const struct kith_recon_item *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return memcmp(a->id, b->id, KITH_RECON_ID_BYTES);
}

static int range_fp(const struct kith_recon_storage *st, size_t lo, size_t hi,
                    uint8_t fp[KITH_RECON_FP_BYTES])
{
    uint8_t sum[KITH_RECON_SUM_BYTES] = {0};
    struct kith_recon_item it;
    int rc;

    if (st->sum != NULL) {
        rc = st->sum(st->ctx, lo, hi, sum);
        if (rc < 0)
            return rc;
    } else {
        for (size_t i = lo; i < hi; i++) {
            rc = st->get(st->ctx, i, &it);
            if (rc < 0)
                return rc;
            kith_recon_sum_add(sum, it.id);
        }
    }
    kith_recon_fingerprint(sum, hi - lo, fp);
    return 0;
}

/* ---- reading ---- */

static int get_varint(struct reader *r, uint64_t *v)
{
    size_t used;
    int rc = kith_recon_varint_decode(r->p + r->off, r->len - r->off, v, &used);

    if (rc == 0)
        r->off += used;
    return rc;
}

static int get_bytes(struct reader *r, size_t n, const uint8_t **p)
{
    if (r->len - r->off < n)
        return -KITH_ETRUNCATED;
    *p = r->p + r->off;
    r->off += n;
    return 0;
}

/* Timestamps are deltas from the previous bound, 0 meaning infinity; a sum
 * past the top saturates to infinity as in the reference. */
static int get_range(struct reader *r, struct range *g)
{
    uint64_t v, ts, len;
    const uint8_t *p;
    int rc;

    if ((rc = get_varint(r, &v)) < 0)
        return rc;
    ts = (v == 0 ? KITH_RECON_TS_INFINITY : v - 1) + r->last_ts;
    if (ts < r->last_ts)
        ts = KITH_RECON_TS_INFINITY;
    r->last_ts = ts;
    if ((rc = get_varint(r, &len)) < 0)
        return rc;
    if (len > KITH_RECON_ID_BYTES)
        return -KITH_ETOOBIG;
    if ((rc = get_bytes(r, (size_t)len, &p)) < 0)
        return rc;
    memset(&g->b, 0, sizeof(g->b));
    g->b.it.ts = ts;
    g->b.len = (size_t)len;
    memcpy(g->b.it.id, p, (size_t)len);
    if ((rc = get_varint(r, &g->mode)) < 0)
        return rc;
    g->count = 0;
    g->payload = NULL;
    switch (g->mode) {
    case KITH_RECON_SKIP:
        return 0;
    case KITH_RECON_FINGERPRINT:
        return get_bytes(r, KITH_RECON_FP_BYTES, &g->payload);
    case KITH_RECON_IDLIST:
        if ((rc = get_varint(r, &g->count)) < 0)
            return rc;
        if (g->count > (r->len - r->off) / KITH_RECON_ID_BYTES)
            return -KITH_ETRUNCATED;
        return get_bytes(r, (size_t)g->count * KITH_RECON_ID_BYTES, &g->payload);
    default:
        return -KITH_EENCODING;
    }
}

struct survey {
    size_t out_need;  /* output bound when there is no frame limit */
    uint64_t max_ids; /* longest id list */
};

/* First pass: check every byte of msg (after a 0x61 version byte) and size
 * the answer. */
static int survey(const uint8_t *msg, size_t len, size_t n_items, int responder, int adaptive,
                  struct survey *s)
{
    struct reader r = {msg, len, 1, 0};
    struct range g;
    struct kith_recon_item prev = {0, {0}};
    size_t need = 1 + TAIL_MAX;
    int rc;

    s->max_ids = 0;
    while (r.off < r.len) {
        if ((rc = get_range(&r, &g)) < 0)
            return rc;
        if (item_cmp(&g.b.it, &prev) < 0)
            return -KITH_EENCODING;
        prev = g.b.it;
        if (g.mode == KITH_RECON_FINGERPRINT)
            need += adaptive ? SPLIT_MAX_ADAPT : SPLIT_MAX;
        else if (g.mode == KITH_RECON_IDLIST)
            need += LIST_MAX;
        if (g.count > s->max_ids)
            s->max_ids = g.count;
        if (need > SIZE_MAX / 2)
            return -KITH_ETOOBIG;
    }
    if (responder) {
        if (n_items > (SIZE_MAX / 2 - need) / KITH_RECON_ID_BYTES)
            return -KITH_ETOOBIG;
        need += n_items * KITH_RECON_ID_BYTES;
    }
    s->out_need = need;
    return 0;
}

/* ---- writing ---- */

static void put(struct writer *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (w->cap - w->len < n) {
        w->err = -KITH_EBUFSIZE;
        return;
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void put_varint(struct writer *w, uint64_t v)
{
    uint8_t b[KITH_RECON_VARINT_MAX];

    put(w, b, kith_recon_varint_encode(v, b));
}

static void put_bound(struct writer *w, const struct bound *b)
{
    if (b->it.ts == KITH_RECON_TS_INFINITY) {
        w->last_ts = KITH_RECON_TS_INFINITY;
        put_varint(w, 0);
    } else {
        put_varint(w, b->it.ts - w->last_ts + 1);
        w->last_ts = b->it.ts;
    }
    put_varint(w, b->len);
    put(w, b->it.id, b->len);
}

static void infinity(struct bound *b)
{
    memset(b, 0, sizeof(*b));
    b->it.ts = KITH_RECON_TS_INFINITY;
}

/* The shortest bound above prev and at most cur. */
static void minimal_bound(const struct kith_recon_item *prev, const struct kith_recon_item *cur,
                          struct bound *b)
{
    size_t shared = 0;

    memset(b, 0, sizeof(*b));
    b->it.ts = cur->ts;
    if (cur->ts != prev->ts)
        return;
    while (shared < KITH_RECON_ID_BYTES && cur->id[shared] == prev->id[shared])
        shared++;
    b->len = shared < KITH_RECON_ID_BYTES ? shared + 1 : KITH_RECON_ID_BYTES;
    memcpy(b->it.id, cur->id, b->len);
}

static int put_ids(struct writer *w, const struct kith_recon_storage *st, size_t lo, size_t hi)
{
    struct kith_recon_item it;
    int rc;

    for (size_t i = lo; i < hi; i++) {
        if ((rc = st->get(st->ctx, i, &it)) < 0)
            return rc;
        put(w, it.id, KITH_RECON_ID_BYTES);
    }
    return 0;
}

/* Describe our items [lo, hi), ending at bound ub: their ids if buckets is
 * 0, else that many fingerprints of near-equal slices (1 <= buckets <= m). */
static int split_range(struct writer *w, const struct kith_recon_storage *st, size_t lo, size_t hi,
                       const struct bound *ub, size_t buckets)
{
    size_t m = hi - lo, per, extra, cur = lo;
    struct kith_recon_item a, b;
    uint8_t fp[KITH_RECON_FP_BYTES];
    struct bound nb;
    int rc;

    if (buckets == 0) {
        put_bound(w, ub);
        put_varint(w, KITH_RECON_IDLIST);
        put_varint(w, m);
        return put_ids(w, st, lo, hi);
    }
    per = m / buckets;
    extra = m % buckets;
    for (size_t i = 0; i < buckets; i++) {
        size_t next = cur + per + (i < extra ? 1 : 0);

        if ((rc = range_fp(st, cur, next, fp)) < 0)
            return rc;
        cur = next;
        if (cur == hi) {
            nb = *ub;
        } else {
            if ((rc = st->get(st->ctx, cur - 1, &a)) < 0 || (rc = st->get(st->ctx, cur, &b)) < 0)
                return rc;
            minimal_bound(&a, &b, &nb);
        }
        put_bound(w, &nb);
        put_varint(w, KITH_RECON_FINGERPRINT);
        put(w, fp, sizeof(fp));
    }
    return 0;
}

/* ---- matching a peer's id list (initiator) ---- */

static const uint8_t *nth_id(const uint8_t *ids, uint32_t i)
{
    return ids + (size_t)i * KITH_RECON_ID_BYTES;
}

static void sift(uint32_t *ix, size_t root, size_t n, const uint8_t *ids)
{
    for (;;) {
        size_t c = 2 * root + 1;

        if (c >= n)
            return;
        if (c + 1 < n && memcmp(nth_id(ids, ix[c]), nth_id(ids, ix[c + 1]), 32) < 0)
            c++;
        if (memcmp(nth_id(ids, ix[root]), nth_id(ids, ix[c]), 32) >= 0)
            return;
        uint32_t t = ix[root];
        ix[root] = ix[c];
        ix[c] = t;
        root = c;
    }
}

/* Heapsort: no recursion, no allocation, O(k log k) whatever the input. */
static void sort_ids(uint32_t *ix, size_t k, const uint8_t *ids)
{
    for (size_t i = 0; i < k; i++)
        ix[i] = (uint32_t)i;
    for (size_t i = k / 2; i-- > 0;)
        sift(ix, i, k, ids);
    for (size_t end = k; end-- > 1;) {
        uint32_t t = ix[0];
        ix[0] = ix[end];
        ix[end] = t;
        sift(ix, 0, end, ids);
    }
}

static int grow_scratch(struct kith_recon *r, uint64_t k)
{
    size_t need;
    uint8_t *p;

    if (k > UINT32_MAX || k > SIZE_MAX / 8)
        return -KITH_ETOOBIG;
    need = (size_t)k * (sizeof(uint32_t) + 1);
    if (need <= r->scratch_cap)
        return 0;
    p = realloc(r->scratch, need);
    if (p == NULL)
        return -ENOMEM;
    r->scratch = p;
    r->scratch_cap = need;
    return 0;
}

/* Report ours-not-theirs as have (in storage order) and theirs-not-ours as
 * need (in id order, each once even if the peer repeated it). */
static int diff_ids(struct kith_recon *r, const uint8_t *ids, size_t k, size_t lo, size_t hi,
                    kith_recon_id_fn fn, void *arg)
{
    const struct kith_recon_storage *st = r->st;
    uint32_t *ix = NULL;
    uint8_t *seen = NULL;
    struct kith_recon_item it;
    int rc;

    if (k > 0) {
        ix = (uint32_t *)(void *)r->scratch;
        seen = r->scratch + k * sizeof(uint32_t);
        sort_ids(ix, k, ids);
        memset(seen, 0, k);
    }
    for (size_t i = lo; i < hi; i++) {
        size_t a = 0, b = k;

        if ((rc = st->get(st->ctx, i, &it)) < 0)
            return rc;
        while (a < b) {
            size_t mid = a + (b - a) / 2;

            if (memcmp(nth_id(ids, ix[mid]), it.id, KITH_RECON_ID_BYTES) < 0)
                a = mid + 1;
            else
                b = mid;
        }
        if (a < k && memcmp(nth_id(ids, ix[a]), it.id, KITH_RECON_ID_BYTES) == 0)
            seen[a] = 1;
        else if ((rc = fn(arg, 1, it.id)) != 0)
            return rc;
    }
    for (size_t j = 0; j < k; j++) {
        const uint8_t *id = nth_id(ids, ix[j]);

        if (j > 0 && memcmp(nth_id(ids, ix[j - 1]), id, KITH_RECON_ID_BYTES) == 0)
            continue;
        if (!seen[j] && (rc = fn(arg, 0, id)) != 0)
            return rc;
    }
    return 0;
}

/* ---- the protocol ---- */

int kith_recon_init_policy(struct kith_recon *r, const struct kith_recon_storage *st,
                           size_t frame_limit, size_t max_in, enum kith_recon_policy policy)
{
    if (r == NULL || st == NULL || st->size == NULL || st->get == NULL || st->lower_bound == NULL)
        return -KITH_EINVAL;
    if (frame_limit != 0 && frame_limit < KITH_RECON_FRAME_MIN)
        return -KITH_EINVAL;
    if (policy != KITH_RECON_POLICY_REFERENCE && policy != KITH_RECON_POLICY_ADAPTIVE)
        return -KITH_EINVAL;
    memset(r, 0, sizeof(*r));
    r->st = st;
    r->frame_limit = frame_limit;
    r->max_in = max_in;
    r->policy = (int)policy;
    return 0;
}

int kith_recon_init(struct kith_recon *r, const struct kith_recon_storage *st, size_t frame_limit,
                    size_t max_in)
{
    return kith_recon_init_policy(r, st, frame_limit, max_in, KITH_RECON_POLICY_REFERENCE);
}

void kith_recon_free(struct kith_recon *r)
{
    if (r == NULL)
        return;
    free(r->scratch);
    r->scratch = NULL;
    r->scratch_cap = 0;
}

int kith_recon_initiate(struct kith_recon *r, uint8_t *out, size_t cap, size_t *out_len)
{
    struct writer w = {out, 0, cap, 0, 0};
    struct bound ub;
    size_t n, buckets;
    int rc;

    if (r == NULL || out == NULL || out_len == NULL || r->role != 0)
        return -KITH_EINVAL;
    if ((rc = r->st->size(r->st->ctx, &n)) < 0)
        return rc;
    infinity(&ub);
    put(&w, (const uint8_t[]){KITH_RECON_VERSION}, 1);
    if (r->policy == KITH_RECON_POLICY_ADAPTIVE)
        buckets = (size_t)recon_adapt_buckets(n, 0, 0.0, 1);
    else
        buckets = n < IDLIST_BELOW ? 0 : BUCKETS;
    if ((rc = split_range(&w, r->st, 0, n, &ub, buckets)) < 0)
        return rc;
    if (w.err)
        return w.err;
    r->role = 1;
    *out_len = w.len;
    return 0;
}

static int exceeded(const struct kith_recon *r, size_t n)
{
    return r->frame_limit != 0 && n > r->frame_limit - FRAME_SLACK;
}

/* Our answer to one id list range (responder): our ids in [lo, *hi), cut
 * short at the frame limit, in which case *hi moves back to the cut. */
static int answer_ids(struct kith_recon *r, struct writer *w, size_t full, size_t lo, size_t *hi,
                      const struct bound *cur)
{
    size_t m = *hi - lo, c = m;
    struct bound end = *cur;
    int rc;

    if (r->frame_limit != 0) {
        size_t room = r->frame_limit - FRAME_SLACK;

        c = full > room ? 0 : (room - full) / KITH_RECON_ID_BYTES + 1;
        if (c > m)
            c = m;
    }
    if (c < m) {
        memset(&end, 0, sizeof(end));
        if ((rc = r->st->get(r->st->ctx, lo + c, &end.it)) < 0)
            return rc;
        end.len = KITH_RECON_ID_BYTES;
        *hi = lo + c;
    }
    put_bound(w, &end);
    put_varint(w, KITH_RECON_IDLIST);
    put_varint(w, c);
    return put_ids(w, r->st, lo, lo + c);
}

/* A pending skip is written only when something follows it. */
static void flush_skip(struct writer *w, int *skip, const struct bound *prev)
{
    if (*skip) {
        *skip = 0;
        put_bound(w, prev);
        put_varint(w, KITH_RECON_SKIP);
    }
}

/* Adaptive policy only, before answering: how dense the differences are,
 * judged from how many of the peer's fingerprints differ from ours. */
static int estimate(const struct kith_recon *r, const uint8_t *msg, size_t len, size_t n,
                    double *density)
{
    const struct kith_recon_storage *st = r->st;
    struct reader rd = {msg, len, 1, 0};
    struct recon_est e;
    struct range g;
    size_t lo = 0, hi;
    uint8_t fp[KITH_RECON_FP_BYTES];
    int rc;

    recon_est_init(&e);
    while (rd.off < rd.len) {
        if ((rc = get_range(&rd, &g)) < 0)
            return rc;
        if ((rc = st->lower_bound(st->ctx, lo, n, &g.b.it, &hi)) < 0)
            return rc;
        if (hi < lo || hi > n)
            return -KITH_ESTORE;
        if (g.mode == KITH_RECON_FINGERPRINT) {
            if ((rc = range_fp(st, lo, hi, fp)) < 0)
                return rc;
            recon_est_add(&e, hi - lo, memcmp(fp, g.payload, sizeof(fp)) != 0);
        }
        lo = hi;
    }
    *density = recon_est_density(&e);
    return 0;
}

/* Second pass: answer each range in turn, as the reference does. */
static int process(struct kith_recon *r, const uint8_t *msg, size_t len, size_t n,
                   kith_recon_id_fn fn, void *arg, struct writer *w)
{
    const struct kith_recon_storage *st = r->st;
    struct reader rd = {msg, len, 1, 0};
    struct range g;
    struct bound prev;
    size_t prev_idx = 0, lo, hi;
    uint8_t fp[KITH_RECON_FP_BYTES];
    int skip = 0, merged, over, rc;
    double density = 0.0;

    if (r->policy == KITH_RECON_POLICY_ADAPTIVE && (rc = estimate(r, msg, len, n, &density)) < 0)
        return rc;
    memset(&prev, 0, sizeof(prev));
    put(w, (const uint8_t[]){KITH_RECON_VERSION}, 1);
    while (rd.off < rd.len) {
        size_t start = w->len;
        uint64_t start_ts = w->last_ts;
        int skip_before = skip;

        merged = 0;
        if ((rc = get_range(&rd, &g)) < 0)
            return rc;
        lo = prev_idx;
        if ((rc = st->lower_bound(st->ctx, prev_idx, n, &g.b.it, &hi)) < 0)
            return rc;
        if (hi < lo || hi > n)
            return -KITH_ESTORE;

        if (g.mode == KITH_RECON_SKIP) {
            skip = 1;
        } else if (g.mode == KITH_RECON_FINGERPRINT) {
            if ((rc = range_fp(st, lo, hi, fp)) < 0)
                return rc;
            if (memcmp(fp, g.payload, sizeof(fp)) != 0) {
                size_t m = hi - lo, ref = m < IDLIST_BELOW ? 0 : BUCKETS, buckets = ref;

                if (r->policy == KITH_RECON_POLICY_ADAPTIVE)
                    buckets = (size_t)recon_adapt_buckets(m, r->role != 1, density, 0);
                flush_skip(w, &skip, &prev);
                if ((rc = split_range(w, st, lo, hi, &g.b, buckets)) < 0)
                    return rc;
                /* The adaptive choice (the ids of a long range, or many
                 * buckets) may not fit in what is left of the frame where
                 * the reference's would. A range dropped at the limit comes
                 * back split the same way next round, so a choice that can
                 * never fit would never end: take the reference's then. */
                if (buckets != ref && (w->err == -KITH_EBUFSIZE || exceeded(r, w->len))) {
                    w->err = 0;
                    w->len = start;
                    w->last_ts = start_ts;
                    skip = skip_before;
                    flush_skip(w, &skip, &prev);
                    if ((rc = split_range(w, st, lo, hi, &g.b, ref)) < 0)
                        return rc;
                }
            } else {
                skip = 1;
            }
        } else if (r->role == 1) {
            if ((rc = diff_ids(r, g.payload, (size_t)g.count, lo, hi, fn, arg)) != 0)
                return rc;
            skip = 1;
        } else {
            flush_skip(w, &skip, &prev);
            if ((rc = answer_ids(r, w, start, lo, &hi, &g.b)) < 0)
                return rc;
            merged = 1;
        }
        /* With a frame limit the caller's buffer may be just that big, and
         * a split that does not fit in it is over the limit anyway. */
        over = 0;
        if (w->err == -KITH_EBUFSIZE && !merged && r->frame_limit != 0) {
            w->err = 0;
            over = 1;
        }
        if (w->err)
            return w->err;

        if (over || exceeded(r, w->len)) {
            /* Out of room: drop this range's answer (unless already sent,
             * as an id list is) and close with one fingerprint for all the
             * rest, which the peer will split in the next round. */
            struct bound inf;

            if (!merged)
                w->len = start;
            /* The reference drops a pending skip with the range, so the
             * closing range re-covers ranges already settled and an
             * initiator may report ids again; the adaptive policy keeps the
             * skip (it fits: the slack holds it and the closing range). */
            if (!merged && skip_before && r->policy == KITH_RECON_POLICY_ADAPTIVE) {
                w->last_ts = start_ts;
                put_bound(w, &prev);
                put_varint(w, KITH_RECON_SKIP);
            }
            infinity(&inf);
            if ((rc = range_fp(st, hi, n, fp)) < 0)
                return rc;
            put_bound(w, &inf);
            put_varint(w, KITH_RECON_FINGERPRINT);
            put(w, fp, sizeof(fp));
            break;
        }
        prev_idx = hi;
        prev = g.b;
    }
    return w->err;
}

static int check_version(struct kith_recon *r, const uint8_t *msg, size_t len)
{
    if (r->max_in != 0 && len > r->max_in)
        return -KITH_ETOOBIG;
    if (len == 0)
        return -KITH_ETRUNCATED;
    if (msg[0] < 0x60 || msg[0] > 0x6f)
        return -KITH_EVERSION;
    if (msg[0] != KITH_RECON_VERSION)
        return r->role == 1 ? -KITH_EVERSION : 1;
    return 0;
}

int kith_recon_out_max(struct kith_recon *r, const uint8_t *msg, size_t len, size_t *cap)
{
    struct survey s;
    size_t n;
    int rc;

    if (r == NULL || (msg == NULL && len != 0) || cap == NULL)
        return -KITH_EINVAL;
    if ((rc = check_version(r, msg, len)) < 0)
        return rc;
    if (rc == 1) {
        *cap = 1;
        return 0;
    }
    if ((rc = r->st->size(r->st->ctx, &n)) < 0)
        return rc;
    if ((rc = survey(msg, len, n, r->role != 1, r->policy == KITH_RECON_POLICY_ADAPTIVE, &s)) < 0)
        return rc;
    *cap = r->frame_limit != 0 ? r->frame_limit : s.out_need;
    return 0;
}

int kith_recon_reconcile(struct kith_recon *r, const uint8_t *msg, size_t len, kith_recon_id_fn fn,
                         void *arg, uint8_t *out, size_t cap, size_t *out_len)
{
    struct writer w = {out, 0, cap, 0, 0};
    struct survey s;
    size_t n;
    int rc;

    if (r == NULL || (msg == NULL && len != 0) || out == NULL || out_len == NULL)
        return -KITH_EINVAL;
    if (r->role == 1 && fn == NULL)
        return -KITH_EINVAL;
    if ((rc = check_version(r, msg, len)) < 0)
        return rc;
    if (rc == 1) {
        /* A version we do not speak: say which one we do. */
        if (cap < 1)
            return -KITH_EBUFSIZE;
        r->role = 2;
        out[0] = KITH_RECON_VERSION;
        *out_len = 1;
        return 0;
    }
    if ((rc = r->st->size(r->st->ctx, &n)) < 0)
        return rc;
    if ((rc = survey(msg, len, n, r->role != 1, r->policy == KITH_RECON_POLICY_ADAPTIVE, &s)) < 0)
        return rc;
    if (cap < (r->frame_limit != 0 ? r->frame_limit : s.out_need))
        return -KITH_EBUFSIZE;
    if (r->role == 1 && (rc = grow_scratch(r, s.max_ids)) < 0)
        return rc;
    if (r->role == 0)
        r->role = 2;
    if ((rc = process(r, msg, len, n, fn, arg, &w)) != 0)
        return rc;
    /* The initiator is done when it has nothing left to ask. */
    *out_len = (r->role == 1 && w.len == 1) ? 0 : w.len;
    return 0;
}
