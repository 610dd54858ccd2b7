/*
 * peers: the known-peers table of peers.h. It owns an array of pointers to
 * separately allocated entries (so an entry does not move when others come
 * and go) and the injected clock and random source.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <sodium.h>

#include "kith/error.h"
#include "peers.h"
#include "tcp.h"

struct peers {
    struct peer_info *items[PEERS_MAX];
    size_t n;
    struct peers_config cfg;
};

static uint64_t system_now_ms(void *arg)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static uint32_t system_random(void *arg, uint32_t upper)
{
    return randombytes_uniform(upper);
}

static uint64_t now(const struct peers *p)
{
    return p->cfg.now_ms(p->cfg.now_arg);
}

int peers_new(const struct peers_config *cfg, struct peers **out)
{
    struct peers *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return -ENOMEM;
    if (cfg != NULL)
        p->cfg = *cfg;
    if (p->cfg.now_ms == NULL)
        p->cfg.now_ms = system_now_ms;
    if (p->cfg.random == NULL)
        p->cfg.random = system_random;
    *out = p;
    return 0;
}

void peers_free(struct peers *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->items[i]);
    free(p);
}

size_t peers_count(const struct peers *p)
{
    return p->n;
}

struct peer_info *peers_at(const struct peers *p, size_t i)
{
    return i < p->n ? p->items[i] : NULL;
}

/* Free entry i and close the gap (entries keep their order). */
static void remove_at(struct peers *p, size_t i)
{
    free(p->items[i]);
    for (; i + 1 < p->n; i++)
        p->items[i] = p->items[i + 1];
    p->n--;
}

/* Make room for one more entry: evict the discovered-only entry seen longest
 * ago that nobody holds. */
static int make_room(struct peers *p)
{
    size_t victim = p->n;

    if (p->n < PEERS_MAX)
        return 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct peer_info *e = p->items[i];

        if ((e->sources & PEER_CONFIGURED) || e->dialing || e->connected > 0)
            continue;
        if (victim == p->n || e->last_seen_ms < p->items[victim]->last_seen_ms)
            victim = i;
    }
    if (victim == p->n)
        return -ENOSPC;
    remove_at(p, victim);
    return 0;
}

static int add(struct peers *p, struct peer_info **out)
{
    struct peer_info *e;
    int r = make_room(p);

    if (r < 0)
        return r;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    p->items[p->n++] = e;
    *out = e;
    return 0;
}

int peers_add_configured(struct peers *p, const char *host, uint16_t port, struct peer_info **out)
{
    size_t n = strlen(host);
    struct peer_info *e;
    int r;

    if (n == 0 || n >= PEERS_HOST_MAX || port == 0)
        return -KITH_EINVAL;
    for (size_t i = 0; i < p->n; i++) {
        e = p->items[i];
        if ((e->sources & PEER_CONFIGURED) && e->port == port && strcmp(e->host, host) == 0) {
            *out = e;
            return -EEXIST;
        }
    }
    r = add(p, &e);
    if (r < 0)
        return r;
    memcpy(e->host, host, n + 1);
    e->port = port;
    e->sources = PEER_CONFIGURED;
    *out = e;
    return 0;
}

struct peer_info *peers_find_configured(const struct peers *p, const char *host, uint16_t port)
{
    for (size_t i = 0; i < p->n; i++) {
        struct peer_info *e = p->items[i];

        if ((e->sources & PEER_CONFIGURED) && e->port == port && strcmp(e->host, host) == 0)
            return e;
    }
    return NULL;
}

void peers_unconfigure(struct peers *p, struct peer_info *e, int *removed)
{
    *removed = 0;
    e->sources &= ~(unsigned)PEER_CONFIGURED;
    if (e->sources != 0 && e->has_addr) {
        e->host[0] = '\0';
        e->port = 0;
    }
    if (e->sources != 0 || e->dialing || e->connected > 0)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i] == e) {
            remove_at(p, i);
            *removed = 1;
            return;
        }
    }
}

size_t peers_prune(struct peers *p)
{
    size_t removed = 0, i = 0;

    while (i < p->n) {
        const struct peer_info *e = p->items[i];

        if (e->sources == 0 && !e->dialing && e->connected == 0) {
            remove_at(p, i);
            removed++;
        } else {
            i++;
        }
    }
    return removed;
}

struct peer_info *peers_find_key(const struct peers *p, const uint8_t key[PEERS_KEY_BYTES])
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i]->has_key && sodium_memcmp(p->items[i]->node_key, key, PEERS_KEY_BYTES) == 0)
            return p->items[i];
    return NULL;
}

static int seen_at(struct peers *p, const uint8_t key[PEERS_KEY_BYTES], const struct sockaddr *addr,
                   unsigned source, struct peer_info **out)
{
    struct peer_info *e;
    size_t alen;
    int r, fresh = 0;

    if (addr->sa_family == AF_INET)
        alen = sizeof(struct sockaddr_in);
    else if (addr->sa_family == AF_INET6)
        alen = sizeof(struct sockaddr_in6);
    else
        return -KITH_EINVAL;
    e = peers_find_key(p, key);
    if (e == NULL) {
        r = add(p, &e);
        if (r < 0)
            return r;
        memcpy(e->node_key, key, PEERS_KEY_BYTES);
        e->has_key = 1;
        fresh = 1;
    }
    memset(&e->addr, 0, sizeof(e->addr));
    memcpy(&e->addr, addr, alen);
    e->has_addr = 1;
    e->sources |= source;
    e->last_seen_ms = now(p);
    *out = e;
    return fresh;
}

int peers_heard(struct peers *p, const uint8_t key[PEERS_KEY_BYTES], const struct sockaddr *addr,
                struct peer_info **out)
{
    return seen_at(p, key, addr, PEER_DISCOVERED, out);
}

int peers_inbound(struct peers *p, const uint8_t key[PEERS_KEY_BYTES], const struct sockaddr *addr,
                  struct peer_info **out)
{
    int r = seen_at(p, key, addr, PEER_INBOUND, out);

    if (r < 0)
        return r;
    (*out)->connected++;
    return 0;
}

int peers_backed_off(const struct peers *p, const struct peer_info *e)
{
    return e->severe && e->next_attempt_ms > now(p);
}

void peers_set_key(struct peers *p, struct peer_info *e, const uint8_t key[PEERS_KEY_BYTES])
{
    memcpy(e->node_key, key, PEERS_KEY_BYTES);
    e->has_key = 1;
}

int peers_is_due(const struct peers *p, const struct peer_info *e)
{
    if (e->dialing || e->connected > 0)
        return 0;
    if (!e->has_addr && e->host[0] == '\0')
        return 0;
    return e->next_attempt_ms <= now(p);
}

uint64_t peers_next_due_ms(const struct peers *p)
{
    uint64_t best = UINT64_MAX, t = now(p);

    for (size_t i = 0; i < p->n; i++) {
        const struct peer_info *e = p->items[i];

        if (e->dialing || e->connected > 0 || (!e->has_addr && e->host[0] == '\0'))
            continue;
        if (e->next_attempt_ms <= t)
            return 0;
        if (e->next_attempt_ms < best)
            best = e->next_attempt_ms;
    }
    return best;
}

void peers_attempt(struct peers *p, struct peer_info *e)
{
    e->dialing = 1;
    e->last_attempt_ms = now(p);
}

void peers_failed(struct peers *p, struct peer_info *e, int severe)
{
    uint64_t delay = PEERS_BACKOFF_MIN_MS;

    e->dialing = 0;
    if (e->failures < UINT32_MAX)
        e->failures++;
    e->severe = severe;
    if (severe) {
        delay = PEERS_BACKOFF_MAX_MS;
    } else {
        for (uint32_t i = 1; i < e->failures && delay < PEERS_BACKOFF_MAX_MS; i++)
            delay *= 2;
        if (delay > PEERS_BACKOFF_MAX_MS)
            delay = PEERS_BACKOFF_MAX_MS;
    }
    /* Up to a quarter less, at random: nodes that failed together (a
     * restarted hub) come back spread out. */
    delay -= p->cfg.random(p->cfg.random_arg, (uint32_t)(delay / 4) + 1);
    e->next_attempt_ms = now(p) + delay;
}

void peers_connected(struct peers *p, struct peer_info *e)
{
    e->dialing = 0;
    e->connected++;
    e->failures = 0;
    e->severe = 0;
    e->next_attempt_ms = 0;
    e->last_seen_ms = now(p);
}

void peers_disconnected(struct peers *p, struct peer_info *e)
{
    if (e->connected > 0)
        e->connected--;
    e->last_seen_ms = now(p);
}

void peers_synced(struct peers *p, struct peer_info *e, uint64_t posts_in, uint64_t posts_out,
                  uint64_t bytes_in, uint64_t bytes_out)
{
    e->last_sync_ms = now(p);
    e->last_seen_ms = e->last_sync_ms;
    e->syncs++;
    e->posts_in += posts_in;
    e->posts_out += posts_out;
    e->bytes_in += bytes_in;
    e->bytes_out += bytes_out;
}

static json_t *entry_json(const struct peer_info *e)
{
    char hex[PEERS_KEY_BYTES * 2 + 1], addr[PEERS_HOST_MAX + 16];
    json_t *o = json_object(), *src = json_array();
    int bad = o == NULL || src == NULL;

    if (e->has_key)
        sodium_bin2hex(hex, sizeof(hex), e->node_key, PEERS_KEY_BYTES);
    if (e->host[0] != '\0')
        snprintf(addr, sizeof(addr), strchr(e->host, ':') != NULL ? "[%s]:%u" : "%s:%u", e->host,
                 (unsigned)e->port);
    else if (!e->has_addr ||
             tcp_format_address((const struct sockaddr *)&e->addr, addr, sizeof(addr)) < 0)
        addr[0] = '\0';
    if (!bad && (e->sources & PEER_CONFIGURED))
        bad |= json_array_append_new(src, json_string("configured"));
    if (!bad && (e->sources & PEER_DISCOVERED))
        bad |= json_array_append_new(src, json_string("discovered"));
    if (!bad && (e->sources & PEER_INBOUND))
        bad |= json_array_append_new(src, json_string("inbound"));
    if (!bad)
        bad = json_object_set_new(o, "node", e->has_key ? json_string(hex) : json_null()) ||
              json_object_set_new(o, "address", addr[0] ? json_string(addr) : json_null()) ||
              json_object_set(o, "sources", src) ||
              json_object_set_new(o, "connected", json_boolean(e->connected > 0)) ||
              json_object_set_new(o, "last_seen_ms", json_integer((json_int_t)e->last_seen_ms)) ||
              json_object_set_new(o, "last_sync_ms", json_integer((json_int_t)e->last_sync_ms)) ||
              json_object_set_new(o, "next_attempt_ms",
                                  json_integer((json_int_t)e->next_attempt_ms)) ||
              json_object_set_new(o, "failures", json_integer(e->failures)) ||
              json_object_set_new(o, "syncs", json_integer(e->syncs)) ||
              json_object_set_new(o, "posts_in", json_integer((json_int_t)e->posts_in)) ||
              json_object_set_new(o, "posts_out", json_integer((json_int_t)e->posts_out)) ||
              json_object_set_new(o, "bytes_in", json_integer((json_int_t)e->bytes_in)) ||
              json_object_set_new(o, "bytes_out", json_integer((json_int_t)e->bytes_out));
    json_decref(src);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int peers_json(const struct peers *p, json_t **out)
{
    json_t *arr = json_array(), *o = json_object();

    *out = NULL;
    if (arr == NULL || o == NULL)
        goto fail;
    for (size_t i = 0; i < p->n; i++) {
        json_t *e = entry_json(p->items[i]);

        if (e == NULL || json_array_append_new(arr, e) < 0)
            goto fail;
    }
    if (json_object_set_new(o, "peers", arr) < 0) {
        arr = NULL; /* set_new took it even on failure */
        goto fail;
    }
    *out = o;
    return 0;
fail:
    json_decref(arr);
    json_decref(o);
    return -ENOMEM;
}
