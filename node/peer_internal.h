/*
 * peer_internal: what peer.c (the session: handshake, messages,
 * reconciliation) and peer_xfer.c (moving posts: the send queue, serving
 * WANTs, verifying and storing received posts) share. Not for other
 * modules: they use peer.h.
 */
#ifndef KITH_PEER_INTERNAL_H
#define KITH_PEER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kith/msg.h"
#include "kith/noise.h"
#include "kith/proof.h"
#include "kith/recon.h"
#include "kith/wire.h"
#include "peer.h"

#define PEER_NO_GROUP 0xff

/* One group of the session, in the order of our PROOF list. */
struct peer_grp {
    uint8_t id[KITH_GROUP_ID_BYTES];
    uint32_t epoch;
    uint8_t key[KITH_GROUP_KEY_BYTES]; /* secret: wiped when the session ends */
    uint8_t expect[KITH_PROOF_BYTES];  /* the proof the peer must send for it */
    int common;
};

/* The send queue: posts by id, or a small message, in order. */
enum peer_out_kind { OUT_POSTS = 1, OUT_PUSH, OUT_PING, OUT_PONG };

struct peer_out {
    struct peer_out *next;
    enum peer_out_kind kind;
    uint8_t group;      /* own group index (POSTS, PUSH) */
    uint8_t *ids;       /* n x 32 (POSTS, PUSH) */
    size_t n, cap, pos; /* ids; pos: the next to send */
    uint64_t nonce;     /* PING, PONG */
    int serve;          /* POSTS answering a WANT (counts against PEER_SERVE_MAX) */
};

struct peer_batch;

struct peer {
    const struct peer_env *env;
    struct transport *t;
    int initiator;
    enum peer_state state;
    void *data;

    /* Noise */
    struct kith_noise_handshake hs;
    struct kith_noise_cipher tx, rx;
    uint8_t hh[KITH_NOISE_HASHLEN];
    uint8_t remote[KITH_NOISE_DHLEN];
    int has_remote;

    /* Messages */
    struct kith_msg_reasm reasm;
    uint8_t *reasm_buf; /* PEER_MAX_MSG */
    uint8_t *msg_buf;   /* one outgoing message, PEER_BATCH_MAX */
    size_t send_max;    /* min(peer's max_msg, PEER_BATCH_MAX) */
    size_t batch_soft;  /* stop filling a POSTS past this (one post always fits) */
    size_t send_low;    /* refill the transport below this many queued bytes */
    uint32_t peer_max_msg;
    uint8_t frame[KITH_NOISE_MSG_MAX];    /* one Noise message going out */
    uint8_t rx_plain[KITH_NOISE_MSG_MAX]; /* one Noise plaintext come in */

    /* Groups: ours in PROOF order; the peer's index -> ours. */
    struct peer_grp *groups;
    size_t n_groups, n_common;
    uint8_t recv_map[KITH_WIRE_PROOF_MAX];

    /* Reconciliation. Initiator: cur is the group being reconciled (own
     * index) or -1; next the one to try after it. Responder: resp_group is
     * the group of the snapshot held, or -1. */
    int round; /* initiator: a round is running */
    int cur, next;
    int awaiting; /* initiator: a RECON is out, its answer is not in */
    struct kith_recon rc;
    struct kith_recon_array set;
    struct kith_recon_storage set_st;
    int resp_group;
    int resp_seen;  /* responder: a RECON came since the last round ended */
    uint8_t *needs; /* initiator: ids the last RECON said we lack, n x 32 */
    size_t needs_n, needs_cap;
    int resp_round_end; /* responder: the round's closing PING came */
    uint64_t barrier;   /* nonce of the PING that closes a round; 0 none */
    int barrier_passed;
    uint64_t round_needs, round_got;
    uint64_t group_rounds; /* initiator: RECON round trips of the current group */
    uint64_t group_ids;    /* initiator: ids (have or need) it named so far */

    /* Send queue */
    struct peer_out *out_head, *out_tail;
    size_t out_posts; /* ids queued and not yet sent */
    size_t serve_ids; /* of which answer WANTs */
    int pumping;

    /* Received batches, in arrival order */
    struct peer_batch *in_head, *in_tail;
    size_t in_batches;
    size_t work_pending; /* threadpool jobs not yet completed */
    int paused;

    /* Liveness */
    uint64_t last_rx_ms, ping_nonce, ping_sent_ms;

    /* Ending */
    int err;
    enum peer_fault fault;
    int ended; /* on_end called */

    struct peer_stats st;
    uint64_t moved_bytes, moved_posts;
};

/* ---- peer.c ---- */

/* Encrypt and send one whole message (split into pieces as needed).
 * Returns 0 or an error (the caller fails the session). */
int peer_send_msg(struct peer *p, const uint8_t *msg, size_t len);

/* Encode m into p->msg_buf and send it. */
int peer_send(struct peer *p, const struct kith_msg *m);

/* End the session for err: ERROR to the peer (unless the handshake is not
 * done, or the peer ended it), then close. fault as in enum peer_fault. */
void peer_fail(struct peer *p, int err, enum peer_fault fault);

/* Called whenever something a round waits for may have finished. */
void peer_check_round(struct peer *p);

/* Called after the transport closed and when threadpool work ends: frees p
 * once both are over. */
void peer_maybe_free(struct peer *p);

/* The own index of a common group id, or -1. */
int peer_group_index(const struct peer *p, const uint8_t gid[KITH_GROUP_ID_BYTES]);

/* ---- peer_recon.c ---- */

/* Free the recon snapshot and state. */
void peer_recon_end(struct peer *p);
/* Initiator: start a round over every common group. Returns 0 or an error
 * that ends the session. */
int peer_round_start(struct peer *p);
/* A RECON for own group g (data may be empty). Returns 0 or an error that
 * ends the session. */
int peer_recon_msg(struct peer *p, int g, const uint8_t *data, size_t len);

/* ---- peer_xfer.c ---- */

/* Append n ids of own group g to the send queue as POSTS (serve: they
 * answer a WANT). Returns 0 or -ENOMEM. */
int peer_out_ids(struct peer *p, uint8_t g, const uint8_t *ids, size_t n, int serve);
/* Append a PING / PONG / PUSH entry. Returns 0 or -ENOMEM. */
int peer_out_small(struct peer *p, enum peer_out_kind kind, uint64_t nonce);
int peer_out_push(struct peer *p, uint8_t g, const uint8_t id[KITH_POST_ID_BYTES]);
/* Send what the queue holds while the transport has room. */
void peer_pump(struct peer *p);
void peer_out_free(struct peer *p);

/* A POSTS or PUSH message from the peer: checked here, then verified on the
 * threadpool. Returns 0 or the error that ends the session. */
int peer_in_posts(struct peer *p, const struct kith_msg *m);
/* Forget batches (the session is ending); work still running completes. */
void peer_in_drop(struct peer *p);

/* Pause or resume the transport as the limits say. */
void peer_flow(struct peer *p);

#endif
