/*
 * sync_ctl: the sync manager's side of the control protocol (node/CONTROL.md,
 * "Sync commands"): the peers list, `sync` runs and their progress, the
 * sync sets, and the last error of each peer. It owns the runs and notes
 * kept in struct sync (fixed arrays: nothing to free).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "sync_internal.h"

/* ---- notes: the last error of each peer ---- */

void sync_address(const struct peer_info *e, char *out, size_t cap)
{
    out[0] = '\0';
    if (e->host[0] != '\0') {
        if (strchr(e->host, ':') != NULL)
            snprintf(out, cap, "[%s]:%u", e->host, e->port);
        else
            snprintf(out, cap, "%s:%u", e->host, e->port);
    } else if (e->has_addr) {
        if (tcp_format_address((const struct sockaddr *)&e->addr, out, cap) < 0)
            out[0] = '\0';
    }
}

void sync_note_id(const struct peer_info *e, char out[SYNC_NOTE_ID_MAX])
{
    out[0] = '\0';
    if (e->sources & PEER_CONFIGURED) {
        out[0] = 'c';
        out[1] = ':';
        sync_address(e, out + 2, SYNC_NOTE_ID_MAX - 2);
    } else if (e->has_key) {
        sodium_bin2hex(out, SYNC_NOTE_ID_MAX, e->node_key, PEERS_KEY_BYTES);
    }
}

static struct sync_note *note_find(struct sync *s, const char *id)
{
    for (size_t i = 0; i < s->n_notes; i++) {
        if (strcmp(s->notes[i].id, id) == 0)
            return &s->notes[i];
    }
    return NULL;
}

void sync_note_set(struct sync *s, const struct peer_info *e, int err)
{
    char id[SYNC_NOTE_ID_MAX];
    struct sync_note *n;

    sync_note_id(e, id);
    if (id[0] == '\0')
        return;
    n = note_find(s, id);
    if (n == NULL) {
        if (err == 0)
            return;
        /* Full: the table is as big as the peers table, so an evicted
         * peer's note goes. */
        n = &s->notes[s->n_notes < SYNC_NOTES_MAX ? s->n_notes++ : 0];
        snprintf(n->id, sizeof(n->id), "%s", id);
    }
    n->err = err;
}

/* ---- runs ---- */

static struct sync_job *job_find(struct sync *s, int64_t id)
{
    struct sync_job *j;

    if (id <= 0)
        return NULL;
    j = &s->jobs[id % SYNC_JOBS_MAX];
    return j->id == id ? j : NULL;
}

static void job_error(struct sync_job *j, const char *address, int err)
{
    if (j->n_errors < SYNC_JOB_ERRORS_MAX) {
        snprintf(j->errors[j->n_errors].address, sizeof(j->errors[0].address), "%s", address);
        j->errors[j->n_errors].err = err;
        j->n_errors++;
    }
}

static void job_settle(struct sync_job *j)
{
    if (j->done + j->failed >= j->peers)
        j->running = 0;
}

static void moved(const struct peer_stats *now, const struct peer_stats *base, uint64_t *posts,
                  uint64_t *bytes)
{
    *posts += (now->posts_in - base->posts_in) + (now->posts_out - base->posts_out);
    *bytes += (now->bytes_in - base->bytes_in) + (now->bytes_out - base->bytes_out);
}

void sync_job_peer_done(struct sync *s, struct sync_sess *x, int err)
{
    struct sync_job *j = job_find(s, x->job);
    struct peer_stats now;

    x->job = 0;
    if (j == NULL || !j->running)
        return;
    peer_get_stats(x->p, &now);
    moved(&now, &x->job_base, &j->posts_done, &j->bytes_done);
    if (err != 0) {
        char addr[SYNC_NOTE_ID_MAX] = "";
        if (x->info != NULL)
            sync_address(x->info, addr, sizeof(addr));
        else if (x->link != NULL)
            snprintf(addr, sizeof(addr), "%s", x->link->device);
        job_error(j, addr, err);
        j->failed++;
    } else {
        j->done++;
    }
    job_settle(j);
}

void sync_job_dial_failed(struct sync *s, int64_t job, const char *address, int err)
{
    struct sync_job *j = job_find(s, job);

    if (j == NULL || !j->running)
        return;
    job_error(j, address, err);
    j->failed++;
    job_settle(j);
}

void sync_job_session_lost(struct sync *s, struct sync_sess *x)
{
    struct sync_job *j = job_find(s, x->job);
    struct peer_stats now;

    x->job = 0;
    if (j == NULL || !j->running)
        return;
    peer_get_stats(x->p, &now);
    moved(&now, &x->job_base, &j->posts_done, &j->bytes_done);
}

int sync_job_add(struct sync *s, int64_t job)
{
    struct sync_job *j = job_find(s, job);

    if (j == NULL || !j->running)
        return -KITH_ENOTFOUND;
    j->peers++;
    return 0;
}

void sync_job_attach(struct sync *s, struct sync_sess *x, int64_t job)
{
    (void)s;
    x->job = job;
    peer_get_stats(x->p, &x->job_base);
}

static void job_attach(struct sync_job *j, struct sync_sess *x)
{
    x->job = j->id;
    peer_get_stats(x->p, &x->job_base);
    j->peers++;
}

/* Bring one known peer into run j. */
static void job_add_peer(struct sync *s, struct sync_job *j, struct peer_info *e)
{
    struct sync_sess *x = e->has_key ? sync_find_key(s, e->node_key) : NULL;
    char addr[SYNC_NOTE_ID_MAX];
    int r;

    if (x != NULL) {
        if (peer_state(x->p) == PEER_LIVE && !peer_initiator(x->p)) {
            /* In sync and kept so by live pushes; only the initiator may
             * start a round. */
            j->peers++;
            j->done++;
            return;
        }
        if (peer_state(x->p) == PEER_LIVE)
            (void)peer_resync(x->p);
        job_attach(j, x);
        return;
    }
    if (e->dialing || (e->host[0] == '\0' && !e->has_addr))
        return;
    e->next_attempt_ms = 0; /* asked for now: no backoff */
    j->peers++;
    r = sync_dial(s, e, j->id);
    if (r < 0) {
        sync_address(e, addr, sizeof(addr));
        job_error(j, addr, r);
        j->failed++;
    }
}

int64_t sync_job_new(struct sync *s)
{
    int64_t id = s->next_job++;
    struct sync_job *j = &s->jobs[id % SYNC_JOBS_MAX];

    memset(j, 0, sizeof(*j));
    j->id = id;
    j->running = 1;
    return id;
}

int sync_job_answer(struct sync *s, int64_t id, json_t **out)
{
    struct sync_job *j = job_find(s, id);

    *out = NULL;
    if (j == NULL)
        return -KITH_ENOTFOUND;
    job_settle(j);
    *out = json_pack("{s:I,s:I}", "sync_id", (json_int_t)id, "peers", (json_int_t)j->peers);
    return *out != NULL ? 0 : -ENOMEM;
}

int sync_now(struct sync *s, const char *peer, json_t **out)
{
    struct sync_job *j;
    int64_t id;

    *out = NULL;
    if (peer != NULL) {
        char host[PEERS_HOST_MAX];
        uint16_t port;
        struct peer_info *e;
        int r = tcp_split_hostport(peer, host, sizeof(host), &port);

        if (r == 0 && port == 0)
            r = -KITH_EINVAL;
        if (r < 0)
            return -KITH_EINVAL;
        r = peers_add_configured(s->peers, host, port, &e);
        if (r < 0 && r != -EEXIST)
            return r;
        id = s->next_job++;
        j = &s->jobs[id % SYNC_JOBS_MAX];
        memset(j, 0, sizeof(*j));
        j->id = id;
        j->running = 1;
        job_add_peer(s, j, e);
    } else {
        id = s->next_job++;
        j = &s->jobs[id % SYNC_JOBS_MAX];
        memset(j, 0, sizeof(*j));
        j->id = id;
        j->running = 1;
        for (size_t i = 0; i < peers_count(s->peers); i++)
            job_add_peer(s, j, peers_at(s->peers, i));
        sync_links_job(s, id);
    }
    job_settle(j);
    *out = json_pack("{s:I,s:I}", "sync_id", (json_int_t)id, "peers", (json_int_t)j->peers);
    return *out != NULL ? 0 : -ENOMEM;
}

int sync_job_json(struct sync *s, int64_t id, json_t **out)
{
    struct sync_job *j = job_find(s, id);
    uint64_t to_go = 0, bytes_to_go = 0, posts_done, bytes_done;
    json_t *errors;
    const char *state;

    *out = NULL;
    if (j == NULL)
        return -KITH_ENOTFOUND;
    posts_done = j->posts_done;
    bytes_done = j->bytes_done;
    for (struct sync_sess *x = s->sessions; x != NULL; x = x->next) {
        struct peer_stats now;

        if (x->job != id)
            continue;
        peer_get_stats(x->p, &now);
        to_go += now.posts_to_go;
        bytes_to_go += now.posts_to_go * now.avg_post;
        moved(&now, &x->job_base, &posts_done, &bytes_done);
    }
    errors = json_array();
    if (errors == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < j->n_errors; i++) {
        if (json_array_append_new(
                errors, json_pack("{s:s?,s:s}", "address",
                                  j->errors[i].address[0] != '\0' ? j->errors[i].address : NULL,
                                  "error", kith_errname(j->errors[i].err))) < 0) {
            json_decref(errors);
            return -ENOMEM;
        }
    }
    state = j->running ? "running" : (j->peers > 0 && j->failed == j->peers ? "failed" : "done");
    *out =
        json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "sync_id", (json_int_t)id, "state",
                  state, "peers", (json_int_t)j->peers, "peers_done", (json_int_t)j->done,
                  "peers_failed", (json_int_t)j->failed, "posts_to_go", (json_int_t)to_go,
                  "bytes_to_go", (json_int_t)bytes_to_go, "posts_done", (json_int_t)posts_done,
                  "bytes_done", (json_int_t)bytes_done, "errors", errors);
    return *out != NULL ? 0 : -ENOMEM;
}

/* ---- peers and sets ---- */

static json_t *hex_or_null(const uint8_t *b, size_t n, int have)
{
    char hex[2 * 64 + 1];

    if (!have)
        return json_null();
    sodium_bin2hex(hex, sizeof(hex), b, n);
    return json_string(hex);
}

static const char *state_of(struct sync *s, const struct peer_info *e, struct sync_sess **sess)
{
    struct sync_sess *x = NULL;

    for (x = s->sessions; x != NULL; x = x->next) {
        if (x->info == e && peer_state(x->p) != PEER_CLOSING)
            break;
    }
    *sess = x;
    if (x != NULL) {
        switch (peer_state(x->p)) {
        case PEER_SYNCING:
            return "syncing";
        case PEER_LIVE:
            return "live";
        default:
            return "handshake";
        }
    }
    if (e->dialing)
        return "dialing";
    if (e->failures > 0 && e->next_attempt_ms != 0)
        return "backoff";
    return "idle";
}

static json_t *peer_json(struct sync *s, const struct peer_info *e)
{
    char addr[SYNC_NOTE_ID_MAX], nid[SYNC_NOTE_ID_MAX];
    struct sync_sess *x;
    struct sync_note *note;
    struct peer_stats extra;
    const char *state = state_of(s, e, &x);
    const char *source = (e->sources & PEER_CONFIGURED)   ? "config"
                         : (e->sources & PEER_DISCOVERED) ? "discovery"
                                                          : "inbound";

    memset(&extra, 0, sizeof(extra));
    if (x != NULL) {
        /* What the open session moved since it last reported. */
        struct peer_stats now;
        peer_get_stats(x->p, &now);
        extra.posts_in = now.posts_in - x->reported.posts_in;
        extra.posts_out = now.posts_out - x->reported.posts_out;
        extra.bytes_in = now.bytes_in - x->reported.bytes_in;
        extra.bytes_out = now.bytes_out - x->reported.bytes_out;
    }
    sync_address(e, addr, sizeof(addr));
    sync_note_id(e, nid);
    note = nid[0] != '\0' ? note_find(s, nid) : NULL;
    return json_pack(
        "{s:o,s:o,s:s,s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:o}", "node_key",
        hex_or_null(e->node_key, PEERS_KEY_BYTES, e->has_key), "address",
        addr[0] != '\0' ? json_string(addr) : json_null(), "source", source, "last_seen_ms",
        (json_int_t)e->last_seen_ms, "last_sync_ms", (json_int_t)e->last_sync_ms, "state", state,
        "posts_sent", (json_int_t)e->posts_out + (json_int_t)extra.posts_out, "posts_received",
        (json_int_t)e->posts_in + (json_int_t)extra.posts_in, "bytes_sent",
        (json_int_t)e->bytes_out + (json_int_t)extra.bytes_out, "bytes_received",
        (json_int_t)e->bytes_in + (json_int_t)extra.bytes_in, "last_error",
        note != NULL && note->err != 0 ? json_string(kith_errname(note->err)) : json_null());
}

int sync_peers_json(struct sync *s, json_t **out)
{
    json_t *list = json_array();
    const char *listen = s->tcp != NULL ? tcp_address(s->tcp) : "";

    *out = NULL;
    if (list == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < peers_count(s->peers); i++) {
        if (json_array_append_new(list, peer_json(s, peers_at(s->peers, i))) < 0) {
            json_decref(list);
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < s->n_links; i++) {
        if (json_array_append_new(list, sync_link_json(s, s->links[i])) < 0) {
            json_decref(list);
            return -ENOMEM;
        }
    }
    *out =
        json_pack("{s:o,s:o,s:o}", "node_key", hex_or_null(s->id->pk, PEERS_KEY_BYTES, 1), "listen",
                  listen[0] != '\0' ? json_string(listen) : json_null(), "peers", list);
    return *out != NULL ? 0 : -ENOMEM;
}

static json_t *sets_array(struct sync *s, int *err)
{
    json_t *sets;

    *err = sync_digests(s);
    if (*err < 0)
        return NULL;
    sets = json_array();
    for (size_t i = 0; sets != NULL && i < s->n_groups; i++) {
        char fp[2 * KITH_RECON_FP_BYTES + 1];

        sodium_bin2hex(fp, sizeof(fp), s->gstate[i].fp, sizeof(s->gstate[i].fp));
        if (json_array_append_new(
                sets, json_pack("{s:o,s:I,s:s}", "group_id",
                                hex_or_null(s->groups[i].id, KITH_GROUP_ID_BYTES, 1), "items",
                                (json_int_t)s->gstate[i].count, "digest", fp)) < 0) {
            json_decref(sets);
            sets = NULL;
        }
    }
    if (sets == NULL)
        *err = -ENOMEM;
    return sets;
}

int sync_sets_json(struct sync *s, json_t **out)
{
    int r;
    json_t *sets = sets_array(s, &r);

    *out = NULL;
    if (sets == NULL)
        return r;
    *out = json_pack("{s:o}", "sets", sets);
    return *out != NULL ? 0 : -ENOMEM;
}

int sync_status_add(struct sync *s, json_t *status)
{
    const char *listen = s->tcp != NULL ? tcp_address(s->tcp) : "";
    size_t connected = 0;
    int r;
    json_t *sets = sets_array(s, &r), *o;

    if (sets == NULL)
        return r;
    for (struct sync_sess *x = s->sessions; x != NULL; x = x->next) {
        if (peer_remote_key(x->p) != NULL && peer_state(x->p) != PEER_CLOSING)
            connected++;
    }
    o = json_pack("{s:o,s:o,s:I,s:o}", "node_key", hex_or_null(s->id->pk, PEERS_KEY_BYTES, 1),
                  "listen", listen[0] != '\0' ? json_string(listen) : json_null(),
                  "peers_connected", (json_int_t)connected, "sets", sets);
    if (o == NULL)
        return -ENOMEM;
    return json_object_set_new(status, "sync", o) == 0 ? 0 : -ENOMEM;
}
