/*
 * vcache: a set of verified post ids (see vcache.h). Sets of 4 slots; the
 * set is chosen by 8 bytes of the id (ids are hash outputs, so they spread
 * evenly) and a full set replaces its slots in turn.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "vcache.h"

#define VCACHE_WAYS 4
#define VCACHE_KEEP 16 /* bytes of each id kept */

struct vcache_set {
    uint8_t id[VCACHE_WAYS][VCACHE_KEEP];
    uint8_t used, next;
};

struct vcache {
    pthread_mutex_t lock;
    size_t mask; /* sets - 1 */
    struct vcache_set *sets;
};

int vcache_new(unsigned slots_log2, struct vcache **out)
{
    struct vcache *c;
    size_t sets;

    *out = NULL;
    if (slots_log2 < 4 || slots_log2 > 24)
        return -KITH_EINVAL;
    sets = ((size_t)1 << slots_log2) / VCACHE_WAYS;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->sets = calloc(sets, sizeof(*c->sets));
    if (c->sets == NULL) {
        free(c);
        return -ENOMEM;
    }
    c->mask = sets - 1;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

void vcache_free(struct vcache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->sets);
    free(c);
}

static struct vcache_set *set_of(struct vcache *c, const uint8_t *id)
{
    uint64_t h = 0;

    /* Bytes 16..23: not among the kept ones, so the set and the slot
     * check different parts of the id. */
    memcpy(&h, id + VCACHE_KEEP, sizeof(h));
    return &c->sets[h & c->mask];
}

int vcache_has(struct vcache *c, const uint8_t id[KITH_POST_ID_BYTES])
{
    struct vcache_set *s;
    int found = 0;

    pthread_mutex_lock(&c->lock);
    s = set_of(c, id);
    for (unsigned i = 0; i < s->used && !found; i++)
        found = memcmp(s->id[i], id, VCACHE_KEEP) == 0;
    pthread_mutex_unlock(&c->lock);
    return found;
}

void vcache_add(struct vcache *c, const uint8_t id[KITH_POST_ID_BYTES])
{
    struct vcache_set *s;
    unsigned slot;

    pthread_mutex_lock(&c->lock);
    s = set_of(c, id);
    for (unsigned i = 0; i < s->used; i++) {
        if (memcmp(s->id[i], id, VCACHE_KEEP) == 0)
            goto done;
    }
    if (s->used < VCACHE_WAYS) {
        slot = s->used++;
    } else {
        slot = s->next;
        s->next = (uint8_t)((s->next + 1) % VCACHE_WAYS);
    }
    memcpy(s->id[slot], id, VCACHE_KEEP);
done:
    pthread_mutex_unlock(&c->lock);
}
