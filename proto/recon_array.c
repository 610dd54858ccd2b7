/*
 * recon_array: the in-memory sorted-array storage for set reconciliation
 * (struct kith_recon_array in kith/recon.h), used by tests, the harness and
 * small sets. It owns its item array and a table of prefix sums of the ids,
 * so the fingerprint of any range costs two lookups and one subtraction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kith/recon.h"

static int item_cmp(const struct kith_recon_item *a, const struct kith_recon_item *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return memcmp(a->id, b->id, KITH_RECON_ID_BYTES);
}

void kith_recon_array_init(struct kith_recon_array *a)
{
    memset(a, 0, sizeof(*a));
}

int kith_recon_array_add(struct kith_recon_array *a, uint64_t ts,
                         const uint8_t id[KITH_RECON_ID_BYTES])
{
    if (a->sealed || ts == KITH_RECON_TS_INFINITY)
        return -KITH_EINVAL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct kith_recon_item *p;

        if (cap > SIZE_MAX / sizeof(*p))
            return -ENOMEM;
        p = realloc(a->items, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        a->items = p;
        a->cap = cap;
    }
    a->items[a->n].ts = ts;
    memcpy(a->items[a->n].id, id, KITH_RECON_ID_BYTES);
    a->n++;
    return 0;
}

static int qsort_cmp(const void *x, const void *y)
{
    return item_cmp(x, y);
}

int kith_recon_array_seal(struct kith_recon_array *a)
{
    if (a->sealed)
        return -KITH_EINVAL;
    if (a->n > 0)
        qsort(a->items, a->n, sizeof(a->items[0]), qsort_cmp);
    for (size_t i = 1; i < a->n; i++)
        if (item_cmp(&a->items[i - 1], &a->items[i]) == 0)
            return -KITH_EEXIST;
    if (a->n + 1 > SIZE_MAX / KITH_RECON_SUM_BYTES)
        return -ENOMEM;
    a->prefix = calloc(a->n + 1, KITH_RECON_SUM_BYTES);
    if (a->prefix == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < a->n; i++) {
        uint8_t *s = a->prefix + (i + 1) * KITH_RECON_SUM_BYTES;

        memcpy(s, s - KITH_RECON_SUM_BYTES, KITH_RECON_SUM_BYTES);
        kith_recon_sum_add(s, a->items[i].id);
    }
    a->sealed = 1;
    return 0;
}

static int arr_size(void *ctx, size_t *n)
{
    *n = ((struct kith_recon_array *)ctx)->n;
    return 0;
}

static int arr_get(void *ctx, size_t i, struct kith_recon_item *item)
{
    struct kith_recon_array *a = ctx;

    if (i >= a->n)
        return -KITH_EINVAL;
    *item = a->items[i];
    return 0;
}

static int arr_lower_bound(void *ctx, size_t begin, size_t end, const struct kith_recon_item *bound,
                           size_t *pos)
{
    struct kith_recon_array *a = ctx;

    if (begin > end || end > a->n)
        return -KITH_EINVAL;
    while (begin < end) {
        size_t mid = begin + (end - begin) / 2;

        if (item_cmp(&a->items[mid], bound) < 0)
            begin = mid + 1;
        else
            end = mid;
    }
    *pos = begin;
    return 0;
}

static int arr_sum(void *ctx, size_t begin, size_t end, uint8_t sum[KITH_RECON_SUM_BYTES])
{
    struct kith_recon_array *a = ctx;
    uint8_t neg[KITH_RECON_SUM_BYTES];

    if (begin > end || end > a->n)
        return -KITH_EINVAL;
    memcpy(sum, a->prefix + end * KITH_RECON_SUM_BYTES, KITH_RECON_SUM_BYTES);
    memcpy(neg, a->prefix + begin * KITH_RECON_SUM_BYTES, KITH_RECON_SUM_BYTES);
    kith_recon_sum_sub(sum, neg);
    return 0;
}

void kith_recon_array_storage(struct kith_recon_array *a, struct kith_recon_storage *st)
{
    st->ctx = a;
    st->size = arr_size;
    st->get = arr_get;
    st->lower_bound = arr_lower_bound;
    st->sum = arr_sum;
}

void kith_recon_array_free(struct kith_recon_array *a)
{
    free(a->items);
    free(a->prefix);
    memset(a, 0, sizeof(*a));
}
