/*
 * rogue_conn: the connection half of kith-rogue (see rogue_conn.h). Blocking
 * sockets with poll() deadlines: the rogue talks to one node at a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "kith/error.h"
#include "kith/frame.h"
#include "rogue_conn.h"

struct rogue_opts rogue_opt;
uint8_t my_sk[KITH_NOISE_DHLEN];
uint8_t msgbuf[ROGUE_MAX_MSG];

int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void print_hex(const char *label, const uint8_t *b, size_t n)
{
    printf("%s ", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
}

/* ---- sockets ---- */

static int dial(struct conn *c)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct timeval tv = {10, 0};
    char addr[INET6_ADDRSTRLEN] = "?";
    int port = 0, r;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(rogue_opt.host, rogue_opt.port, &hints, &res);
    if (r != 0) {
        fprintf(stderr, "kith-rogue: %s: %s\n", rogue_opt.host, gai_strerror(r));
        return -ENXIO;
    }
    c->fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, res->ai_addr, res->ai_addrlen) < 0) {
        r = -errno;
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
        freeaddrinfo(res);
        fprintf(stderr, "kith-rogue: connect %s:%s: %s\n", rogue_opt.host, rogue_opt.port,
                strerror(-r));
        return r;
    }
    freeaddrinfo(res);
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
            port = ntohs(a->sin_port);
            printf("local %s:%d\n", addr, port);
        } else {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
            port = ntohs(a->sin6_port);
            printf("local [%s]:%d\n", addr, port);
        }
    }
    fflush(stdout);
    return 0;
}

struct conn *conn_new(void)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->fd = -1;
    c->reasm_buf = malloc(ROGUE_MAX_MSG);
    if (c->reasm_buf == NULL) {
        free(c);
        return NULL;
    }
    kith_msg_reasm_init(&c->reasm, c->reasm_buf, ROGUE_MAX_MSG);
    if (dial(c) < 0) {
        free(c->reasm_buf);
        free(c);
        return NULL;
    }
    return c;
}

struct conn *conn_accept(int lfd, int64_t deadline)
{
    struct pollfd p = {lfd, POLLIN, 0};
    int64_t left = deadline - now_ms();
    struct conn *c;

    if (left <= 0 || poll(&p, 1, (int)left) != 1)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->responder = 1;
    c->reasm_buf = malloc(ROGUE_MAX_MSG);
    c->fd = accept(lfd, NULL, NULL);
    if (c->reasm_buf == NULL || c->fd < 0) {
        if (c->fd >= 0)
            close(c->fd);
        free(c->reasm_buf);
        free(c);
        return NULL;
    }
    kith_msg_reasm_init(&c->reasm, c->reasm_buf, ROGUE_MAX_MSG);
    return c;
}

void conn_free(struct conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    kith_noise_handshake_wipe(&c->hs);
    kith_noise_cipher_wipe(&c->tx);
    kith_noise_cipher_wipe(&c->rx);
    for (size_t i = 0; i < c->n_rec; i++)
        free(c->rec[i]);
    free(c->reasm_buf);
    free(c);
}

/* Cut the connection with a reset, as a crash or a pulled cable would. */
void conn_reset(struct conn *c)
{
    struct linger l = {1, 0};

    (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(c->fd);
    c->fd = -1;
}

int send_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read exactly n bytes. Returns 0, CLOSED (end of stream or a reset),
 * -ETIMEDOUT or another -errno. */
static int read_exact(int fd, uint8_t *b, size_t n, int64_t deadline)
{
    while (n > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = deadline - now_ms();
        ssize_t got;

        if (left <= 0)
            return -ETIMEDOUT;
        if (poll(&p, 1, (int)left) == 0)
            return -ETIMEDOUT;
        got = recv(fd, b, n, 0);
        if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return CLOSED;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

int send_frame(struct conn *c, const uint8_t *p, size_t n)
{
    uint8_t hdr[KITH_FRAME_HEADER];
    int r = kith_frame_header(n, hdr);

    if (r < 0)
        return r;
    if (c->record && c->n_rec < REC_MAX) {
        c->rec[c->n_rec] = malloc(n);
        if (c->rec[c->n_rec] != NULL) {
            memcpy(c->rec[c->n_rec], p, n);
            c->rec_len[c->n_rec++] = n;
        }
    }
    r = send_all(c->fd, hdr, sizeof(hdr));
    return r < 0 ? r : send_all(c->fd, p, n);
}

/* One frame into c->in. Returns 0, CLOSED, -ETIMEDOUT, -KITH_EENCODING
 * (a zero length) or -errno. */
static int read_frame(struct conn *c, size_t *len, int64_t deadline)
{
    uint8_t hdr[KITH_FRAME_HEADER];
    int r = read_exact(c->fd, hdr, sizeof(hdr), deadline);

    if (r != 0)
        return r;
    *len = (size_t)hdr[0] << 8 | hdr[1];
    if (*len == 0)
        return -KITH_EENCODING;
    return read_exact(c->fd, c->in, *len, deadline);
}

/* ---- Noise and messages ---- */

/*
 * The initiator's side of XX. m1 / m3 (may be NULL): send these bytes as
 * message 1 / 3 instead of our own (replay); the handshake then cannot
 * complete here. Returns 0 (complete), 2 (replayed: sent, not complete),
 * CLOSED, or an error.
 */
int handshake(struct conn *c, const uint8_t *m1, size_t m1_len, const uint8_t *m3, size_t m3_len,
              int64_t deadline)
{
    uint8_t e[KITH_NOISE_DHLEN], payload[64];
    size_t n, plen;
    int r;

    randombytes_buf(e, sizeof(e));
    r = kith_noise_handshake_init_kith(&c->hs, 1, my_sk, e);
    sodium_memzero(e, sizeof(e));
    if (r == 0)
        r = kith_noise_handshake_write(&c->hs, NULL, 0, c->out, sizeof(c->out), &n);
    if (r == 0)
        r = m1 != NULL ? send_frame(c, m1, m1_len) : send_frame(c, c->out, n);
    if (r == 0)
        r = read_frame(c, &n, deadline);
    if (r != 0)
        return r == -EPIPE || r == -ECONNRESET ? CLOSED : r;
    if (m1 == NULL) {
        r = kith_noise_handshake_read(&c->hs, c->in, n, payload, sizeof(payload), &plen);
        if (r == 0 && plen != 0)
            r = -KITH_EPROTOCOL;
        if (r < 0) {
            printf("node's handshake message 2 is bad: %s\n", kith_errname(r));
            return r;
        }
    }
    if (m3 != NULL) {
        r = send_frame(c, m3, m3_len);
        return r == 0 ? 2 : CLOSED;
    }
    if (m1 != NULL)
        return -KITH_EINVAL;
    r = kith_noise_handshake_write(&c->hs, NULL, 0, c->out, sizeof(c->out), &n);
    if (r == 0)
        r = send_frame(c, c->out, n);
    if (r == 0)
        r = kith_noise_handshake_split(&c->hs, &c->tx, &c->rx);
    if (r == 0)
        r = kith_noise_handshake_hash(&c->hs, c->hh);
    return r;
}

int handshake_responder(struct conn *c, int64_t deadline)
{
    uint8_t e[KITH_NOISE_DHLEN], payload[64];
    size_t n = 0, plen = 0;
    int r;

    randombytes_buf(e, sizeof(e));
    r = kith_noise_handshake_init_kith(&c->hs, 0, my_sk, e);
    sodium_memzero(e, sizeof(e));
    if (r == 0)
        r = read_frame(c, &n, deadline);
    if (r == 0)
        r = kith_noise_handshake_read(&c->hs, c->in, n, payload, sizeof(payload), &plen);
    if (r == 0)
        r = kith_noise_handshake_write(&c->hs, NULL, 0, c->out, sizeof(c->out), &n);
    if (r == 0)
        r = send_frame(c, c->out, n);
    if (r == 0)
        r = read_frame(c, &n, deadline);
    if (r == 0)
        r = kith_noise_handshake_read(&c->hs, c->in, n, payload, sizeof(payload), &plen);
    if (r == 0)
        r = kith_noise_handshake_split(&c->hs, &c->tx, &c->rx);
    if (r == 0)
        r = kith_noise_handshake_hash(&c->hs, c->hh);
    return r;
}

/* Encrypt one Noise plaintext and send it as a frame. */
int send_plain(struct conn *c, const uint8_t *p, size_t n)
{
    size_t clen;
    int r = kith_noise_cipher_encrypt(&c->tx, NULL, 0, p, n, c->out, sizeof(c->out), &clen);

    return r < 0 ? r : send_frame(c, c->out, clen);
}

/* Send a whole message, in pieces when long. */
int send_bytes(struct conn *c, const uint8_t *msg, size_t len)
{
    size_t n = kith_msg_pieces(len);

    if (n == 0)
        return -KITH_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        size_t plen;
        int r = kith_msg_piece(msg, len, i, c->plain, sizeof(c->plain), &plen);

        if (r == 0)
            r = send_plain(c, c->plain, plen);
        if (r < 0)
            return r;
    }
    return 0;
}

int send_msg(struct conn *c, const struct kith_msg *m)
{
    size_t len;
    int r = kith_msg_encode(m, msgbuf, sizeof(msgbuf), &len);

    return r < 0 ? r : send_bytes(c, msgbuf, len);
}

/* Receive one whole message into *m (views valid until the next call).
 * Returns 1, 0 when the node closed, -ETIMEDOUT, or an error: the node sent
 * something that does not decrypt or decode. */
int recv_msg(struct conn *c, struct kith_msg *m, int64_t deadline)
{
    for (;;) {
        const uint8_t *msg = NULL;
        size_t n = 0, plen = 0, mlen = 0;
        int r = read_frame(c, &n, deadline);

        if (r == CLOSED)
            return 0;
        if (r == 0)
            r = kith_noise_cipher_decrypt(&c->rx, NULL, 0, c->in, n, c->plain, sizeof(c->plain),
                                          &plen);
        if (r == 0)
            r = kith_msg_reasm_feed(&c->reasm, c->plain, plen, &msg, &mlen);
        if (r < 0)
            return r;
        if (r == 0)
            continue;
        memset(m, 0, sizeof(*m));
        r = kith_msg_decode(msg, mlen, m);
        if (r < 0)
            return r;
        if (m->type == KITH_MSG_HELLO) {
            c->got_hello = 1;
            c->node_max_msg = m->u.hello.max_msg;
        } else if (m->type == KITH_MSG_PROOF) {
            c->got_proof = 1;
            c->n_node_proofs = m->u.proof.count;
            memcpy(c->node_proofs, m->u.proof.proofs, m->u.proof.count * KITH_PROOF_BYTES);
        }
        return 1;
    }
}

/* HELLO, then PROOF: the invite's group if we have one, else two random
 * values (what a node in groups the peer does not hold sends). */
int send_hello_proof(struct conn *c, uint8_t *proof_msg, size_t *proof_len)
{
    uint8_t proofs[2 * KITH_PROOF_BYTES];
    struct kith_msg m;
    int r;

    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_HELLO;
    m.u.hello.version = KITH_WIRE_VERSION;
    m.u.hello.max_msg = ROGUE_MAX_MSG;
    m.u.hello.software = "kith-rogue";
    m.u.hello.software_len = strlen("kith-rogue");
    r = send_msg(c, &m);
    if (r < 0)
        return r;
    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_PROOF;
    m.u.proof.proofs = proofs;
    if (rogue_opt.has_invite) {
        kith_proof_make(rogue_opt.inv.group_key, rogue_opt.inv.epoch, c->hh,
                        c->responder ? KITH_PROOF_RESPONDER : KITH_PROOF_INITIATOR, proofs);
        m.u.proof.count = 1;
    } else {
        randombytes_buf(proofs, sizeof(proofs));
        m.u.proof.count = 2;
    }
    if (proof_msg != NULL) {
        r = kith_msg_encode(&m, proof_msg, 1 + 1 + sizeof(proofs), proof_len);
        if (r < 0)
            return r;
    }
    return send_msg(c, &m);
}

/* Wait for the node's HELLO and PROOF. Returns 0, or an outcome-worthy
 * error (CLOSED, -ETIMEDOUT, a decode error). */
static int wait_intro(struct conn *c, int64_t deadline)
{
    struct kith_msg m;

    while (!c->got_hello || !c->got_proof) {
        int r = recv_msg(c, &m, deadline);
        if (r <= 0)
            return r == 0 ? CLOSED : r;
    }
    return 0;
}

/* Did the node prove the invite's group? Sets *index to its position in
 * the node's PROOF list. */
int node_has_group(const struct conn *c, size_t *index)
{
    uint8_t want[KITH_PROOF_BYTES];

    kith_proof_make(rogue_opt.inv.group_key, rogue_opt.inv.epoch, c->hh,
                    c->responder ? KITH_PROOF_INITIATOR : KITH_PROOF_RESPONDER, want);
    return kith_proof_find(c->node_proofs, c->n_node_proofs, want, index) == 0;
}

/* A full honest start: handshake, HELLO, PROOF, the node's HELLO and PROOF. */
int session_start(struct conn *c, uint8_t *proof_msg, size_t *proof_len)
{
    int64_t deadline = now_ms() + rogue_opt.timeout_ms;
    int r =
        c->responder ? handshake_responder(c, deadline) : handshake(c, NULL, 0, NULL, 0, deadline);

    if (r == 0)
        r = send_hello_proof(c, proof_msg, proof_len);
    if (r == 0)
        r = wait_intro(c, deadline);
    if (r != 0)
        printf("could not start a session: %s\n", r == CLOSED ? "closed" : kith_errname(r));
    return r;
}

/* ---- what the node did ---- */

void observe(struct conn *c, struct outcome *o)
{
    int64_t deadline = now_ms() + rogue_opt.timeout_ms;
    struct kith_msg m;

    memset(o, 0, sizeof(*o));
    o->error = o->bye = -1;
    for (;;) {
        int r = recv_msg(c, &m, deadline);

        if (r == 0) {
            o->closed = 1;
            return;
        }
        if (r == -ETIMEDOUT) {
            o->timeout = 1;
            return;
        }
        if (r < 0) {
            o->bad = r;
            return;
        }
        o->messages++;
        if (m.type == KITH_MSG_ERROR)
            o->error = m.u.error.code;
        else if (m.type == KITH_MSG_BYE)
            o->bye = m.u.bye.reason;
    }
}

/* Before the handshake completes nothing can be decrypted: count bytes. */
void observe_raw(struct conn *c, struct outcome *o)
{
    int64_t deadline = now_ms() + rogue_opt.timeout_ms;
    uint8_t b[4096];

    memset(o, 0, sizeof(*o));
    o->error = o->bye = -1;
    for (;;) {
        struct pollfd p = {c->fd, POLLIN, 0};
        int64_t left = deadline - now_ms();
        ssize_t got;

        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            o->timeout = 1;
            return;
        }
        got = recv(c->fd, b, sizeof(b), 0);
        if (got <= 0) {
            o->closed = 1;
            return;
        }
        o->bytes += (size_t)got;
    }
}

static const char *bye_name(int reason)
{
    static const char *const names[] = {"done", "shutdown", "version", "no-groups", "busy", "idle"};

    return reason >= 0 && reason <= KITH_BYE_IDLE ? names[reason] : "other";
}

void describe(const struct outcome *o, int handshake_stage, char *out, size_t cap)
{
    char what[128] = "";

    if (o->bad != 0) {
        snprintf(out, cap, "node sent a frame that does not decrypt or decode (%s)",
                 kith_errname(o->bad));
        return;
    }
    if (o->error >= 0)
        snprintf(what, sizeof(what), "ERROR %s", kith_errname(-(KITH_ERRBASE + o->error)));
    else if (o->bye >= 0)
        snprintf(what, sizeof(what), "BYE %d (%s)", o->bye, bye_name(o->bye));
    if (o->timeout)
        snprintf(out, cap, "still open after %d ms%s%s", rogue_opt.timeout_ms,
                 what[0] ? " after " : "", what);
    else if (handshake_stage)
        snprintf(out, cap, "closed during the handshake");
    else if (what[0] != '\0')
        snprintf(out, cap, "closed after %s", what);
    else
        snprintf(out, cap, "closed without a word");
}
