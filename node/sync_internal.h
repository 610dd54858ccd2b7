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
#include "serial.h"
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

struct sync_link;

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
    struct sync_link *link;     /* the serial link it runs on, NULL for TCP */
};

/* A serial device the sync keeps a link on (sync_serial.c). */
struct sync_link {
    struct sync *s;
    struct serial_link *l; /* NULL once stopped (a one-off link after its run) */
    char device[SERIAL_PATH_MAX];
    uint32_t baud;
    int oneoff;            /* started by a `sync` request: stopped when its run ends */
    int64_t job;           /* the `sync` run waiting for a sync over this link, 0 none */
    uint64_t job_ms;       /* when that run attached (uv_now) */
    uint32_t job_sessions; /* sessions started since it attached */
    struct sync_sess *x;   /* the session on the link, NULL between sessions */
    uint8_t node_key[PEERS_KEY_BYTES]; /* the far node, once a handshake passed */
    int has_key;
    int last_err;                                      /* what ended the last session, 0 none */
    uint64_t last_seen_ms, last_sync_ms;               /* wall clock, 0 never */
    uint64_t posts_in, posts_out, bytes_in, bytes_out; /* finished sessions */
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

    struct sync_link *links[SYNC_LINKS_MAX];
    size_t n_links;
};

/* ---- sync.c ---- */

/* Dial e now (a configured or discovered peer), attaching job (0 none).
 * Returns 0 or a dial error. */
int sync_dial(struct sync *s, struct peer_info *e, int64_t job);

/* The session talking to node key, or NULL. */
struct sync_sess *sync_find_key(struct sync *s, const uint8_t key[PEERS_KEY_BYTES]);

/* Refresh dirty set digests. Returns 0 or a store error. */
int sync_digests(struct sync *s);

/* Run a session on t (just handed over by a medium); *out (may be NULL)
 * gets it. Returns 0 or -ENOMEM / a peer_start error (t is then closed). */
int sync_sess_start(struct sync *s, struct transport *t, int initiator, struct peer_info *info,
                    int64_t job, struct sync_sess **out);

/* Close a transport no session took. */
void sync_refuse(struct transport *t);

/* Wall clock, ms since 1970. */
uint64_t sync_wall_ms(void);

/* ---- sync_serial.c ---- */

/* Start a link on each configured device. Returns 0, -KITH_EINVAL or
 * -ENOMEM; on error the links started are left for sync_links_free. */
int sync_links_start(struct sync *s);
/* Stop every link (the sync is stopping). */
void sync_links_stop(struct sync *s);
/* The groups changed: links that wait between sessions try again now. */
void sync_links_kick(struct sync *s);
/* Free the link records (the sync is freed: no session is left). */
void sync_links_free(struct sync *s);
/* Once a second: runs that wait too long fail, one-off links whose run
 * ended stop. */
void sync_links_tick(struct sync *s);
/* Session events of a session on a link (x->link != NULL). */
void sync_link_handshake(struct sync *s, struct sync_sess *x, const uint8_t *key);
void sync_link_synced(struct sync *s, struct sync_sess *x);
void sync_link_ended(struct sync *s, struct sync_sess *x, int err, enum peer_fault fault);
/* Bring every link into run j (a `sync` without a peer). */
void sync_links_job(struct sync *s, int64_t job);
/* The peers-list entry of a link. NULL on -ENOMEM. */
json_t *sync_link_json(struct sync *s, const struct sync_link *k);

/* ---- sync_ctl.c ---- */

/* The note id of a peer: "c:HOST:PORT" for configured ones, else the hex
 * key (or "" when neither). */
void sync_note_id(const struct peer_info *e, char out[SYNC_NOTE_ID_MAX]);
void sync_note_set(struct sync *s, const struct peer_info *e, int err);

/* A session of job ended (ok or failed with err) or finished its round. */
void sync_job_peer_done(struct sync *s, struct sync_sess *x, int err);
/* A dial for job failed before any session (or a serial link gave up:
 * address is then the device). */
void sync_job_dial_failed(struct sync *s, int64_t job, const char *address, int err);
/* A session of x->job ended early but the run goes on (a serial link
 * starts another): keep what it moved, detach it. */
void sync_job_session_lost(struct sync *s, struct sync_sess *x);
/* Run j covers one more peer (a serial link); returns 0 or -KITH_ENOTFOUND
 * when j is not running. */
int sync_job_add(struct sync *s, int64_t job);
/* Attach x to run job (its stats from now count), without counting a peer. */
void sync_job_attach(struct sync *s, struct sync_sess *x, int64_t job);
/* Start a new run; returns its id (never fails: the oldest slot is reused). */
int64_t sync_job_new(struct sync *s);
/* The {"sync_id", "peers"} answer for run id. Returns 0 or -ENOMEM. */
int sync_job_answer(struct sync *s, int64_t id, json_t **out);

/* "HOST:PORT" of e, or "" when it has no address. */
void sync_address(const struct peer_info *e, char *out, size_t cap);

#endif
