/*
 * peer_recon: the reconciliation rounds of a sync session (see peer.h):
 * the initiator walks its common groups in PROOF order, runs Negentropy
 * over a snapshot of each group's sync set (reconset.c), turns "need" ids
 * into WANTs and "have" ids into POSTS entries of the send queue, and ends
 * the round with the barrier PING; the responder answers each RECON against
 * a snapshot of the group it names. Owns the snapshot and the Negentropy
 * state in struct peer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "log.h"
#include "peer_internal.h"
#include "reconset.h"

#define KEYFMT "%02x%02x%02x%02x"
#define KEY4(k) (k)[0], (k)[1], (k)[2], (k)[3]

/* The frame size limit of our Negentropy messages: a RECON must fit the
 * peer's max_msg and, to stay one Noise message, a piece. On a serial line
 * the smallest the protocol allows: the reconciliation then goes in more,
 * smaller steps, and posts start to flow after the first of them instead
 * of after tens of KB of id lists (which noise may cut off every time). */
static size_t recon_frame_limit(const struct peer *p)
{
    size_t lim = p->peer_max_msg < KITH_WIRE_PIECE_MAX ? p->peer_max_msg : KITH_WIRE_PIECE_MAX;

    if (p->t != NULL && serial_is_transport(p->t) &&
        lim > KITH_RECON_FRAME_MIN + KITH_WIRE_RECON_HEAD)
        lim = KITH_RECON_FRAME_MIN + KITH_WIRE_RECON_HEAD;
    return lim - KITH_WIRE_RECON_HEAD;
}

void peer_recon_end(struct peer *p)
{
    kith_recon_free(&p->rc);
    kith_recon_array_free(&p->set);
    kith_recon_array_init(&p->set);
}

/* Snapshot own group g's sync set and set up p->rc over it. */
static int recon_begin(struct peer *p, int g)
{
    struct store_txn *txn;
    int r;

    peer_recon_end(p);
    r = store_read_begin(p->env->st, &txn);
    if (r < 0)
        return r;
    r = reconset_build(txn, p->groups[g].id, &p->set);
    store_txn_end(txn);
    if (r < 0)
        return r;
    kith_recon_array_storage(&p->set, &p->set_st);
    return kith_recon_init_policy(&p->rc, &p->set_st, recon_frame_limit(p),
                                  PEER_MAX_MSG - KITH_WIRE_RECON_HEAD, KITH_RECON_POLICY_ADAPTIVE);
}

/* ---- reconciliation ---- */

static int send_recon(struct peer *p, int g, size_t data_len)
{
    p->msg_buf[0] = KITH_MSG_RECON;
    p->msg_buf[1] = (uint8_t)g;
    p->st.recon_bytes_out += KITH_WIRE_RECON_HEAD + data_len;
    return peer_send_msg(p, p->msg_buf, KITH_WIRE_RECON_HEAD + data_len);
}

/* Initiator: reconcile the next common group, or close the round with the
 * barrier PING when none is left. */
static int round_next(struct peer *p)
{
    size_t olen;
    int r;

    while ((size_t)p->next < p->n_groups && !p->groups[p->next].common)
        p->next++;
    if ((size_t)p->next >= p->n_groups) {
        p->cur = -1;
        do {
            randombytes_buf(&p->barrier, sizeof(p->barrier));
        } while (p->barrier == 0);
        p->barrier_passed = 0;
        return peer_out_small(p, OUT_PING, p->barrier);
    }
    p->cur = p->next++;
    r = recon_begin(p, p->cur);
    if (r == 0)
        r = kith_recon_initiate(&p->rc, p->msg_buf + KITH_WIRE_RECON_HEAD,
                                PEER_BATCH_MAX - KITH_WIRE_RECON_HEAD, &olen);
    if (r == 0)
        r = send_recon(p, p->cur, olen);
    if (r == 0) {
        p->awaiting = 1;
        p->st.round_trips++;
        p->group_rounds = 1;
        p->group_ids = 0;
    }
    return r;
}

int peer_round_start(struct peer *p)
{
    p->round = 1;
    p->state = PEER_SYNCING;
    p->next = 0;
    p->round_needs = p->round_got = 0;
    return round_next(p);
}

static int on_id(void *arg, int have, const uint8_t id[KITH_RECON_ID_BYTES])
{
    struct peer *p = arg;

    p->group_ids++;
    if (have)
        return peer_out_ids(p, (uint8_t)p->cur, id, 1, 0);
    if (p->needs_n == p->needs_cap) {
        size_t cap = p->needs_cap != 0 ? p->needs_cap * 2 : 256;
        uint8_t *v = realloc(p->needs, cap * KITH_POST_ID_BYTES);
        if (v == NULL)
            return -ENOMEM;
        p->needs = v;
        p->needs_cap = cap;
    }
    memcpy(p->needs + p->needs_n++ * KITH_POST_ID_BYTES, id, KITH_POST_ID_BYTES);
    return 0;
}

static int send_wants(struct peer *p, int g)
{
    struct kith_msg m;

    for (size_t off = 0; off < p->needs_n; off += KITH_WIRE_WANT_MAX) {
        size_t n = p->needs_n - off < KITH_WIRE_WANT_MAX ? p->needs_n - off : KITH_WIRE_WANT_MAX;
        int r;

        memset(&m, 0, sizeof(m));
        m.type = KITH_MSG_WANT;
        m.u.want.group = (uint8_t)g;
        m.u.want.ids = p->needs + off * KITH_POST_ID_BYTES;
        m.u.want.count = n;
        r = peer_send(p, &m);
        if (r < 0)
            return r;
    }
    p->round_needs += p->needs_n;
    p->needs_n = 0;
    return 0;
}

static int recon_initiator(struct peer *p, int g, const uint8_t *data, size_t len)
{
    size_t olen;
    int r;

    if (!p->awaiting || g != p->cur || len == 0)
        return -KITH_EPROTOCOL;
    p->awaiting = 0;
    r = kith_recon_reconcile(&p->rc, data, len, on_id, p, p->msg_buf + KITH_WIRE_RECON_HEAD,
                             recon_frame_limit(p), &olen);
    if (r < 0)
        return r;
    r = send_recon(p, g, olen);
    if (r == 0)
        r = send_wants(p, g);
    if (r < 0)
        return r;
    if (olen == 0) {
        log_debug("peer.reconciled", "peer=" KEYFMT " group=" KEYFMT " rounds=%llu",
                  KEY4(p->remote), KEY4(p->groups[g].id), (unsigned long long)p->st.round_trips);
        peer_recon_end(p);
        return round_next(p);
    }
    /* An honest peer needs about log16(n) rounds; one that keeps saying
     * "everything differs" would hold the session (and a sync slot) forever. */
    if (++p->group_rounds > PEER_RECON_ROUNDS_MAX + p->group_ids / PEER_RECON_IDS_PER_ROUND)
        return -KITH_EPROTOCOL;
    p->awaiting = 1;
    p->st.round_trips++;
    return 0;
}

static int recon_responder(struct peer *p, int g, const uint8_t *data, size_t len)
{
    size_t olen;
    int r;

    if (len == 0) {
        if (g != p->resp_group)
            return -KITH_EPROTOCOL;
        peer_recon_end(p);
        p->resp_group = -1;
        return 0;
    }
    if (g != p->resp_group) {
        r = recon_begin(p, g);
        if (r < 0)
            return r;
        p->resp_group = g;
    }
    p->resp_seen = 1;
    r = kith_recon_reconcile(&p->rc, data, len, NULL, NULL, p->msg_buf + KITH_WIRE_RECON_HEAD,
                             recon_frame_limit(p), &olen);
    return r < 0 ? r : send_recon(p, g, olen);
}

void peer_check_round(struct peer *p)
{
    int done;

    if (p->state != PEER_SYNCING && p->state != PEER_LIVE)
        return;
    if (p->initiator)
        done =
            p->round && p->cur < 0 && p->barrier_passed && p->in_head == NULL && p->out_posts == 0;
    else
        done = p->resp_round_end && p->in_head == NULL;
    if (!done)
        return;
    p->round = 0;
    p->barrier_passed = 0;
    p->resp_round_end = p->resp_seen = 0;
    p->state = PEER_LIVE;
    log_info("peer.synced", "peer=" KEYFMT " groups=%zu posts_in=%llu posts_out=%llu rounds=%llu",
             KEY4(p->remote), p->n_common, (unsigned long long)p->st.posts_in,
             (unsigned long long)p->st.posts_out, (unsigned long long)p->st.round_trips);
    if (p->env->on_synced != NULL)
        p->env->on_synced(p, p->env->arg);
}

int peer_recon_msg(struct peer *p, int g, const uint8_t *data, size_t len)
{
    return p->initiator ? recon_initiator(p, g, data, len) : recon_responder(p, g, data, len);
}
