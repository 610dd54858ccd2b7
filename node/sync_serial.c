/*
 * sync_serial: the sync manager's serial links (see sync.h). One struct
 * sync_link per device: those of the config and `kithd --serial`, kept for
 * as long as the node runs, and one-off links started by a `sync` request
 * with `serial`, stopped once that run is over. Each link (serial.c) hands
 * its sessions here, and they run through sync.c's session code exactly as
 * TCP sessions do; only the bookkeeping differs, because a serial link is
 * not a dialed peer: it has no address but its device, it starts sessions
 * by itself, and on a noisy line a session ending early is normal (the link
 * starts a fresh one; what was stored is kept, so the next reconciliation
 * resumes). A `sync` run over a link therefore survives lost sessions: it
 * is done when one session reaches the end of a round, and fails only when
 * the far node refuses us, misbehaves, stays silent for SYNC_LINK_WAIT_MS,
 * or SYNC_LINK_TRIES sessions in a row end early.
 *
 * It owns the struct sync_link records (in struct sync, freed with it) and
 * the serial links while they run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kith/error.h"
#include "kith/wire.h"
#include "log.h"
#include "sync_internal.h"

#define SYNC_LINK_WAIT_MS 30000     /* a run fails if no session starts in this time */
#define SYNC_LINK_TRIES 50          /* ... or if this many end without finishing */
#define SYNC_LINK_BACKOFF_MS 60000u /* after a far end that misbehaved */
#define SYNC_LINK_PAUSE_MS 20       /* between one session and the next */

/* Line noise: the link reports it and starts again; nobody misbehaved. */
static int is_noise(int err)
{
    return err == -KITH_EENCODING || err == -KITH_ETOOBIG || err == -EBADMSG;
}

/* An end that another session would not fix: the run fails at once. */
static int is_fatal(int err, enum peer_fault fault)
{
    return err == -KITH_ENOTMEMBER || err == -KITH_EVERSION ||
           (fault == PEER_FAULT_SEVERE && !is_noise(err));
}

static void on_serial_session(struct serial_link *l, struct transport *t, int initiator, void *arg)
{
    struct sync_link *k = arg;
    struct sync *s = k->s;
    struct sync_sess *x;

    (void)l;
    /* A one-off link whose run is over takes no new session. */
    if (s->stopping || (k->oneoff && k->job == 0)) {
        sync_refuse(t);
        return;
    }
    if (sync_sess_start(s, t, initiator, NULL, 0, &x) < 0)
        return;
    x->link = k;
    k->x = x;
    if (k->job != 0) {
        sync_job_attach(s, x, k->job);
        k->job_sessions++;
    }
}

static int link_run(struct sync *s, struct sync_link *k, const struct serial_config *base)
{
    struct serial_config sc = *base;

    sc.device = k->device;
    sc.baud = k->baud;
    sc.idle_timeout_ms = s->cfg.idle_timeout_ms;
    /* Noise ends sessions often; what the line could carry while both ends
     * wait is lost, so start again almost at once. */
    sc.pause_ms = SYNC_LINK_PAUSE_MS;
    sc.on_session = on_serial_session;
    sc.arg = k;
    return serial_link_start(s->loop, &sc, &k->l);
}

/* A new record for device (or a stopped one-off record of it, whose totals
 * carry on). Returns it or NULL (-ENOSPC / -ENOMEM in *err). */
static struct sync_link *link_slot(struct sync *s, const char *device, int *err)
{
    struct sync_link *k = NULL;

    for (size_t i = 0; i < s->n_links && k == NULL; i++) {
        if (s->links[i]->l == NULL && strcmp(s->links[i]->device, device) == 0)
            k = s->links[i];
    }
    for (size_t i = 0; i < s->n_links && k == NULL; i++) {
        if (s->links[i]->l == NULL) {
            k = s->links[i];
            memset(k, 0, sizeof(*k));
        }
    }
    if (k == NULL) {
        if (s->n_links >= SYNC_LINKS_MAX) {
            *err = -ENOSPC;
            return NULL;
        }
        k = calloc(1, sizeof(*k));
        if (k == NULL) {
            *err = -ENOMEM;
            return NULL;
        }
        s->links[s->n_links++] = k;
    }
    k->s = s;
    snprintf(k->device, sizeof(k->device), "%s", device);
    return k;
}

int sync_links_start(struct sync *s)
{
    if (s->cfg.n_serials > SYNC_LINKS_MAX)
        return -KITH_EINVAL;
    for (size_t i = 0; i < s->cfg.n_serials; i++) {
        const struct serial_config *c = &s->cfg.serials[i];
        struct sync_link *k;
        int r = 0;

        if (c->device == NULL || c->device[0] == '\0' || strlen(c->device) >= SERIAL_PATH_MAX)
            return -KITH_EINVAL;
        k = link_slot(s, c->device, &r);
        if (k == NULL)
            return r;
        k->baud = c->baud != 0 ? c->baud : SERIAL_BAUD_DEFAULT;
        r = link_run(s, k, c);
        if (r < 0)
            return r;
    }
    return 0;
}

void sync_links_stop(struct sync *s)
{
    for (size_t i = 0; i < s->n_links; i++) {
        serial_link_stop(s->links[i]->l);
        s->links[i]->l = NULL;
    }
}

void sync_links_kick(struct sync *s)
{
    for (size_t i = 0; i < s->n_links; i++) {
        if (s->links[i]->l != NULL)
            serial_link_kick(s->links[i]->l);
    }
}

void sync_links_free(struct sync *s)
{
    for (size_t i = 0; i < s->n_links; i++)
        free(s->links[i]);
    s->n_links = 0;
}

/* ---- sessions ---- */

void sync_link_handshake(struct sync *s, struct sync_sess *x, const uint8_t *key)
{
    struct sync_link *k = x->link;

    (void)s;
    memcpy(k->node_key, key, PEERS_KEY_BYTES);
    k->has_key = 1;
    k->last_seen_ms = sync_wall_ms();
}

void sync_link_synced(struct sync *s, struct sync_sess *x)
{
    struct sync_link *k = x->link;

    k->last_sync_ms = k->last_seen_ms = sync_wall_ms();
    k->last_err = 0;
    if (x->job != 0) {
        log_info("sync.serial_synced", "device=%s sessions=%u", k->device,
                 (unsigned)k->job_sessions);
        sync_job_peer_done(s, x, 0);
        k->job = 0;
    }
}

/* The run waiting on k gives up with err. */
static void link_job_fail(struct sync *s, struct sync_link *k, int err)
{
    log_info("sync.serial_failed", "device=%s error=%s", k->device, kith_errname(err));
    sync_job_dial_failed(s, k->job, k->device, err);
    k->job = 0;
}

void sync_link_ended(struct sync *s, struct sync_sess *x, int err, enum peer_fault fault)
{
    struct sync_link *k = x->link;
    struct peer_stats now;

    peer_get_stats(x->p, &now);
    k->posts_in += now.posts_in;
    k->posts_out += now.posts_out;
    k->bytes_in += now.bytes_in;
    k->bytes_out += now.bytes_out;
    if (k->x == x)
        k->x = NULL;
    if (s->stopping)
        return;
    if (err != 0 && err != -ECANCELED)
        k->last_err = err;
    /* A far end that misbehaved waits; one that shares no group is
     * retried on the link's own schedule (it may join one). */
    if (fault == PEER_FAULT_SEVERE && !is_noise(err) && k->l != NULL) {
        log_info("sync.serial_backoff", "device=%s error=%s seconds=%u", k->device,
                 kith_errname(err), SYNC_LINK_BACKOFF_MS / 1000);
        serial_link_backoff(k->l, SYNC_LINK_BACKOFF_MS);
    }
    if (x->job == 0) {
        /* A one-off link whose run is over: stop now rather than link
         * again (this runs from the loop, not inside the link's code). */
        if (k->oneoff && k->job == 0 && k->l != NULL) {
            log_info("sync.serial_oneoff_done", "device=%s", k->device);
            serial_link_stop(k->l);
            k->l = NULL;
        }
        return;
    }
    if (is_fatal(err, fault)) {
        sync_job_peer_done(s, x, err);
        k->job = 0;
        return;
    }
    /* Noise, a hang-up, a timeout: the link starts another session. */
    sync_job_session_lost(s, x);
    if (k->job_sessions >= SYNC_LINK_TRIES)
        link_job_fail(s, k, err != 0 ? err : -EPIPE);
}

/* ---- runs ---- */

/* Bring link k into run job. explicit: asked for by device, so a link that
 * waits for its device is included (and fails if the device stays away).
 * Returns 1 if k now counts in the run. */
static int link_attach(struct sync *s, struct sync_link *k, int64_t job, int explicit)
{
    struct sync_sess *x = k->x;

    if (k->l == NULL || k->job != 0)
        return 0;
    if (!explicit && x == NULL && serial_link_state(k->l) == SERIAL_WAITING)
        return 0;
    if (sync_job_add(s, job) < 0)
        return 0;
    k->job = job;
    k->job_ms = uv_now(s->loop);
    k->job_sessions = 0;
    if (x == NULL || peer_state(x->p) == PEER_CLOSING)
        return 1;
    k->job_sessions = 1;
    sync_job_attach(s, x, job);
    if (peer_state(x->p) == PEER_LIVE) {
        /* In sync and kept so by live pushes; only the initiator may start
         * a round. */
        if (!peer_initiator(x->p) || peer_resync(x->p) < 0) {
            sync_job_peer_done(s, x, 0);
            k->job = 0;
        }
    }
    return 1;
}

void sync_links_job(struct sync *s, int64_t job)
{
    for (size_t i = 0; i < s->n_links; i++)
        link_attach(s, s->links[i], job, 0);
}

int sync_now_serial(struct sync *s, const char *device, uint32_t baud, json_t **out)
{
    struct sync_link *k = NULL;
    struct serial_config sc;
    int64_t id;
    int r = 0;

    *out = NULL;
    if (baud == 0)
        baud = SERIAL_BAUD_DEFAULT;
    if (device == NULL || device[0] == '\0' || strlen(device) >= SERIAL_PATH_MAX ||
        !serial_baud_supported(baud))
        return -KITH_EINVAL;
    for (size_t i = 0; i < s->n_links && k == NULL; i++) {
        if (s->links[i]->l != NULL && strcmp(s->links[i]->device, device) == 0)
            k = s->links[i];
    }
    if (k == NULL) {
        k = link_slot(s, device, &r);
        if (k == NULL)
            return r;
        memset(&sc, 0, sizeof(sc));
        k->baud = baud;
        k->oneoff = 1;
        r = link_run(s, k, &sc);
        if (r < 0)
            return r;
        log_info("sync.serial_oneoff", "device=%s baud=%u", k->device, (unsigned)baud);
    }
    id = sync_job_new(s);
    link_attach(s, k, id, 1);
    return sync_job_answer(s, id, out);
}

void sync_links_tick(struct sync *s)
{
    uint64_t now = uv_now(s->loop);

    for (size_t i = 0; i < s->n_links; i++) {
        struct sync_link *k = s->links[i];

        if (k->l == NULL)
            continue;
        if (k->job != 0 && k->job_sessions == 0 && now - k->job_ms >= SYNC_LINK_WAIT_MS) {
            /* Nobody answered: say why if the device is the reason. */
            int err = -ETIMEDOUT;
            if (serial_link_state(k->l) == SERIAL_WAITING)
                err = access(k->device, R_OK | W_OK) < 0 ? -errno : -EBUSY;
            link_job_fail(s, k, err);
        }
        if (!k->oneoff || k->job != 0)
            continue;
        /* A one-off link whose run is over: end its session politely (the
         * far end hears BYE and the link's close), then stop it. */
        if (k->x != NULL) {
            if (peer_state(k->x->p) != PEER_CLOSING)
                peer_stop(k->x->p, KITH_BYE_DONE);
            continue;
        }
        log_info("sync.serial_oneoff_done", "device=%s", k->device);
        serial_link_stop(k->l);
        k->l = NULL;
    }
}

/* ---- the peers list ---- */

static const char *link_state(const struct sync_link *k)
{
    if (k->x != NULL) {
        switch (peer_state(k->x->p)) {
        case PEER_SYNCING:
            return "syncing";
        case PEER_LIVE:
            return "live";
        case PEER_CLOSING:
            break;
        default:
            return "handshake";
        }
    }
    if (k->l != NULL && serial_link_state(k->l) == SERIAL_WAITING)
        return "waiting";
    return "idle";
}

json_t *sync_link_json(struct sync *s, const struct sync_link *k)
{
    struct peer_stats now;
    char hex[2 * PEERS_KEY_BYTES + 1];

    (void)s;
    memset(&now, 0, sizeof(now));
    if (k->x != NULL)
        peer_get_stats(k->x->p, &now);
    if (k->has_key)
        sodium_bin2hex(hex, sizeof(hex), k->node_key, PEERS_KEY_BYTES);
    return json_pack("{s:o,s:s,s:s,s:I,s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:o}", "node_key",
                     k->has_key ? json_string(hex) : json_null(), "address", k->device, "source",
                     "serial", "baud", (json_int_t)k->baud, "last_seen_ms",
                     (json_int_t)k->last_seen_ms, "last_sync_ms", (json_int_t)k->last_sync_ms,
                     "state", link_state(k), "posts_sent",
                     (json_int_t)k->posts_out + (json_int_t)now.posts_out, "posts_received",
                     (json_int_t)k->posts_in + (json_int_t)now.posts_in, "bytes_sent",
                     (json_int_t)k->bytes_out + (json_int_t)now.bytes_out, "bytes_received",
                     (json_int_t)k->bytes_in + (json_int_t)now.bytes_in, "last_error",
                     k->last_err != 0 ? json_string(kith_errname(k->last_err)) : json_null());
}
