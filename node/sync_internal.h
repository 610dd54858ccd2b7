/*
 * sync_internal: what sync.c (sessions, dialing, discovery, beacons) and
 * sync_ctl.c (the control commands and `sync` runs) share. Not for other
 * modules: they use sync.h.
 */
#ifndef KITH_SYNC_INTERNAL_H
#define KITH_SYNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "discovery.h"
#include "kith/recon.h"
#include "peer.h"
#include "peers.h"
#include "sync.h"
#include "tcp.h"

#define SYNC_NOTES_MAX PEERS_MAX
#define SYNC_NOTE_ID_MAX (PEERS_HOST_MAX + 16)

/* A group this node holds, with its set digest (recomputed when dirty). */
struct sync_group {
    uint64_t count;
    uint8_t fp[KITH_RECON_FP_BYTES];
    int dirty;
};

/* One open session. */
struct sync_sess {
    struct sync_sess *next;
    struct sync *s;
    struct peer *p;
    struct peer_info *info;     /* NULL until known (inbound before the handshake) */
    int counted;                /* peers_connected / peers_inbound was called */
    int64_t job;                /* the `sync` run waiting for this session, 0 none */
    struct peer_stats reported; /* already passed to peers_synced */
    struct peer_stats job_base; /* stats when the job attached */
};

/* A `sync` run. */
struct sync_job {
    int64_t id; /* 0: free slot */
    int running;
    size_t peers, done, failed;
    uint64_t posts_done, bytes_done; /* of sessions already finished */
    size_t n_errors;
    struct {
        char address[SYNC_NOTE_ID_MAX];
        int err;
    } errors[SYNC_JOB_ERRORS_MAX];
};

/* The last error of a peer, keyed by its note id (see sync_note_id). */
struct sync_note {
    char id[SYNC_NOTE_ID_MAX];
    int err;
};

struct sync {
    uv_loop_t *loop;
    struct service *svc;
    struct store *st;
    const struct vault *v;
    const struct identity *id;
    struct sync_config cfg;
    struct tcp *tcp;
    struct discovery *disc;
    struct peers *peers;
    uv_timer_t tick;
    int stopping, tick_closed;
    size_t dials; /* dial callbacks still to come */

    struct peer_env env;
    struct peer_group *groups; /* keys: wiped when replaced or freed */
    struct sync_group *gstate;
    size_t n_groups;
    int beacon_dirty;
    uint64_t beacon_window;

    struct sync_sess *sessions;
    size_t n_sessions;

    struct sync_job jobs[SYNC_JOBS_MAX];
    int64_t next_job;
    struct sync_note notes[SYNC_NOTES_MAX];
    size_t n_notes;
};

/* ---- sync.c ---- */

/* Dial e now (a configured or discovered peer), attaching job (0 none).
 * Returns 0 or a dial error. */
int sync_dial(struct sync *s, struct peer_info *e, int64_t job);

/* The session talking to node key, or NULL. */
struct sync_sess *sync_find_key(struct sync *s, const uint8_t key[PEERS_KEY_BYTES]);

/* Refresh dirty set digests. Returns 0 or a store error. */
int sync_digests(struct sync *s);

/* ---- sync_ctl.c ---- */

/* The note id of a peer: "c:HOST:PORT" for configured ones, else the hex
 * key (or "" when neither). */
void sync_note_id(const struct peer_info *e, char out[SYNC_NOTE_ID_MAX]);
void sync_note_set(struct sync *s, const struct peer_info *e, int err);

/* A session of job ended (ok or failed with err) or finished its round. */
void sync_job_peer_done(struct sync *s, struct sync_sess *x, int err);
/* A dial for job failed before any session. */
void sync_job_dial_failed(struct sync *s, int64_t job, const char *address, int err);

/* "HOST:PORT" of e, or "" when it has no address. */
void sync_address(const struct peer_info *e, char *out, size_t cap);

#endif
