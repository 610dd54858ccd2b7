/*
 * tcp: the LAN transport of tcp.h. It owns the listener handle, one
 * struct tcp_conn per connection (a uv_tcp_t, a timer for the handshake,
 * idle and linger deadlines, a "kick" timer that resumes delivery after a
 * pause, the frame decoder and the read buffer) and the pending name
 * resolutions.
 *
 * A connection's states: CONNECTING (dial in flight) -> OPEN -> CLOSING
 * (transport_close with output still queued: a shutdown flushes it, bounded
 * by TCP_LINGER_MS) -> CLOSED (uv_close called on every handle). When the last
 * handle's close callback has run, finish() reports the end (on_close, or the
 * dial callback with the error) and frees the connection; when tcp_stop has
 * been called and nothing is left, the struct tcp is freed too.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "kith/error.h"
#include "log.h"
#include "tcp.h"

#define READ_BUF (64 * 1024)
#define BACKLOG 64

enum conn_state { CONNECTING, OPEN, CLOSING, CLOSED };

struct tcp_conn {
    struct transport t; /* first: a transport pointer is a conn pointer */
    struct tcp *tcp;
    uv_tcp_t sock;
    uv_timer_t timer;
    uv_timer_t kick;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    tcp_dial_cb dial_cb; /* set until the dial is reported */
    void *dial_arg;
    struct sockaddr_storage peer;
    size_t queued;
    int open_handles;
    enum conn_state state;
    int ready, paused, handed_over;
    int reason, reason_set;
    size_t pend_off, pend_len; /* undelivered bytes in rbuf (pause inside on_frame) */
    struct tcp_conn *prev, *next;
    struct kith_frame_decoder dec;
    uint8_t rbuf[READ_BUF];
};

struct tcp_resolve {
    uv_getaddrinfo_t req;
    struct tcp *tcp;
    tcp_dial_cb cb;
    void *arg;
    uint16_t port;
    struct tcp_resolve *prev, *next;
};

struct tcp {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int listening, listener_open, stopping;
    struct tcp_config cfg;
    uint16_t port;
    char address[TCP_ADDR_STR_MAX];
    struct tcp_conn *conns;
    size_t count;
    struct tcp_resolve *resolving;
};

struct wreq {
    uv_write_t req;
    struct tcp_conn *conn;
    size_t len;
    uint8_t data[];
};

static const struct transport_ops tcp_ops;

static void maybe_free(struct tcp *tcp)
{
    if (tcp->stopping && !tcp->listener_open && tcp->conns == NULL && tcp->resolving == NULL)
        free(tcp);
}

/* ---- Addresses ---- */

int tcp_format_address(const struct sockaddr *addr, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 1] = "";
    int n;

    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;

        inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
        n = snprintf(buf, len, "%s:%u", ip, ntohs(a4->sin_port));
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;

        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
            inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], ip, sizeof(ip));
            n = snprintf(buf, len, "%s:%u", ip, ntohs(a6->sin6_port));
        } else {
            char ifname[IF_NAMESIZE];

            inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
            if (a6->sin6_scope_id != 0) {
                if (if_indextoname(a6->sin6_scope_id, ifname) != NULL)
                    snprintf(scope, sizeof(scope), "%%%s", ifname);
                else
                    snprintf(scope, sizeof(scope), "%%%u", (unsigned)a6->sin6_scope_id);
            }
            n = snprintf(buf, len, "[%s%s]:%u", ip, scope, ntohs(a6->sin6_port));
        }
    } else {
        return -KITH_EINVAL;
    }
    return n < 0 || (size_t)n >= len ? -KITH_EBUFSIZE : 0;
}

int tcp_split_hostport(const char *s, char *host, size_t hostcap, uint16_t *port)
{
    const char *h, *hend, *p;
    unsigned long v = 0;
    size_t n;

    if (s[0] == '[') {
        h = s + 1;
        hend = strchr(h, ']');
        if (hend == NULL || hend[1] != ':')
            return -KITH_EINVAL;
        p = hend + 2;
    } else {
        h = s;
        hend = strchr(s, ':');
        if (hend == NULL || strchr(hend + 1, ':') != NULL)
            return -KITH_EINVAL;
        p = hend + 1;
    }
    n = (size_t)(hend - h);
    if (n == 0 || n >= hostcap || *p == '\0' || strlen(p) > 5)
        return -KITH_EINVAL;
    for (const char *c = h; c < hend; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '[' || *c == ']')
            return -KITH_EINVAL;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -KITH_EINVAL;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535)
        return -KITH_EINVAL;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (uint16_t)v;
    return 0;
}

/* ---- Closing ---- */

static void finish(struct tcp_conn *c)
{
    struct tcp *tcp = c->tcp;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        tcp->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    tcp->count--;
    if (c->handed_over) {
        if (c->t.on_close != NULL)
            c->t.on_close(&c->t, c->reason);
    } else if (c->dial_cb != NULL) {
        c->dial_cb(tcp, NULL, c->reason < 0 ? c->reason : -ECANCELED, c->dial_arg);
    }
    free(c);
    maybe_free(tcp);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct tcp_conn *c = h->data;

    if (--c->open_handles == 0)
        finish(c);
}

static void set_reason(struct tcp_conn *c, int reason)
{
    if (!c->reason_set) {
        c->reason = reason;
        c->reason_set = 1;
    }
}

static void do_close(struct tcp_conn *c, int reason)
{
    set_reason(c, reason);
    if (c->state == CLOSED)
        return;
    c->state = CLOSED;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->kick, on_handle_closed);
    uv_close((uv_handle_t *)&c->sock, on_handle_closed);
}

static void on_timer(uv_timer_t *timer)
{
    struct tcp_conn *c = timer->data;

    if (c->state == CLOSING) {
        do_close(c, 0); /* linger over: drop what is still queued */
        return;
    }
    if (c->ready)
        log_info("sync.idle_timeout", "peer=%s", c->t.name);
    else
        log_info("sync.handshake_timeout", "peer=%s", c->t.name);
    do_close(c, -ETIMEDOUT);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct tcp_conn *c = req->data;

    do_close(c, 0);
}

static void conn_close(struct transport *t)
{
    struct tcp_conn *c = (struct tcp_conn *)t;

    if (c->state != OPEN)
        return;
    set_reason(c, 0);
    uv_read_stop((uv_stream_t *)&c->sock);
    uv_timer_stop(&c->kick);
    if (c->queued == 0) {
        do_close(c, 0);
        return;
    }
    /* Let the queued frames (a goodbye, an error) go out first. */
    c->state = CLOSING;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->sock, on_shutdown) < 0) {
        do_close(c, 0);
        return;
    }
    uv_timer_start(&c->timer, on_timer, TCP_LINGER_MS, 0);
}

/* ---- Reading ---- */

static void arm_idle(struct tcp_conn *c)
{
    if (c->ready && !c->paused && c->state == OPEN)
        uv_timer_start(&c->timer, on_timer, c->tcp->cfg.idle_timeout_ms, 0);
}

/* Deliver frames from buf until it is used up, the connection closes, or the
 * owner pauses (the rest is kept for resume). */
static void deliver(struct tcp_conn *c, const uint8_t *buf, size_t len)
{
    size_t pos = 0;

    while (pos < len && c->state == OPEN) {
        const uint8_t *frame = NULL;
        size_t used = 0, flen = 0;
        int r;

        if (c->paused) {
            c->pend_off = (size_t)(buf - c->rbuf) + pos;
            c->pend_len = len - pos;
            return;
        }
        r = kith_frame_decode(&c->dec, buf + pos, len - pos, &used, &frame, &flen);
        pos += used;
        if (r < 0) {
            log_info("sync.bad_frame", "peer=%s error=%s", c->t.name, kith_errname(r));
            do_close(c, r);
            return;
        }
        if (r == 1) {
            arm_idle(c);
            c->t.on_frame(&c->t, frame, flen);
        }
    }
    c->pend_len = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct tcp_conn *c = h->data;

    buf->base = (char *)c->rbuf;
    buf->len = sizeof(c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tcp_conn *c = s->data;

    if (nread == 0 || c->state != OPEN)
        return;
    if (nread < 0) {
        do_close(c, nread == UV_EOF ? -EPIPE : (int)nread);
        return;
    }
    deliver(c, c->rbuf, (size_t)nread);
}

static void start_reading(struct tcp_conn *c)
{
    int r;

    if (c->state != OPEN || c->paused)
        return;
    r = uv_read_start((uv_stream_t *)&c->sock, on_alloc, on_read);
    if (r < 0)
        do_close(c, r);
}

static void on_kick(uv_timer_t *timer)
{
    struct tcp_conn *c = timer->data;

    if (c->pend_len > 0)
        deliver(c, c->rbuf + c->pend_off, c->pend_len);
    if (c->pend_len == 0)
        start_reading(c);
}

static void conn_pause(struct transport *t, int paused)
{
    struct tcp_conn *c = (struct tcp_conn *)t;

    if (c->state != OPEN || c->paused == !!paused)
        return;
    c->paused = !!paused;
    if (c->paused) {
        uv_read_stop((uv_stream_t *)&c->sock);
        uv_timer_stop(&c->kick);
        if (c->ready)
            uv_timer_stop(&c->timer);
        return;
    }
    arm_idle(c);
    /* Deliver from the loop, not from inside the owner's call. */
    uv_timer_start(&c->kick, on_kick, 0, 0);
}

static void conn_ready(struct transport *t)
{
    struct tcp_conn *c = (struct tcp_conn *)t;

    if (c->ready || c->state != OPEN)
        return;
    c->ready = 1;
    if (c->paused)
        uv_timer_stop(&c->timer);
    else
        arm_idle(c);
}

/* ---- Writing ---- */

static void on_write(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct tcp_conn *c = w->conn;

    c->queued -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED) {
        do_close(c, status);
        return;
    }
    if (c->queued == 0 && c->state == OPEN && c->t.on_drain != NULL)
        c->t.on_drain(&c->t);
}

static int conn_send(struct transport *t, const uint8_t *frame, size_t len)
{
    struct tcp_conn *c = (struct tcp_conn *)t;
    struct wreq *w;
    uv_buf_t buf;
    int r;

    if (len == 0)
        return -KITH_EINVAL;
    if (len > TRANSPORT_FRAME_MAX)
        return -KITH_ETOOBIG;
    if (c->state != OPEN)
        return -EPIPE;
    if (c->queued > 0 && c->queued + len > TRANSPORT_QUEUE_MAX)
        return -ENOBUFS;
    w = malloc(sizeof(*w) + KITH_FRAME_HEADER + len);
    if (w == NULL)
        return -ENOMEM;
    w->conn = c;
    w->len = KITH_FRAME_HEADER + len;
    kith_frame_header(len, w->data);
    memcpy(w->data + KITH_FRAME_HEADER, frame, len);
    buf = uv_buf_init((char *)w->data, (unsigned)w->len);
    r = uv_write(&w->req, (uv_stream_t *)&c->sock, &buf, 1, on_write);
    if (r < 0) {
        free(w);
        return r;
    }
    c->queued += w->len;
    return 0;
}

static size_t conn_queued(const struct transport *t)
{
    return ((const struct tcp_conn *)t)->queued;
}

static const struct transport_ops tcp_ops = {
    .send = conn_send,
    .queued = conn_queued,
    .ready = conn_ready,
    .pause = conn_pause,
    .close = conn_close,
};

/* ---- Connections ---- */

/* A new connection in tcp's list, its handles initialised. */
static int conn_new(struct tcp *tcp, int inbound, struct tcp_conn **out)
{
    struct tcp_conn *c = malloc(sizeof(*c));
    int r;

    if (c == NULL)
        return -ENOMEM;
    memset(c, 0, offsetof(struct tcp_conn, dec));
    r = uv_tcp_init(tcp->loop, &c->sock);
    if (r < 0) {
        free(c);
        return r;
    }
    uv_timer_init(tcp->loop, &c->timer);
    uv_timer_init(tcp->loop, &c->kick);
    c->sock.data = c->timer.data = c->kick.data = c;
    c->open_handles = 3;
    c->tcp = tcp;
    c->t.ops = &tcp_ops;
    c->t.inbound = inbound;
    c->state = CONNECTING;
    kith_frame_decoder_init(&c->dec, 0);
    c->next = tcp->conns;
    if (tcp->conns != NULL)
        tcp->conns->prev = c;
    tcp->conns = c;
    tcp->count++;
    *out = c;
    return 0;
}

static void set_name(struct tcp_conn *c)
{
    char addr[TCP_ADDR_STR_MAX];

    if (tcp_format_address((struct sockaddr *)&c->peer, addr, sizeof(addr)) < 0)
        snprintf(addr, sizeof(addr), "?");
    snprintf(c->t.name, sizeof(c->t.name), "tcp-%s %s", c->t.inbound ? "in" : "out", addr);
}

/* The connection is up: start the handshake clock. */
static void opened(struct tcp_conn *c)
{
    c->state = OPEN;
    uv_tcp_nodelay(&c->sock, 1);
    set_name(c);
    uv_timer_start(&c->timer, on_timer, c->tcp->cfg.handshake_timeout_ms, 0);
}

static void on_refused_closed(uv_handle_t *h)
{
    free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tcp *tcp = server->data;
    struct tcp_conn *c;
    int len = sizeof(struct sockaddr_storage);

    if (status < 0) {
        log_warn("sync.accept_failed", "error=%s", uv_err_name(status));
        return;
    }
    if (tcp->count >= tcp->cfg.max_peers || conn_new(tcp, 1, &c) < 0) {
        /* Accept and drop, so the backlog does not fill with the excess. */
        uv_tcp_t *h = malloc(sizeof(*h));
        struct sockaddr_storage ss;
        char addr[TCP_ADDR_STR_MAX] = "?";

        if (h == NULL || uv_tcp_init(tcp->loop, h) < 0) {
            free(h);
            return;
        }
        if (uv_accept(server, (uv_stream_t *)h) == 0 &&
            uv_tcp_getpeername(h, (struct sockaddr *)&ss, &len) == 0)
            tcp_format_address((struct sockaddr *)&ss, addr, sizeof(addr));
        /* Out of memory lands here too: an unaccepted connection would stop
         * libuv accepting any more. */
        log_info("sync.refused", "peer=%s reason=%s max_peers=%u", addr,
                 tcp->count >= tcp->cfg.max_peers ? "peer_limit" : "no_memory",
                 (unsigned)tcp->cfg.max_peers);
        uv_close((uv_handle_t *)h, on_refused_closed);
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&c->sock) < 0 ||
        uv_tcp_getpeername(&c->sock, (struct sockaddr *)&c->peer, &len) < 0) {
        do_close(c, -ECONNABORTED);
        return;
    }
    opened(c);
    c->handed_over = 1;
    tcp->cfg.on_accept(tcp, &c->t, tcp->cfg.arg);
    assert(c->t.on_frame != NULL && c->t.on_close != NULL);
    start_reading(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct tcp_conn *c = req->data;
    tcp_dial_cb cb = c->dial_cb;

    if (c->state != CONNECTING)
        return; /* timed out or stopped: finish() reports it */
    if (status < 0) {
        do_close(c, status);
        return;
    }
    opened(c);
    c->handed_over = 1;
    c->dial_cb = NULL;
    cb(c->tcp, &c->t, 0, c->dial_arg);
    assert(c->state != OPEN || (c->t.on_frame != NULL && c->t.on_close != NULL));
    start_reading(c);
}

int tcp_dial(struct tcp *tcp, const struct sockaddr *addr, tcp_dial_cb cb, void *arg)
{
    struct tcp_conn *c;
    size_t alen;
    int r;

    if (tcp->stopping)
        return -ECANCELED;
    if (addr->sa_family == AF_INET)
        alen = sizeof(struct sockaddr_in);
    else if (addr->sa_family == AF_INET6)
        alen = sizeof(struct sockaddr_in6);
    else
        return -KITH_EINVAL;
    if (tcp->count >= tcp->cfg.max_peers)
        return -EBUSY;
    r = conn_new(tcp, 0, &c);
    if (r < 0)
        return r;
    memcpy(&c->peer, addr, alen);
    set_name(c);
    c->connect_req.data = c;
    r = uv_tcp_connect(&c->connect_req, &c->sock, addr, on_connect);
    if (r < 0) {
        do_close(c, r); /* no dial_cb yet: finish() reports nothing */
        return r;
    }
    c->dial_cb = cb;
    c->dial_arg = arg;
    uv_timer_start(&c->timer, on_timer, tcp->cfg.handshake_timeout_ms, 0);
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct tcp_resolve *rs = req->data;
    struct tcp *tcp = rs->tcp;
    int r = status;

    if (rs->prev != NULL)
        rs->prev->next = rs->next;
    else
        tcp->resolving = rs->next;
    if (rs->next != NULL)
        rs->next->prev = rs->prev;

    if (tcp->stopping || status == UV_EAI_CANCELED) {
        r = -ECANCELED;
    } else if (status < 0 || res == NULL) {
        r = -ENXIO;
    } else {
        struct sockaddr_storage ss;

        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons(rs->port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(rs->port);
        r = tcp_dial(tcp, (struct sockaddr *)&ss, rs->cb, rs->arg);
    }
    uv_freeaddrinfo(res);
    if (r < 0)
        rs->cb(tcp, NULL, r, rs->arg);
    free(rs);
    maybe_free(tcp);
}

int tcp_dial_host(struct tcp *tcp, const char *host, uint16_t port, tcp_dial_cb cb, void *arg)
{
    struct addrinfo hints;
    struct tcp_resolve *rs;
    int r;

    if (tcp->stopping)
        return -ECANCELED;
    if (host == NULL || host[0] == '\0' || port == 0)
        return -KITH_EINVAL;
    rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return -ENOMEM;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    rs->tcp = tcp;
    rs->cb = cb;
    rs->arg = arg;
    rs->port = port;
    rs->req.data = rs;
    r = uv_getaddrinfo(tcp->loop, &rs->req, on_resolved, host, NULL, &hints);
    if (r < 0) {
        free(rs);
        return r;
    }
    rs->next = tcp->resolving;
    if (tcp->resolving != NULL)
        tcp->resolving->prev = rs;
    tcp->resolving = rs;
    return 0;
}

int tcp_peer_address(const struct transport *t, struct sockaddr_storage *out)
{
    if (t->ops != &tcp_ops)
        return -KITH_EINVAL;
    memcpy(out, &((const struct tcp_conn *)t)->peer, sizeof(*out));
    return 0;
}

/* ---- Listener ---- */

static void on_listener_closed(uv_handle_t *h)
{
    struct tcp *tcp = h->data;

    tcp->listener_open = 0;
    maybe_free(tcp);
}

static int bind_listen(struct tcp *tcp, const struct sockaddr *addr)
{
    int r;

    r = uv_tcp_init(tcp->loop, &tcp->listener);
    if (r < 0)
        return r;
    tcp->listener.data = tcp;
    tcp->listener_open = 1;
    r = uv_tcp_bind(&tcp->listener, addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&tcp->listener, BACKLOG, on_connection);
    return r;
}

/* Whether this system can make IPv6 sockets at all (a kernel booted with
 * ipv6.disable=1 cannot). */
static int have_ipv6(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return errno != EAFNOSUPPORT;
    close(fd);
    return 1;
}

static int start_listener(struct tcp *tcp, const char *spec)
{
    char host[TCP_HOST_MAX];
    struct sockaddr_storage ss;
    int len = sizeof(ss), r;
    uint16_t port;

    if (tcp_split_hostport(spec, host, sizeof(host), &port) < 0)
        return -KITH_EINVAL;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
        return -KITH_EINVAL;
    if (strcmp(host, "::") == 0 && !have_ipv6()) {
        log_info("sync.no_ipv6", "listen=0.0.0.0:%u", (unsigned)port);
        uv_ip4_addr("0.0.0.0", port, (struct sockaddr_in *)&ss);
    }
    r = bind_listen(tcp, (struct sockaddr *)&ss);
    if (r < 0)
        return r;
    tcp->listening = 1;
    r = uv_tcp_getsockname(&tcp->listener, (struct sockaddr *)&ss, &len);
    if (r < 0)
        return r;
    tcp->port = ((struct sockaddr *)&ss)->sa_family == AF_INET
                    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                    : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return tcp_format_address((struct sockaddr *)&ss, tcp->address, sizeof(tcp->address));
}

int tcp_start(uv_loop_t *loop, const struct tcp_config *cfg, struct tcp **out)
{
    struct tcp *tcp;
    int r;

    *out = NULL;
    if (cfg->listen != NULL && cfg->on_accept == NULL)
        return -KITH_EINVAL;
    tcp = calloc(1, sizeof(*tcp));
    if (tcp == NULL)
        return -ENOMEM;
    tcp->loop = loop;
    tcp->cfg = *cfg;
    tcp->cfg.listen = NULL; /* not kept: the caller's string */
    if (tcp->cfg.max_peers == 0)
        tcp->cfg.max_peers = TCP_MAX_PEERS_DEFAULT;
    if (tcp->cfg.handshake_timeout_ms == 0)
        tcp->cfg.handshake_timeout_ms = TCP_HANDSHAKE_TIMEOUT_DEFAULT_MS;
    if (tcp->cfg.idle_timeout_ms == 0)
        tcp->cfg.idle_timeout_ms = TCP_IDLE_TIMEOUT_DEFAULT_MS;
    if (cfg->listen != NULL) {
        r = start_listener(tcp, cfg->listen);
        if (r < 0) {
            tcp->stopping = 1;
            if (tcp->listener_open)
                uv_close((uv_handle_t *)&tcp->listener, on_listener_closed);
            else
                free(tcp);
            return r;
        }
    }
    *out = tcp;
    return 0;
}

void tcp_stop(struct tcp *tcp)
{
    if (tcp == NULL || tcp->stopping)
        return;
    tcp->stopping = 1;
    for (struct tcp_conn *c = tcp->conns; c != NULL; c = c->next)
        do_close(c, -ECANCELED);
    for (struct tcp_resolve *rs = tcp->resolving; rs != NULL; rs = rs->next)
        uv_cancel((uv_req_t *)&rs->req);
    if (tcp->listener_open)
        uv_close((uv_handle_t *)&tcp->listener, on_listener_closed);
    maybe_free(tcp);
}

uint16_t tcp_port(const struct tcp *tcp)
{
    return tcp->port;
}

const char *tcp_address(const struct tcp *tcp)
{
    return tcp->address;
}

size_t tcp_count(const struct tcp *tcp)
{
    return tcp->count;
}
