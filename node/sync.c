/*
 * sync: the sync manager (see sync.h): sessions, whom to dial and when,
 * discovery beacons, the groups sessions offer, and the fan-out of new
 * posts. The control commands are in sync_ctl.c.
 *
 * It owns the tcp and discovery handles, the peers table, the tick timer,
 * the list of sessions (each ends through peer.c's on_end), and a copy of
 * the group keys (wiped whenever it is replaced and at the end).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kith/error.h"
#include "kith/proof.h"
#include "kith/wire.h"
#include "log.h"
#include "reconset.h"
#include "record.h"
#include "sync_internal.h"

#define MAX_SYNCS_DEFAULT 4

uint64_t sync_wall_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- groups ---- */

struct gid_list {
    uint8_t *ids;
    size_t n;
};

static int gid_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    struct gid_list *l = arg;
    uint8_t *v;

    (void)val;
    (void)vlen;
    if (klen != KITH_GROUP_ID_BYTES)
        return 0;
    v = realloc(l->ids, (l->n + 1) * KITH_GROUP_ID_BYTES);
    if (v == NULL)
        return -ENOMEM;
    l->ids = v;
    memcpy(l->ids + l->n++ * KITH_GROUP_ID_BYTES, key, KITH_GROUP_ID_BYTES);
    return 0;
}

static void groups_free(struct sync *s)
{
    if (s->groups != NULL)
        sodium_memzero(s->groups, s->n_groups * sizeof(*s->groups));
    free(s->groups);
    free(s->gstate);
    s->groups = NULL;
    s->gstate = NULL;
    s->n_groups = 0;
}

/* (Re)load the groups this node holds, in group id order. */
static int groups_load(struct sync *s)
{
    struct gid_list l = {NULL, 0};
    struct peer_group *g = NULL;
    struct sync_group *gs = NULL;
    struct store_txn *txn;
    size_t n = 0;
    int r = store_read_begin(s->st, &txn);

    if (r < 0)
        return r;
    r = store_each(txn, STORE_DB_GROUPS, gid_cb, &l);
    if (r == 0) {
        g = calloc(l.n + 1, sizeof(*g));
        gs = calloc(l.n + 1, sizeof(*gs));
        if (g == NULL || gs == NULL)
            r = -ENOMEM;
    }
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        struct record_group rg;

        if (record_group_load(txn, s->v, l.ids + i * KITH_GROUP_ID_BYTES, &rg) < 0)
            continue; /* a damaged record: that group does not sync */
        memcpy(g[n].id, rg.id, KITH_GROUP_ID_BYTES);
        memcpy(g[n].key, rg.key, KITH_GROUP_KEY_BYTES);
        g[n].epoch = rg.epoch;
        gs[n].dirty = 1;
        n++;
        record_group_wipe(&rg);
    }
    store_txn_end(txn);
    free(l.ids);
    if (r < 0) {
        if (g != NULL)
            sodium_memzero(g, (l.n + 1) * sizeof(*g));
        free(g);
        free(gs);
        return r;
    }
    groups_free(s);
    s->groups = g;
    s->gstate = gs;
    s->n_groups = n;
    s->env.groups = g;
    s->env.n_groups = n;
    s->beacon_dirty = 1;
    return 0;
}

static int group_find(const struct sync *s, const uint8_t gid[KITH_GROUP_ID_BYTES])
{
    for (size_t i = 0; i < s->n_groups; i++) {
        if (memcmp(s->groups[i].id, gid, KITH_GROUP_ID_BYTES) == 0)
            return (int)i;
    }
    return -1;
}

int sync_digests(struct sync *s)
{
    struct store_txn *txn = NULL;
    int r = 0;

    for (size_t i = 0; i < s->n_groups && r == 0; i++) {
        if (!s->gstate[i].dirty)
            continue;
        if (txn == NULL)
            r = store_read_begin(s->st, &txn);
        if (r == 0)
            r = reconset_digest(txn, s->groups[i].id, &s->gstate[i].count, s->gstate[i].fp);
        if (r == 0)
            s->gstate[i].dirty = 0;
    }
    if (txn != NULL)
        store_txn_end(txn);
    return r;
}

/* ---- beacons ---- */

static void beacon_update(struct sync *s)
{
    struct kith_beacon_group bg[KITH_BEACON_GROUPS_MAX];
    uint64_t window = kith_tag_window(sync_wall_ms());
    size_t n = s->n_groups < KITH_BEACON_GROUPS_MAX ? s->n_groups : KITH_BEACON_GROUPS_MAX;

    if (s->disc == NULL || (!s->beacon_dirty && window == s->beacon_window))
        return;
    if (sync_digests(s) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        kith_tag_make(s->groups[i].key, s->groups[i].epoch, window, s->id->pk, bg[i].tag);
        kith_summary_make(s->groups[i].key, s->groups[i].epoch, window, s->id->pk, s->gstate[i].fp,
                          bg[i].summary);
    }
    discovery_set_groups(s->disc, bg, n);
    if (s->beacon_dirty)
        discovery_announce(s->disc);
    s->beacon_dirty = 0;
    s->beacon_window = window;
}

/* ---- sessions ---- */

static size_t syncing_count(const struct sync *s)
{
    size_t n = 0;

    for (const struct sync_sess *x = s->sessions; x != NULL; x = x->next) {
        enum peer_state st = peer_state(x->p);
        if (st != PEER_LIVE && st != PEER_CLOSING)
            n++;
    }
    return n;
}

struct sync_sess *sync_find_key(struct sync *s, const uint8_t key[PEERS_KEY_BYTES])
{
    for (struct sync_sess *x = s->sessions; x != NULL; x = x->next) {
        const uint8_t *k = peer_remote_key(x->p);
        if (k != NULL && peer_state(x->p) != PEER_CLOSING && memcmp(k, key, PEERS_KEY_BYTES) == 0)
            return x;
    }
    return NULL;
}

static void orphan_frame(struct transport *t, const uint8_t *frame, size_t len)
{
    (void)t;
    (void)frame;
    (void)len;
}

static void orphan_close(struct transport *t, int reason)
{
    (void)t;
    (void)reason;
}

void sync_refuse(struct transport *t)
{
    t->on_frame = orphan_frame;
    t->on_close = orphan_close;
    t->on_drain = NULL;
    transport_close(t);
}

int sync_sess_start(struct sync *s, struct transport *t, int initiator, struct peer_info *info,
                    int64_t job, struct sync_sess **out)
{
    struct sync_sess *x = calloc(1, sizeof(*x));
    int r;

    if (out != NULL)
        *out = NULL;
    if (x == NULL) {
        sync_refuse(t);
        return -ENOMEM;
    }
    x->s = s;
    x->info = info;
    x->job = job;
    r = peer_start(&s->env, t, initiator, &x->p);
    if (r < 0) {
        free(x);
        return r;
    }
    peer_set_data(x->p, x);
    x->next = s->sessions;
    s->sessions = x;
    s->n_sessions++;
    if (out != NULL)
        *out = x;
    return 0;
}

static void report(struct sync *s, struct sync_sess *x)
{
    struct peer_stats now;

    if (x->info == NULL)
        return;
    peer_get_stats(x->p, &now);
    peers_synced(s->peers, x->info, now.posts_in - x->reported.posts_in,
                 now.posts_out - x->reported.posts_out, now.bytes_in - x->reported.bytes_in,
                 now.bytes_out - x->reported.bytes_out);
    x->reported = now;
}

static int on_handshake(struct peer *p, void *arg)
{
    struct sync *s = arg;
    struct sync_sess *x = peer_data(p), *other;
    const uint8_t *key = peer_remote_key(p);
    struct sockaddr_storage sa;
    int r;

    if (s->stopping)
        return KITH_BYE_SHUTDOWN;
    if (memcmp(key, s->id->pk, PEERS_KEY_BYTES) == 0) {
        if (x->info != NULL)
            sync_note_set(s, x->info, -KITH_EINVAL);
        return KITH_BYE_DONE; /* we dialed ourselves */
    }
    other = sync_find_key(s, key);
    if (other == x) {
        for (other = x->next; other != NULL; other = other->next) {
            const uint8_t *k = peer_remote_key(other->p);
            if (k != NULL && peer_state(other->p) != PEER_CLOSING &&
                memcmp(k, key, PEERS_KEY_BYTES) == 0)
                break;
        }
    }
    if (other != NULL) {
        /* Two sessions with one node (both dialed at once): both ends keep
         * the one whose initiator has the smaller key, so they agree. */
        const uint8_t *init_new = peer_initiator(p) ? s->id->pk : key;
        if (memcmp(init_new, peer_initiator(p) ? key : s->id->pk, PEERS_KEY_BYTES) > 0)
            return KITH_BYE_DONE;
        peer_stop(other->p, KITH_BYE_DONE);
    }
    if (!peer_initiator(p) && syncing_count(s) > s->cfg.max_syncs)
        return KITH_BYE_BUSY;
    if (!peer_initiator(p)) {
        const struct peer_info *known = peers_find_key(s->peers, key);
        if (known != NULL && peers_backed_off(s->peers, known))
            return KITH_BYE_BUSY;
    }
    if (x->link != NULL) {
        sync_link_handshake(s, x, key);
        return 0;
    }
    if (x->info == NULL) {
        struct transport *t = peer_transport(p);
        if (t == NULL || tcp_peer_address(t, &sa) < 0)
            return 0;
        r = peers_inbound(s->peers, key, (const struct sockaddr *)&sa, &x->info);
        if (r < 0)
            return 0; /* table full: the session runs, unlisted */
    } else {
        if (!x->info->has_key)
            peers_set_key(s->peers, x->info, key);
        peers_connected(s->peers, x->info);
    }
    x->counted = 1;
    return 0;
}

static void on_synced(struct peer *p, void *arg)
{
    struct sync *s = arg;
    struct sync_sess *x = peer_data(p);

    if (x->link != NULL) {
        sync_link_synced(s, x);
        return;
    }
    report(s, x);
    if (x->info != NULL)
        sync_note_set(s, x->info, 0);
    if (x->job != 0)
        sync_job_peer_done(s, x, 0);
}

static void maybe_free(struct sync *s);

static void on_end(struct peer *p, int err, enum peer_fault fault, void *arg)
{
    struct sync *s = arg;
    struct sync_sess *x = peer_data(p), **pp;

    if (x->info != NULL) {
        struct peer_stats now;

        peer_get_stats(p, &now);
        x->info->posts_in += now.posts_in - x->reported.posts_in;
        x->info->posts_out += now.posts_out - x->reported.posts_out;
        x->info->bytes_in += now.bytes_in - x->reported.bytes_in;
        x->info->bytes_out += now.bytes_out - x->reported.bytes_out;
        if (err != 0 && err != -ECANCELED)
            sync_note_set(s, x->info, err);
        if (fault != PEER_FAULT_NONE && !s->stopping)
            peers_failed(s->peers, x->info, fault == PEER_FAULT_SEVERE);
        else if (!x->counted)
            x->info->dialing = 0;
        if (x->counted)
            peers_disconnected(s->peers, x->info);
    }
    if (x->link != NULL)
        sync_link_ended(s, x, err, fault);
    if (x->job != 0)
        sync_job_peer_done(s, x, err != 0 ? err : (fault != PEER_FAULT_NONE ? -EPIPE : 0));
    for (pp = &s->sessions; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    }
    s->n_sessions--;
    free(x);
    if (s->stopping)
        maybe_free(s);
}

/* ---- dialing ---- */

struct dial {
    struct sync *s;
    struct peer_info *info;
    int64_t job;
};

static void on_dial(struct tcp *tcp, struct transport *t, int status, void *arg)
{
    struct dial *d = arg;
    struct sync *s = d->s;
    char addr[SYNC_NOTE_ID_MAX];

    (void)tcp;
    s->dials--;
    if (status < 0) {
        sync_address(d->info, addr, sizeof(addr));
        if (status != -ECANCELED) {
            log_info("sync.dial_failed", "address=%s error=%s", addr, kith_errname(status));
            sync_note_set(s, d->info, status);
            peers_failed(s->peers, d->info, 0);
        } else {
            d->info->dialing = 0;
        }
        if (d->job != 0)
            sync_job_dial_failed(s, d->job, addr, status);
    } else if (s->stopping) {
        d->info->dialing = 0;
        sync_refuse(t);
    } else if (sync_sess_start(s, t, 1, d->info, d->job, NULL) < 0) {
        peers_failed(s->peers, d->info, 0);
        if (d->job != 0)
            sync_job_dial_failed(s, d->job, "", -ENOMEM);
    }
    free(d);
    if (s->stopping)
        maybe_free(s);
}

int sync_dial(struct sync *s, struct peer_info *e, int64_t job)
{
    struct dial *d;
    int r;

    if (s->tcp == NULL)
        return -ECANCELED;
    d = malloc(sizeof(*d));
    if (d == NULL)
        return -ENOMEM;
    d->s = s;
    d->info = e;
    d->job = job;
    if (e->host[0] != '\0')
        r = tcp_dial_host(s->tcp, e->host, e->port, on_dial, d);
    else if (e->has_addr)
        r = tcp_dial(s->tcp, (const struct sockaddr *)&e->addr, on_dial, d);
    else
        r = -KITH_EINVAL;
    if (r < 0) {
        free(d);
        return r;
    }
    s->dials++;
    peers_attempt(s->peers, e);
    return 0;
}

static int may_dial(struct sync *s, const struct peer_info *e)
{
    return !s->stopping && peers_is_due(s->peers, e) &&
           !(e->has_key && sync_find_key(s, e->node_key) != NULL) &&
           syncing_count(s) < s->cfg.max_syncs && tcp_count(s->tcp) < s->cfg.max_peers;
}

static void on_beacon(struct discovery *d, const struct kith_beacon *b, const struct sockaddr *from,
                      void *arg)
{
    struct sync *s = arg;
    uint64_t window = kith_tag_window(sync_wall_ms()), matched;
    struct peer_info *e;
    int want = 0, r;

    (void)d;
    if (sync_digests(s) < 0)
        return;
    for (size_t i = 0; i < b->n_groups && !want; i++) {
        for (size_t g = 0; g < s->n_groups && !want; g++) {
            if (kith_tag_check(s->groups[g].key, s->groups[g].epoch, window, b->node_key,
                               b->groups[i].tag, &matched) != 0)
                continue;
            /* A member: connect only when the sets differ. */
            if (kith_summary_check(s->groups[g].key, s->groups[g].epoch, matched, b->node_key,
                                   s->gstate[g].fp, b->groups[i].summary) != 0)
                want = 1;
        }
    }
    r = peers_heard(s->peers, b->node_key, from, &e);
    if (r < 0)
        return;
    if (want && may_dial(s, e)) {
        log_info("sync.heard", "peer=%02x%02x%02x%02x differs=1", b->node_key[0], b->node_key[1],
                 b->node_key[2], b->node_key[3]);
        sync_dial(s, e, 0);
    }
}

static void on_accept(struct tcp *tcp, struct transport *t, void *arg)
{
    (void)tcp;
    sync_sess_start(arg, t, 0, NULL, 0, NULL);
}

static void on_tick(uv_timer_t *timer)
{
    struct sync *s = timer->data;

    for (struct sync_sess *x = s->sessions; x != NULL; x = x->next)
        peer_tick(x->p);
    /* Peers a reload dropped, once their last session has ended. */
    peers_prune(s->peers);
    for (size_t i = 0; i < peers_count(s->peers); i++) {
        struct peer_info *e = peers_at(s->peers, i);
        if ((e->sources & PEER_CONFIGURED) && may_dial(s, e))
            sync_dial(s, e, 0);
    }
    sync_links_tick(s);
    beacon_update(s);
}

/* ---- new posts ---- */

static void on_post(void *arg, const uint8_t gid[KITH_GROUP_ID_BYTES],
                    const uint8_t id[KITH_POST_ID_BYTES], uint64_t created_ms,
                    const uint8_t *sealed, size_t len, const void *origin)
{
    struct sync *s = arg;
    int g = group_find(s, gid);

    (void)created_ms;
    (void)sealed;
    (void)len;
    if (g < 0) {
        /* A group new to this node (created or joined): offer it from now
         * on. Proofs are made once per session, so open sessions end and
         * the peers are dialed again at once with the new list. */
        if (groups_load(s) < 0)
            return;
        g = group_find(s, gid);
        if (g < 0)
            return;
        for (struct sync_sess *x = s->sessions; x != NULL; x = x->next)
            peer_stop(x->p, KITH_BYE_DONE);
        for (size_t i = 0; i < peers_count(s->peers); i++)
            peers_at(s->peers, i)->next_attempt_ms = 0;
        sync_links_kick(s);
        log_info("sync.groups", "groups=%zu", s->n_groups);
    }
    s->gstate[g].dirty = 1;
    s->beacon_dirty = 1;
    for (struct sync_sess *x = s->sessions; x != NULL; x = x->next) {
        if ((const void *)x->p != origin)
            (void)peer_push(x->p, gid, id);
    }
}

/* ---- start and stop ---- */

static void maybe_free(struct sync *s)
{
    if (s->sessions != NULL || !s->tick_closed || s->dials > 0)
        return;
    sync_links_free(s);
    groups_free(s);
    peers_free(s->peers);
    free(s);
}

static void on_tick_closed(uv_handle_t *h)
{
    struct sync *s = h->data;

    s->tick_closed = 1;
    maybe_free(s);
}

static int start_io(struct sync *s)
{
    struct tcp_config tc;
    struct discovery_config dc;
    int r;

    memset(&tc, 0, sizeof(tc));
    tc.listen = s->cfg.listen != NULL && s->cfg.listen[0] != '\0' ? s->cfg.listen : NULL;
    tc.max_peers = s->cfg.max_peers;
    tc.handshake_timeout_ms = s->cfg.handshake_timeout_ms;
    tc.idle_timeout_ms = s->cfg.idle_timeout_ms;
    tc.on_accept = on_accept;
    tc.arg = s;
    r = tcp_start(s->loop, &tc, &s->tcp);
    if (r < 0)
        return r;
    if (s->cfg.discovery && tcp_port(s->tcp) != 0) {
        memset(&dc, 0, sizeof(dc));
        memcpy(dc.node_key, s->id->pk, sizeof(dc.node_key));
        dc.tcp_port = tcp_port(s->tcp);
        dc.port = s->cfg.discovery_port;
        dc.interval_ms = s->cfg.beacon_interval_ms;
        dc.interfaces = s->cfg.interfaces;
        dc.on_beacon = on_beacon;
        dc.arg = s;
        beacon_update(s); /* no-op: disc is NULL; digests are ready */
        r = discovery_start(s->loop, &dc, &s->disc);
        if (r < 0)
            log_warn("sync.no_discovery", "error=%s", kith_errname(r));
        s->beacon_dirty = 1;
        beacon_update(s);
    }
    return sync_links_start(s);
}

int sync_start(uv_loop_t *loop, struct service *svc, struct store *st, const struct vault *v,
               const struct identity *id, const struct sync_config *cfg, struct sync **out)
{
    struct sync *s = calloc(1, sizeof(*s));
    int r;

    *out = NULL;
    if (s == NULL)
        return -ENOMEM;
    s->loop = loop;
    s->svc = svc;
    s->st = st;
    s->v = v;
    s->id = id;
    s->cfg = *cfg;
    if (s->cfg.max_peers == 0)
        s->cfg.max_peers = TCP_MAX_PEERS_DEFAULT;
    if (s->cfg.max_syncs == 0)
        s->cfg.max_syncs = MAX_SYNCS_DEFAULT;
    s->next_job = 1;
    s->env.loop = loop;
    s->env.svc = svc;
    s->env.st = st;
    s->env.id = id;
    s->env.ping_ms = s->cfg.idle_timeout_ms != 0 ? s->cfg.idle_timeout_ms / 4 : 0;
    s->env.on_handshake = on_handshake;
    s->env.on_synced = on_synced;
    s->env.on_end = on_end;
    s->env.arg = s;
    r = peers_new(NULL, &s->peers);
    if (r == 0)
        r = groups_load(s);
    for (size_t i = 0; r == 0 && i < cfg->n_peers; i++) {
        char host[PEERS_HOST_MAX];
        uint16_t port;
        struct peer_info *e;

        r = tcp_split_hostport(cfg->peers[i], host, sizeof(host), &port);
        if (r == 0 && port == 0)
            r = -KITH_EINVAL;
        if (r == 0)
            r = peers_add_configured(s->peers, host, port, &e);
        if (r == -EEXIST)
            r = 0;
    }
    if (r == 0)
        r = start_io(s);
    if (r < 0) {
        tcp_stop(s->tcp);
        discovery_stop(s->disc);
        sync_links_stop(s);
        sync_links_free(s);
        groups_free(s);
        peers_free(s->peers);
        free(s);
        return r;
    }
    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, 0, SYNC_TICK_MS);
    service_set_post_hook(svc, on_post, s);
    service_set_sync(svc, s);
    log_info("sync.started",
             "node=%02x%02x%02x%02x listen=%s groups=%zu peers=%zu discovery=%s serial=%zu",
             id->pk[0], id->pk[1], id->pk[2], id->pk[3],
             tcp_address(s->tcp)[0] != '\0' ? tcp_address(s->tcp) : "off", s->n_groups,
             cfg->n_peers, s->disc != NULL ? "on" : "off", s->n_links);
    *out = s;
    return 0;
}

void sync_stop(struct sync *s)
{
    if (s == NULL || s->stopping)
        return;
    s->stopping = 1;
    service_set_post_hook(s->svc, NULL, NULL);
    service_set_sync(s->svc, NULL);
    for (struct sync_sess *x = s->sessions; x != NULL; x = x->next)
        peer_stop(x->p, KITH_BYE_SHUTDOWN);
    discovery_stop(s->disc);
    s->disc = NULL;
    tcp_stop(s->tcp);
    s->tcp = NULL;
    sync_links_stop(s);
    uv_close((uv_handle_t *)&s->tick, on_tick_closed);
}

/* "HOST:PORT" with a port, as sync_start takes it. */
static int split_peer(const char *peer, char host[PEERS_HOST_MAX], uint16_t *port)
{
    int r = tcp_split_hostport(peer, host, PEERS_HOST_MAX, port);

    if (r == 0 && *port == 0)
        r = -KITH_EINVAL;
    return r < 0 ? -KITH_EINVAL : 0;
}

int sync_add_peer(struct sync *s, const char *peer)
{
    char host[PEERS_HOST_MAX];
    struct peer_info *e;
    uint16_t port = 0;
    int r = split_peer(peer, host, &port);

    if (r < 0)
        return r;
    return peers_add_configured(s->peers, host, port, &e);
}

int sync_remove_peer(struct sync *s, const char *peer)
{
    char host[PEERS_HOST_MAX];
    struct peer_info *e;
    uint16_t port = 0;
    int removed;

    if (split_peer(peer, host, &port) < 0)
        return -KITH_ENOTFOUND;
    e = peers_find_configured(s->peers, host, port);
    if (e == NULL)
        return -KITH_ENOTFOUND;
    peers_unconfigure(s->peers, e, &removed);
    return 0;
}

void sync_set_max_syncs(struct sync *s, uint32_t max_syncs)
{
    s->cfg.max_syncs = max_syncs != 0 ? max_syncs : MAX_SYNCS_DEFAULT;
}

uint16_t sync_port(const struct sync *s)
{
    return s->tcp != NULL ? tcp_port(s->tcp) : 0;
}

size_t sync_sessions(const struct sync *s)
{
    return s->n_sessions;
}
