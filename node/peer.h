/*
 * peer: one sync session with another node over one transport
 * (proto/PROTOCOL.md, "Session protocol (sync)"): the Noise XX handshake,
 * HELLO and PROOF, Negentropy reconciliation of every common group (run by
 * the Noise initiator), WANT and POSTS to move what each side lacks, live
 * PUSH of new posts, PING/PONG, BYE and ERROR.
 *
 * Received posts are opened and verified on the libuv threadpool (a batch
 * is cut into parts so every core works; each part carries its own copy of
 * the group keys, wiped after) and stored on the loop thread, one
 * transaction per batch (service_accept_batch). A post that does not open or
 * verify, or anything malformed or out of order, ends the session with
 * ERROR; the manager (sync.c) backs the peer off.
 *
 * Flow control: posts to send wait in a queue of ids (not bytes) and go out
 * only while the transport has less than PEER_SEND_LOW queued (on a serial
 * line PEER_SERIAL_SEND_LOW, in batches of about PEER_SERIAL_BATCH); received
 * batches waiting for verification or storage are capped at
 * PEER_BATCHES_MAX and the transport is paused at the cap; WANTs waiting to
 * be served are capped at PEER_SERVE_MAX ids the same way.
 *
 * A session is owned by whoever started it (sync.c). It frees itself after
 * env->on_end has been called: when the transport has closed and no work is
 * left on the threadpool. Everything runs on the loop thread.
 */
#ifndef KITH_PEER_H
#define KITH_PEER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "identity.h"
#include "kith/post.h"
#include "serial.h"
#include "service.h"
#include "store.h"
#include "transport.h"

#define PEER_MAX_MSG ((size_t)512 * 1024) /* our HELLO max_msg */
/* RECON round trips allowed per group and round: PEER_RECON_ROUNDS_MAX
 * (frame limits can add a few to the log16(n) an honest exchange needs)
 * plus one for every PEER_RECON_IDS_PER_ROUND ids the exchange has named.
 * A first sync of a big set lists its ids a frame at a time (a 4 KiB serial
 * frame holds about 120), so it needs many rounds but names ids in each;
 * a peer that only ever answers "everything differs" names none. */
#define PEER_RECON_ROUNDS_MAX 64
#define PEER_RECON_IDS_PER_ROUND 16
#define PEER_BATCH_MAX                                                                             \
    ((size_t)256 * 1024)                   /* largest POSTS we build (less if the peer says so)    \
                                            */
#define PEER_SEND_LOW ((size_t)512 * 1024) /* refill the transport below this many queued bytes */
#define PEER_BATCHES_MAX 4                 /* received batches in flight before pausing */
#define PEER_PARTS_MAX 4                   /* threadpool jobs one batch is cut into */
#define PEER_SERVE_MAX 32768               /* ids asked for and not yet sent, before pausing */
#define PEER_PING_DEFAULT_MS 30000         /* PING after this long without a frame */
/* On a serial line (serial_is_transport): batches of about this many bytes
 * (a frame lost to noise costs the session, and what a batch held), and a
 * refill mark low enough that a PING, WANT or RECON queued behind posts
 * waits about a second at 115200 baud, not 45. Measured with
 * kith_serial_sync_bench (2,000 posts of 500 bytes, 115200 baud): 4096
 * keeps a clean line over 0.9 busy with posts; 1024 loses less to noise
 * (1e-4 byte errors: 0.67 of the line against 0.52) but, with one store
 * transaction per batch, cannot keep up with a clean line (0.74). */
#ifndef PEER_SERIAL_BATCH
#define PEER_SERIAL_BATCH SERIAL_BATCH_HINT
#endif
#define PEER_SERIAL_SEND_LOW ((size_t)16 * 1024)
#define PEER_SOFTWARE "kithd " KITH_VERSION

/* A group this node holds, as sync.c lists them for sessions. */
struct peer_group {
    uint8_t id[KITH_GROUP_ID_BYTES];
    uint32_t epoch;
    uint8_t key[KITH_GROUP_KEY_BYTES]; /* secret */
};

enum peer_state {
    PEER_HANDSHAKE = 1, /* Noise XX */
    PEER_HELLO,         /* waiting for the peer's HELLO */
    PEER_PROOF,         /* waiting for the peer's PROOF */
    PEER_SYNCING,       /* reconciling or moving posts */
    PEER_LIVE,          /* in sync: pushing new posts */
    PEER_CLOSING,       /* the transport is closing */
};

/* How bad the end of a session was, for backoff. */
enum peer_fault {
    PEER_FAULT_NONE = 0,   /* BYE, or we stopped it */
    PEER_FAULT_LINK = 1,   /* hang-up, timeout, ERROR from the peer, local failure */
    PEER_FAULT_SEVERE = 2, /* the peer sent something malformed, forged or out of order */
};

struct peer;

struct peer_env {
    uv_loop_t *loop;
    struct service *svc;
    struct store *st;
    const struct identity *id;
    /* Groups to offer: read when a handshake completes (so it may change
     * between sessions); at most KITH_WIRE_PROOF_MAX are used. */
    const struct peer_group *groups;
    size_t n_groups;
    uint32_t ping_ms; /* 0 = PEER_PING_DEFAULT_MS */
    /* The handshake passed (peer_remote_key is known). Return 0 to go on,
     * or a BYE reason (> 0) to end the session. Optional. */
    int (*on_handshake)(struct peer *p, void *arg);
    /* A sync round finished: reconciled, the barrier passed, nothing left to
     * send or store. Optional. */
    void (*on_synced)(struct peer *p, void *arg);
    /* The session is over (err 0 or why; fault as above). p is freed when
     * this returns. Required. */
    void (*on_end)(struct peer *p, int err, enum peer_fault fault, void *arg);
    void *arg;
};

/* Counters of one session. */
struct peer_stats {
    uint64_t posts_in, posts_out; /* posts stored from the peer / sent to it */
    uint64_t bytes_in, bytes_out; /* frame bytes, headers included */
    uint64_t round_trips;         /* RECON exchanges (initiator) */
    uint64_t recon_bytes_out, recon_bytes_in;
    uint64_t posts_to_go; /* to send, plus asked for and not yet here */
    uint64_t avg_post;    /* average size of posts moved, bytes */
};

/*
 * Start a session on t (which the caller just got from the medium): sets
 * t's callbacks and, for an initiator, sends the first handshake message.
 * env must outlive the session. Returns 0, or -ENOMEM / a send error: then
 * t has been closed, no callback fires and *out is NULL.
 */
int peer_start(const struct peer_env *env, struct transport *t, int initiator, struct peer **out);

/* End the session with BYE reason (enum kith_bye_reason); on_end follows
 * from the loop. Safe to call more than once. */
void peer_stop(struct peer *p, int reason);

/*
 * A post was stored here (group gid): push it to the peer if the group is
 * common and the session is past its proofs. Queued by id, so the post is
 * read from the store when its turn comes. Returns 0, or -ENOENT when the
 * group is not common or the session is not there yet (nothing queued).
 */
int peer_push(struct peer *p, const uint8_t gid[KITH_GROUP_ID_BYTES],
              const uint8_t id[KITH_POST_ID_BYTES]);

/* Run another reconciliation of every common group now (initiator only;
 * a responder, or a session still busy, answers -EAGAIN / -EALREADY).
 * on_synced fires when it is over. */
int peer_resync(struct peer *p);

/* Call about once a second: sends PING when the line has been quiet. */
void peer_tick(struct peer *p);

enum peer_state peer_state(const struct peer *p);
int peer_initiator(const struct peer *p);
/* The peer's node key once the handshake passed, else NULL. */
const uint8_t *peer_remote_key(const struct peer *p);
/* The transport's name for logs ("" once it closed). */
const char *peer_name(const struct peer *p);
/* The transport, while open (NULL after it closed). */
struct transport *peer_transport(const struct peer *p);
/* 1 if gid is a group both sides proved. */
int peer_has_group(const struct peer *p, const uint8_t gid[KITH_GROUP_ID_BYTES]);
size_t peer_common_groups(const struct peer *p);
void peer_get_stats(const struct peer *p, struct peer_stats *out);

/* The owner's pointer. */
void peer_set_data(struct peer *p, void *data);
void *peer_data(const struct peer *p);

#endif
