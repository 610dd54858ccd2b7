/*
 * rogue_recon: the kith-rogue modes that reconcile (see kith_rogue.c):
 * truncate (reconcile an empty set, WANT everything, cut the transfer with a
 * reset) and endless (answer every RECON of a node that dialed us with "the
 * whole range differs"). Each owns the connections and buffers it makes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "kith/error.h"
#include "kith/msg.h"
#include "kith/post.h"
#include "kith/recon.h"
#include "kith/wire.h"
#include "rogue_conn.h"

struct needs {
    uint8_t *ids;
    size_t n, cap;
};

static int on_id(void *arg, int have, const uint8_t id[KITH_RECON_ID_BYTES])
{
    struct needs *nd = arg;

    if (have)
        return 0; /* our set is empty: cannot happen */
    if (nd->n == nd->cap) {
        size_t cap = nd->cap != 0 ? nd->cap * 2 : 256;
        uint8_t *v = realloc(nd->ids, cap * KITH_RECON_ID_BYTES);
        if (v == NULL)
            return -ENOMEM;
        nd->ids = v;
        nd->cap = cap;
    }
    memcpy(nd->ids + nd->n++ * KITH_RECON_ID_BYTES, id, KITH_RECON_ID_BYTES);
    return 0;
}

/* Reconcile an empty set against the node's (group gi in its PROOF list,
 * ours is index 0): every id comes back as a need. */
static int reconcile_all(struct conn *c, size_t gi, struct needs *nd)
{
    struct kith_recon_array set;
    struct kith_recon_storage st;
    struct kith_recon rc;
    size_t lim = c->node_max_msg < KITH_WIRE_PIECE_MAX ? c->node_max_msg : KITH_WIRE_PIECE_MAX;
    size_t len;
    struct kith_msg m;
    int64_t deadline = now_ms() + rogue_opt.timeout_ms;
    int r;

    kith_recon_array_init(&set);
    r = kith_recon_array_seal(&set);
    kith_recon_array_storage(&set, &st);
    if (r == 0)
        r = kith_recon_init(&rc, &st, lim - KITH_WIRE_RECON_HEAD, ROGUE_MAX_MSG);
    if (r < 0)
        return r;
    msgbuf[0] = KITH_MSG_RECON;
    msgbuf[1] = 0;
    r = kith_recon_initiate(&rc, msgbuf + 2, lim - 2, &len);
    while (r == 0) {
        r = send_bytes(c, msgbuf, 2 + len);
        if (r < 0 || len == 0)
            break;
        do {
            r = recv_msg(c, &m, deadline);
        } while (r == 1 && m.type != KITH_MSG_RECON);
        if (r <= 0) {
            r = r == 0 ? -EPIPE : r;
            break;
        }
        if (m.u.recon.group != gi) {
            r = -KITH_EPROTOCOL;
            break;
        }
        /* m's views point into the connection's buffers, msgbuf is free. */
        r = kith_recon_reconcile(&rc, m.u.recon.data, m.u.recon.len, on_id, nd, msgbuf + 2, lim - 2,
                                 &len);
    }
    kith_recon_free(&rc);
    kith_recon_array_free(&set);
    return r;
}

int mode_truncate(char *result, size_t cap)
{
    struct conn *c = conn_new();
    struct needs nd = {NULL, 0, 0};
    static uint8_t plain[KITH_POST_PLAIN_MAX];
    size_t gi, got = 0, bad = 0;
    struct kith_msg m;
    int64_t deadline;
    int r, rc = 1;

    if (c == NULL)
        return 2;
    if (session_start(c, NULL, NULL) != 0 || !node_has_group(c, &gi)) {
        snprintf(result, cap, "no session with the group");
        goto done;
    }
    r = reconcile_all(c, gi, &nd);
    if (r < 0) {
        snprintf(result, cap, "reconciliation failed: %s", kith_errname(r));
        goto done;
    }
    printf("reconciled: the node holds %zu posts we lack\n", nd.n);
    for (size_t i = 0; i < nd.n && r == 0; i += KITH_WIRE_WANT_MAX) {
        memset(&m, 0, sizeof(m));
        m.type = KITH_MSG_WANT;
        m.u.want.group = 0;
        m.u.want.ids = nd.ids + i * KITH_POST_ID_BYTES;
        m.u.want.count = nd.n - i < KITH_WIRE_WANT_MAX ? nd.n - i : KITH_WIRE_WANT_MAX;
        r = send_msg(c, &m);
    }
    deadline = now_ms() + rogue_opt.timeout_ms;
    while (r == 0 && got < rogue_opt.cut_after && got < nd.n) {
        const uint8_t *post;
        size_t off = 0, len;
        struct kith_post p;

        r = recv_msg(c, &m, deadline);
        if (r <= 0) {
            r = r == 0 ? -EPIPE : r;
            break;
        }
        r = 0;
        if (m.type == KITH_MSG_PUSH) {
            post = m.u.push.post;
            len = m.u.push.len;
            got++;
            if (kith_post_open(post, len, rogue_opt.inv.group_key, plain, sizeof(plain), &p) < 0 ||
                kith_post_verify(&p) < 0)
                bad++;
        } else if (m.type == KITH_MSG_POSTS) {
            while (kith_msg_posts_next(&m, &off, &post, &len) == 1) {
                got++;
                if (kith_post_open(post, len, rogue_opt.inv.group_key, plain, sizeof(plain), &p) <
                        0 ||
                    kith_post_verify(&p) < 0)
                    bad++;
            }
        }
    }
    if (r < 0) {
        snprintf(result, cap, "transfer failed after %zu posts: %s", got, kith_errname(r));
        goto done;
    }
    conn_reset(c);
    printf("cut the connection (reset) after receiving %zu of %zu posts\n", got, nd.n);
    conn_free(c);
    c = conn_new();
    if (c == NULL) {
        snprintf(result, cap, "cut after %zu of %zu posts; the node no longer accepts", got, nd.n);
        goto done;
    }
    r = session_start(c, NULL, NULL);
    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_BYE;
    (void)send_msg(c, &m);
    if (bad != 0)
        snprintf(result, cap, "%zu of the node's posts did not open or verify", bad);
    else if (got == 0 || got >= nd.n)
        snprintf(result, cap, "could not cut mid-transfer (%zu of %zu posts)", got, nd.n);
    else
        snprintf(result, cap, "cut mid-transfer; node still answers%s",
                 r == 0 ? "" : " NOT (no session after the cut)");
    rc = 0;
done:
    free(nd.ids);
    conn_free(c);
    return rc;
}

/* endless: listen, let the node dial us, and answer every RECON with "the
 * whole range differs" (one Fingerprint range to infinity, a random
 * fingerprint), so that the node's Negentropy never finishes. Report-only:
 * how many rounds the node ran before --timeout, or when it gave up. */
int mode_endless(char *result, size_t cap)
{
    struct sockaddr_in sa;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, r = 0, err = -1;
    struct conn *c;
    size_t rounds = 0, gi;
    struct kith_msg m;
    int64_t t0, deadline;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)atoi(rogue_opt.listen_port));
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0) {
        perror("kith-rogue: listen");
        if (lfd >= 0)
            close(lfd);
        return 2;
    }
    printf("listening 127.0.0.1:%s\n", rogue_opt.listen_port);
    c = conn_accept(lfd, now_ms() + rogue_opt.timeout_ms);
    close(lfd);
    if (c == NULL) {
        snprintf(result, cap, "the node never dialed");
        return 1;
    }
    if (session_start(c, NULL, NULL) != 0 || !node_has_group(c, &gi)) {
        snprintf(result, cap, "no session with the group");
        conn_free(c);
        return 1;
    }
    t0 = now_ms();
    deadline = t0 + rogue_opt.timeout_ms;
    for (;;) {
        uint8_t reply[22] = {KITH_MSG_RECON, 0,    KITH_RECON_VERSION,
                             0x00,           0x00, KITH_RECON_FINGERPRINT};

        r = recv_msg(c, &m, deadline);
        if (r <= 0)
            break;
        if (m.type == KITH_MSG_ERROR) {
            err = m.u.error.code;
        } else if (m.type == KITH_MSG_RECON && m.u.recon.len > 0) {
            randombytes_buf(reply + 6, KITH_RECON_FP_BYTES);
            rounds++;
            if (send_bytes(c, reply, sizeof(reply)) < 0)
                break;
        } else if (m.type == KITH_MSG_PING) {
            uint64_t nonce = m.u.ping.nonce;
            memset(&m, 0, sizeof(m));
            m.type = KITH_MSG_PONG;
            m.u.ping.nonce = nonce;
            (void)send_msg(c, &m);
        }
    }
    if (r == -ETIMEDOUT)
        snprintf(result, cap, "the node ran %zu reconciliation rounds in %lld ms and went on",
                 rounds, (long long)(now_ms() - t0));
    else
        snprintf(result, cap, "the node ended the session after %zu rounds (%lld ms)%s%s", rounds,
                 (long long)(now_ms() - t0), err >= 0 ? " with ERROR " : "",
                 err >= 0 ? kith_errname(-(KITH_ERRBASE + err)) : "");
    conn_free(c);
    return 0;
}
