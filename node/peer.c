/*
 * peer: one sync session (see peer.h): the Noise handshake, the message
 * layer (pieces, decoding, the order rules), HELLO and PROOF, and the
 * reconciliation rounds. Moving posts is in peer_xfer.c.
 *
 * A session owns its struct peer, the Noise states, its buffers, the copy
 * of the group keys it proves with (wiped when it is freed), the recon
 * snapshot of the group being reconciled, and its queues. It borrows the
 * transport until on_close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "log.h"
#include "peer_internal.h"

#define KEYFMT "%02x%02x%02x%02x"
#define KEY4(k) (k)[0], (k)[1], (k)[2], (k)[3]

static const uint8_t zero_key[KITH_NOISE_DHLEN];

static const uint8_t *log_key(const struct peer *p)
{
    return p->has_remote ? p->remote : zero_key;
}

/* ---- small things ---- */

int peer_group_index(const struct peer *p, const uint8_t gid[KITH_GROUP_ID_BYTES])
{
    for (size_t i = 0; i < p->n_groups; i++) {
        if (p->groups[i].common && memcmp(p->groups[i].id, gid, KITH_GROUP_ID_BYTES) == 0)
            return (int)i;
    }
    return -1;
}

/* ---- sending ---- */

int peer_send_msg(struct peer *p, const uint8_t *msg, size_t len)
{
    size_t n = kith_msg_pieces(len);

    if (p->t == NULL || p->state == PEER_CLOSING)
        return -EPIPE;
    if (n == 0)
        return -KITH_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        size_t plen = 0, clen = 0;
        int r = kith_msg_piece(msg, len, i, p->frame, KITH_WIRE_PIECE_MAX, &plen);

        if (r == 0)
            r = kith_noise_cipher_encrypt(&p->tx, NULL, 0, p->frame, plen, p->frame,
                                          sizeof(p->frame), &clen);
        if (r == -KITH_EINVAL)
            r = -KITH_ENONCE;
        if (r == 0)
            r = transport_send(p->t, p->frame, clen);
        if (r < 0)
            return r;
        p->st.bytes_out += clen + KITH_FRAME_HEADER;
    }
    return 0;
}

int peer_send(struct peer *p, const struct kith_msg *m)
{
    size_t len = 0;
    int r = kith_msg_encode(m, p->msg_buf, PEER_BATCH_MAX, &len);

    return r < 0 ? r : peer_send_msg(p, p->msg_buf, len);
}

static void close_now(struct peer *p)
{
    if (p->state == PEER_CLOSING)
        return;
    p->state = PEER_CLOSING;
    if (p->t != NULL)
        transport_close(p->t);
}

void peer_fail(struct peer *p, int err, enum peer_fault fault)
{
    struct kith_msg m;
    const char *name = kith_errname(err);

    if (p->state == PEER_CLOSING)
        return;
    if (p->err == 0) {
        p->err = err;
        p->fault = fault;
    }
    log_warn("peer.error", "peer=" KEYFMT " via=%s error=%s", KEY4(log_key(p)),
             p->t != NULL ? p->t->name : "", name);
    /* The handshake's failures are not explained (PROTOCOL.md, Noise). */
    if (p->state != PEER_HANDSHAKE) {
        memset(&m, 0, sizeof(m));
        m.type = KITH_MSG_ERROR;
        m.u.error.code = (err <= -KITH_ERRBASE && err > -KITH_ERRMAX)
                             ? (uint16_t)(-err - KITH_ERRBASE)
                             : (uint16_t)(KITH_EINVAL - KITH_ERRBASE);
        m.u.error.reason = name;
        m.u.error.reason_len = strlen(name) < KITH_WIRE_REASON_MAX ? strlen(name) : 0;
        (void)peer_send(p, &m);
    }
    close_now(p);
}

void peer_stop(struct peer *p, int reason)
{
    struct kith_msg m;

    if (p->state == PEER_CLOSING)
        return;
    if (p->state != PEER_HANDSHAKE) {
        memset(&m, 0, sizeof(m));
        m.type = KITH_MSG_BYE;
        m.u.bye.reason = (uint8_t)reason;
        (void)peer_send(p, &m);
    }
    log_info("peer.bye", "peer=" KEYFMT " via=%s reason=%d sent=1", KEY4(log_key(p)),
             p->t != NULL ? p->t->name : "", reason);
    close_now(p);
}

/* ---- ending ---- */

void peer_maybe_free(struct peer *p)
{
    if (p->t != NULL || p->work_pending > 0)
        return;
    if (!p->ended) {
        p->ended = 1;
        p->env->on_end(p, p->err, p->fault, p->env->arg);
    }
    peer_in_drop(p);
    peer_out_free(p);
    peer_recon_end(p);
    kith_noise_handshake_wipe(&p->hs);
    kith_noise_cipher_wipe(&p->tx);
    kith_noise_cipher_wipe(&p->rx);
    if (p->groups != NULL)
        sodium_memzero(p->groups, p->n_groups * sizeof(*p->groups));
    free(p->groups);
    free(p->needs);
    free(p->reasm_buf);
    free(p->msg_buf);
    sodium_memzero(p->rx_plain, sizeof(p->rx_plain));
    free(p);
}

static void on_close(struct transport *t, int reason)
{
    struct peer *p = t->data;

    p->t = NULL;
    if (p->state != PEER_CLOSING && p->err == 0 && reason != 0) {
        p->err = reason;
        p->fault = (reason == -KITH_EENCODING || reason == -KITH_ETOOBIG) ? PEER_FAULT_SEVERE
                                                                          : PEER_FAULT_LINK;
    }
    p->state = PEER_CLOSING;
    log_info("peer.closed", "peer=" KEYFMT " via=%s error=%s posts_in=%llu posts_out=%llu",
             KEY4(log_key(p)), t->name, p->err != 0 ? kith_errname(p->err) : "none",
             (unsigned long long)p->st.posts_in, (unsigned long long)p->st.posts_out);
    peer_in_drop(p);
    peer_out_free(p);
    peer_maybe_free(p);
}

static void on_drain(struct transport *t)
{
    peer_pump(t->data);
}

/* ---- handshake ---- */

static int hs_write(struct peer *p)
{
    size_t n;
    int r = kith_noise_handshake_write(&p->hs, NULL, 0, p->frame, sizeof(p->frame), &n);

    if (r == 0)
        r = transport_send(p->t, p->frame, n);
    if (r == 0)
        p->st.bytes_out += n + KITH_FRAME_HEADER;
    return r;
}

static int send_hello_proof(struct peer *p)
{
    uint8_t proofs[KITH_WIRE_PROOF_MAX * KITH_PROOF_BYTES];
    int me = p->initiator ? KITH_PROOF_INITIATOR : KITH_PROOF_RESPONDER;
    struct kith_msg m;
    int r;

    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_HELLO;
    m.u.hello.version = KITH_WIRE_VERSION;
    m.u.hello.max_msg = PEER_MAX_MSG;
    m.u.hello.software = PEER_SOFTWARE;
    m.u.hello.software_len = strlen(PEER_SOFTWARE);
    r = peer_send(p, &m);
    if (r < 0)
        return r;
    for (size_t i = 0; i < p->n_groups; i++) {
        struct peer_grp *g = &p->groups[i];

        r = kith_proof_make(g->key, g->epoch, p->hh, me, proofs + i * KITH_PROOF_BYTES);
        if (r == 0)
            r = kith_proof_make(g->key, g->epoch, p->hh, !me, g->expect);
        if (r < 0)
            return r;
    }
    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_PROOF;
    m.u.proof.proofs = proofs;
    m.u.proof.count = p->n_groups;
    return peer_send(p, &m);
}

static int groups_copy(struct peer *p)
{
    const struct peer_env *env = p->env;
    size_t n = env->n_groups < KITH_WIRE_PROOF_MAX ? env->n_groups : KITH_WIRE_PROOF_MAX;

    p->groups = calloc(n != 0 ? n : 1, sizeof(*p->groups));
    if (p->groups == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(p->groups[i].id, env->groups[i].id, KITH_GROUP_ID_BYTES);
        memcpy(p->groups[i].key, env->groups[i].key, KITH_GROUP_KEY_BYTES);
        p->groups[i].epoch = env->groups[i].epoch;
    }
    p->n_groups = n;
    return 0;
}

static void hs_done(struct peer *p)
{
    int r = kith_noise_handshake_split(&p->hs, &p->tx, &p->rx);

    if (r == 0)
        r = kith_noise_handshake_hash(&p->hs, p->hh);
    if (r == 0)
        r = kith_noise_handshake_remote_static(&p->hs, p->remote);
    kith_noise_handshake_wipe(&p->hs);
    if (r < 0) {
        peer_fail(p, r, PEER_FAULT_SEVERE);
        return;
    }
    p->has_remote = 1;
    p->state = PEER_HELLO;
    transport_ready(p->t);
    log_info("peer.handshake", "peer=" KEYFMT " via=%s role=%s", KEY4(p->remote), p->t->name,
             p->initiator ? "initiator" : "responder");
    r = groups_copy(p);
    if (r == 0)
        r = send_hello_proof(p);
    if (r < 0) {
        peer_fail(p, r, PEER_FAULT_LINK);
        return;
    }
    if (p->env->on_handshake != NULL) {
        int reason = p->env->on_handshake(p, p->env->arg);
        if (reason > 0)
            peer_stop(p, reason);
    }
}

static void hs_read(struct peer *p, const uint8_t *frame, size_t len)
{
    uint8_t payload[16];
    size_t plen = 0;
    int r = kith_noise_handshake_read(&p->hs, frame, len, payload, sizeof(payload), &plen);

    if (r == 0 && plen != 0)
        r = -KITH_EPROTOCOL; /* payloads are empty in version 1 */
    if (r == 0 && kith_noise_handshake_action(&p->hs) == KITH_NOISE_WRITE)
        r = hs_write(p);
    if (r < 0) {
        peer_fail(p, r, PEER_FAULT_SEVERE);
        return;
    }
    if (kith_noise_handshake_action(&p->hs) == KITH_NOISE_SPLIT)
        hs_done(p);
}

/* ---- receiving ---- */

static int on_proof(struct peer *p, const struct kith_msg *m)
{
    /* kith_proof_find wants the expected proofs side by side. */
    uint8_t *expected = malloc(p->n_groups * KITH_PROOF_BYTES + 1);

    if (expected == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < p->n_groups; k++)
        memcpy(expected + k * KITH_PROOF_BYTES, p->groups[k].expect, KITH_PROOF_BYTES);
    for (size_t j = 0; j < m->u.proof.count; j++) {
        size_t i;

        if (kith_proof_find(expected, p->n_groups, m->u.proof.proofs + j * KITH_PROOF_BYTES, &i) ==
            0) {
            p->recv_map[j] = (uint8_t)i;
            if (!p->groups[i].common)
                p->n_common++;
            p->groups[i].common = 1;
        }
    }
    free(expected);
    log_info("peer.groups", "peer=" KEYFMT " offered=%zu common=%zu", KEY4(p->remote),
             m->u.proof.count, p->n_common);
    if (p->n_common == 0) {
        p->err = -KITH_ENOTMEMBER;
        p->fault = PEER_FAULT_LINK;
        peer_stop(p, KITH_BYE_NO_GROUPS);
        return 0;
    }
    p->state = PEER_SYNCING;
    return p->initiator ? peer_round_start(p) : 0;
}

static void on_end_msg(struct peer *p, const struct kith_msg *m)
{
    if (m->type == KITH_MSG_BYE) {
        log_info("peer.bye", "peer=" KEYFMT " reason=%u sent=0", KEY4(log_key(p)), m->u.bye.reason);
        if (m->u.bye.reason == KITH_BYE_NO_GROUPS) {
            p->err = -KITH_ENOTMEMBER;
            p->fault = PEER_FAULT_LINK;
        } else if (m->u.bye.reason == KITH_BYE_BUSY || m->u.bye.reason == KITH_BYE_VERSION) {
            p->err = m->u.bye.reason == KITH_BYE_BUSY ? -EBUSY : -KITH_EVERSION;
            p->fault = PEER_FAULT_LINK;
        }
    } else {
        uint16_t code = m->u.error.code;
        log_warn("peer.error_received", "peer=" KEYFMT " code=%u", KEY4(log_key(p)), code);
        p->err = code < KITH_ERRMAX - KITH_ERRBASE ? -(KITH_ERRBASE + code) : -KITH_EPROTOCOL;
        p->fault = PEER_FAULT_LINK;
    }
    close_now(p);
}

static int on_ping(struct peer *p, const struct kith_msg *m)
{
    int r = peer_out_small(p, OUT_PONG, m->u.ping.nonce);

    /* A PING after the initiator's "done"s closes its round: everything it
     * pushed came before it. */
    if (r == 0 && !p->initiator && p->resp_seen && p->resp_group < 0)
        p->resp_round_end = 1;
    peer_pump(p);
    peer_check_round(p);
    return r;
}

static int on_msg(struct peer *p, const struct kith_msg *m)
{
    int g;

    if (m->type == KITH_MSG_BYE || m->type == KITH_MSG_ERROR) {
        on_end_msg(p, m);
        return 0;
    }
    switch (p->state) {
    case PEER_HELLO:
        if (m->type != KITH_MSG_HELLO)
            return -KITH_EPROTOCOL;
        p->peer_max_msg = m->u.hello.max_msg;
        p->send_max = m->u.hello.max_msg < PEER_BATCH_MAX ? m->u.hello.max_msg : PEER_BATCH_MAX;
        p->batch_soft = p->send_max;
        if (serial_is_transport(p->t) && p->batch_soft > PEER_SERIAL_BATCH)
            p->batch_soft = PEER_SERIAL_BATCH;
        p->state = PEER_PROOF;
        return 0;
    case PEER_PROOF:
        return m->type == KITH_MSG_PROOF ? on_proof(p, m) : -KITH_EPROTOCOL;
    default:
        break;
    }
    switch (m->type) {
    case KITH_MSG_PING:
        return on_ping(p, m);
    case KITH_MSG_PONG:
        if (p->barrier != 0 && m->u.ping.nonce == p->barrier) {
            p->barrier = 0;
            p->barrier_passed = 1;
            peer_check_round(p);
        } else if (m->u.ping.nonce == p->ping_nonce) {
            p->ping_nonce = 0;
        }
        return 0;
    case KITH_MSG_RECON:
        g = p->recv_map[m->u.recon.group];
        if (g == PEER_NO_GROUP)
            return -KITH_EPROTOCOL;
        p->st.recon_bytes_in += KITH_WIRE_RECON_HEAD + m->u.recon.len;
        return peer_recon_msg(p, g, m->u.recon.data, m->u.recon.len);
    case KITH_MSG_WANT:
        g = p->recv_map[m->u.want.group];
        if (g == PEER_NO_GROUP)
            return -KITH_EPROTOCOL;
        return peer_out_ids(p, (uint8_t)g, m->u.want.ids, m->u.want.count, 1);
    case KITH_MSG_POSTS:
    case KITH_MSG_PUSH:
        return peer_in_posts(p, m);
    default:
        return -KITH_EPROTOCOL; /* HELLO or PROOF again */
    }
}

/* Which errors are the peer's doing (bytes it sent), not ours. */
static enum peer_fault fault_of(int err)
{
    return (err == -ENOMEM || err == -KITH_ENOSPC || err == -KITH_ESTORE || err == -EPIPE ||
            err == -ENOBUFS || err == -KITH_ENONCE)
               ? PEER_FAULT_LINK
               : PEER_FAULT_SEVERE;
}

static void on_frame(struct transport *t, const uint8_t *frame, size_t len)
{
    struct peer *p = t->data;
    const uint8_t *msg = NULL;
    size_t plen = 0, mlen = 0;
    struct kith_msg m;
    int r;

    p->last_rx_ms = uv_now(p->env->loop);
    p->st.bytes_in += len + KITH_FRAME_HEADER;
    if (p->state == PEER_CLOSING)
        return;
    if (p->state == PEER_HANDSHAKE) {
        hs_read(p, frame, len);
        return;
    }
    r = kith_noise_cipher_decrypt(&p->rx, NULL, 0, frame, len, p->rx_plain, sizeof(p->rx_plain),
                                  &plen);
    if (r == -KITH_EINVAL)
        r = -KITH_ENONCE;
    if (r == 0)
        r = kith_msg_reasm_feed(&p->reasm, p->rx_plain, plen, &msg, &mlen);
    if (r <= 0) {
        if (r < 0)
            peer_fail(p, r, fault_of(r));
        return;
    }
    memset(&m, 0, sizeof(m));
    r = kith_msg_decode(msg, mlen, &m);
    if (r == -KITH_EVERSION && m.type == KITH_MSG_HELLO && p->state == PEER_HELLO) {
        p->err = -KITH_EVERSION;
        p->fault = PEER_FAULT_LINK;
        peer_stop(p, KITH_BYE_VERSION);
        return;
    }
    if (r == 0) {
        r = on_msg(p, &m);
        if (r == -KITH_EPROTOCOL)
            log_debug("peer.unexpected",
                      "peer=" KEYFMT " type=%u state=%d initiator=%d awaiting=%d cur=%d round=%d"
                      " group_rounds=%llu group_ids=%llu",
                      KEY4(log_key(p)), (unsigned)m.type, (int)p->state, p->initiator, p->awaiting,
                      p->cur, p->round, (unsigned long long)p->group_rounds,
                      (unsigned long long)p->group_ids);
    }
    if (r < 0)
        peer_fail(p, r, fault_of(r));
    else
        peer_pump(p);
}

/* ---- public ---- */

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

int peer_start(const struct peer_env *env, struct transport *t, int initiator, struct peer **out)
{
    uint8_t e[KITH_NOISE_DHLEN];
    struct peer *p = calloc(1, sizeof(*p));
    int r = -ENOMEM;

    *out = NULL;
    if (p != NULL) {
        p->reasm_buf = malloc(PEER_MAX_MSG);
        p->msg_buf = malloc(PEER_BATCH_MAX);
    }
    if (p == NULL || p->reasm_buf == NULL || p->msg_buf == NULL)
        goto fail;
    p->env = env;
    p->t = t;
    p->initiator = initiator != 0;
    p->send_low = serial_is_transport(t) ? PEER_SERIAL_SEND_LOW : PEER_SEND_LOW;
    p->state = PEER_HANDSHAKE;
    p->cur = p->resp_group = -1;
    memset(p->recv_map, PEER_NO_GROUP, sizeof(p->recv_map));
    kith_recon_array_init(&p->set);
    kith_msg_reasm_init(&p->reasm, p->reasm_buf, PEER_MAX_MSG);
    p->last_rx_ms = uv_now(env->loop);
    randombytes_buf(e, sizeof(e));
    r = kith_noise_handshake_init_kith(&p->hs, p->initiator, env->id->sk, e);
    sodium_memzero(e, sizeof(e));
    if (r < 0)
        goto fail;
    t->data = p;
    t->on_frame = on_frame;
    t->on_close = on_close;
    t->on_drain = on_drain;
    if (p->initiator) {
        r = hs_write(p);
        if (r < 0) {
            /* on_close reports it. */
            peer_fail(p, r, PEER_FAULT_LINK);
        }
    }
    *out = p;
    return 0;
fail:
    if (p != NULL) {
        free(p->reasm_buf);
        free(p->msg_buf);
        kith_noise_handshake_wipe(&p->hs);
        free(p);
    }
    t->on_frame = orphan_frame;
    t->on_close = orphan_close;
    transport_close(t);
    return r;
}

int peer_push(struct peer *p, const uint8_t gid[KITH_GROUP_ID_BYTES],
              const uint8_t id[KITH_POST_ID_BYTES])
{
    int g;

    if (p->state != PEER_SYNCING && p->state != PEER_LIVE)
        return -ENOENT;
    g = peer_group_index(p, gid);
    if (g < 0)
        return -ENOENT;
    if (peer_out_push(p, (uint8_t)g, id) < 0)
        return -ENOMEM;
    peer_pump(p);
    return 0;
}

int peer_resync(struct peer *p)
{
    int r;

    if (!p->initiator || (p->state != PEER_SYNCING && p->state != PEER_LIVE))
        return -EAGAIN;
    if (p->round)
        return -EALREADY;
    r = peer_round_start(p);
    if (r < 0)
        peer_fail(p, r, fault_of(r));
    else
        peer_pump(p);
    return r;
}

void peer_tick(struct peer *p)
{
    uint64_t now = uv_now(p->env->loop);
    uint32_t ping = p->env->ping_ms != 0 ? p->env->ping_ms : PEER_PING_DEFAULT_MS;

    if (p->state != PEER_SYNCING && p->state != PEER_LIVE)
        return;
    if (p->ping_nonce == 0 && now - p->last_rx_ms >= ping) {
        do {
            randombytes_buf(&p->ping_nonce, sizeof(p->ping_nonce));
        } while (p->ping_nonce == 0);
        p->ping_sent_ms = now;
        if (peer_out_small(p, OUT_PING, p->ping_nonce) < 0) {
            peer_fail(p, -ENOMEM, PEER_FAULT_LINK);
            return;
        }
        peer_pump(p);
    }
}

enum peer_state peer_state(const struct peer *p)
{
    return p->state;
}

int peer_initiator(const struct peer *p)
{
    return p->initiator;
}

const uint8_t *peer_remote_key(const struct peer *p)
{
    return p->has_remote ? p->remote : NULL;
}

const char *peer_name(const struct peer *p)
{
    return p->t != NULL ? p->t->name : "";
}

struct transport *peer_transport(const struct peer *p)
{
    return p->t;
}

int peer_has_group(const struct peer *p, const uint8_t gid[KITH_GROUP_ID_BYTES])
{
    return peer_group_index(p, gid) >= 0;
}

size_t peer_common_groups(const struct peer *p)
{
    return p->n_common;
}

void peer_get_stats(const struct peer *p, struct peer_stats *out)
{
    uint64_t pending_in = p->round_needs > p->round_got ? p->round_needs - p->round_got : 0;

    *out = p->st;
    out->posts_to_go = p->out_posts + pending_in;
    out->avg_post = p->moved_posts != 0 ? p->moved_bytes / p->moved_posts : 0;
}

void peer_set_data(struct peer *p, void *data)
{
    p->data = data;
}

void *peer_data(const struct peer *p)
{
    return p->data;
}
