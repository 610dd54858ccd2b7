/*
 * http: the web server's connections on the libuv loop (see http.h).
 *
 * One struct http_conn per accepted socket owns a TCP handle, one timer and
 * a request parser; both handles close together and the connection is
 * freed in the second close callback. The server counts what is alive (its
 * listening handle, every connection, every deferred response) and frees
 * itself after http_stop once that count is zero.
 *
 * A connection serves one request at a time: reading stops when a request
 * is complete and starts again when its response is written, so a client
 * that pipelines gets its answers in order and a client that does not read
 * its answers holds one response, not a queue. Bytes of the next request
 * that came with the last read wait in `pending`.
 *
 * The one timer means what the state says: waiting for a request (idle, or
 * the header/request deadline once its first byte came), writing (the
 * client must read within the idle time), or lingering (after a last
 * response we half-close and read what is left for a moment, so the client
 * sees our answer rather than a reset).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"
#include "kith/error.h"
#include "log.h"

#define READ_BUF_BYTES 65536
#define LINGER_MS 2000
#define BACKLOG 128
#define REFUSED_LOG_MS 10000

enum conn_state { CS_READ, CS_HANDLE, CS_WRITE, CS_LINGER };

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct http_server *srv;
    struct http_conn *prev, *next;
    struct http_parse ps;
    int parser_ready;
    int served; /* counted in srv->nserved (not being refused) */
    int open_handles;
    int closing;
    int last;      /* close (lingering) once the response being written is out */
    int continued; /* "100 Continue" sent for this request */
    enum conn_state state;
    uint64_t req_start;
    char *pending; /* bytes read past the request being answered */
    size_t pending_len;
    struct http_response *deferred; /* a handler's, while in CS_HANDLE */
    char peer[64];
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    struct http_limits lim;
    char *host_name;
    struct http_route *routes;
    size_t n_routes;
    struct http_conn *conns;
    unsigned nconns, nserved;
    unsigned live; /* listening handle + connections + deferred responses */
    int stopping;
    uint64_t refused;           /* connections refused since the last log line */
    uint64_t refused_logged_ms; /* loop time of that line */
    char readbuf[READ_BUF_BYTES];
};

struct http_write {
    uv_write_t req;
    struct http_conn *c;
    char *head;
    char *body;
    int interim; /* a "100 Continue", not the response */
};

static void conn_process(struct http_conn *c, const char *data, size_t n);

static void srv_maybe_free(struct http_server *srv)
{
    if (!srv->stopping || srv->live > 0)
        return;
    free(srv->routes);
    free(srv->host_name);
    free(srv);
}

static void conn_closed(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    struct http_server *srv = c->srv;

    if (--c->open_handles > 0)
        return;
    if (c->parser_ready)
        http_parse_free(&c->ps);
    free(c->pending);
    free(c);
    srv->live--;
    srv_maybe_free(srv);
}

static void conn_close(struct http_conn *c)
{
    struct http_server *srv = c->srv;

    if (c->closing)
        return;
    c->closing = 1;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->nconns--;
    if (c->served)
        srv->nserved--;
    if (c->deferred != NULL)
        c->deferred->conn = NULL; /* http_resp_finish will drop it */
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *c = h->data;

    buf->base = c->srv->readbuf;
    buf->len = sizeof(c->srv->readbuf);
}

static void on_timer(uv_timer_t *t);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void timer_in(struct http_conn *c, uint64_t ms)
{
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    /* Nothing to do: the linger timer or the client's EOF closes. */
}

/* Half-close, then drain what the client still sends for LINGER_MS. */
static void conn_linger(struct http_conn *c)
{
    c->state = CS_LINGER;
    timer_in(c, LINGER_MS);
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        conn_close(c);
}

static void on_write(uv_write_t *req, int status)
{
    struct http_write *w = (struct http_write *)req;
    struct http_conn *c = w->c;
    int interim = w->interim;
    char *pending;
    size_t n;

    free(w->head);
    free(w->body);
    free(w);
    /* Cancelled writes of a closing connection land here before its close
     * callbacks, so c is still alive. */
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (interim)
        return;
    if (c->last || c->srv->stopping) {
        conn_linger(c);
        return;
    }
    http_parse_next(&c->ps);
    c->continued = 0;
    c->state = CS_READ;
    timer_in(c, c->srv->lim.idle_timeout_ms);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        conn_close(c);
        return;
    }
    pending = c->pending;
    n = c->pending_len;
    c->pending = NULL;
    c->pending_len = 0;
    if (pending != NULL) {
        conn_process(c, pending, n);
        free(pending);
    }
}

/* Queue head (malloc'd) and body (malloc'd or NULL); both are taken over. */
static int conn_write(struct http_conn *c, char *head, size_t head_len, char *body, size_t body_len,
                      int interim)
{
    struct http_write *w = malloc(sizeof(*w));
    uv_buf_t bufs[2];
    int r;

    if (w == NULL) {
        free(head);
        free(body);
        conn_close(c);
        return -ENOMEM;
    }
    w->c = c;
    w->head = head;
    w->body = body;
    w->interim = interim;
    bufs[0] = uv_buf_init(head, (unsigned)head_len);
    bufs[1] = uv_buf_init(body, (unsigned)body_len);
    r = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, body_len > 0 ? 2 : 1, on_write);
    if (r < 0) {
        free(head);
        free(body);
        free(w);
        conn_close(c);
    }
    return r;
}

/* Send r (taken over) and go on with the connection once it is written. */
static void conn_send(struct http_conn *c, struct http_response *r)
{
    char *head, *body;
    size_t head_len, body_len;
    int keep;

    keep = r->keep_alive && !r->close && !c->last && !c->srv->stopping && r->status != 408;
    if (http_resp_head(r, keep, &head, &head_len) < 0) {
        http_resp_free(r);
        conn_close(c);
        return;
    }
    log_debug("web.response", "status=%d bytes=%zu", r->status, r->blen);
    body = r->head_only ? NULL : r->body;
    body_len = r->head_only ? 0 : r->blen;
    if (!r->head_only)
        r->body = NULL; /* now the write's */
    http_resp_free(r);
    c->last = !keep;
    c->state = CS_WRITE;
    uv_read_stop((uv_stream_t *)&c->tcp);
    timer_in(c, c->srv->lim.idle_timeout_ms);
    conn_write(c, head, head_len, body, body_len, 0);
}

/* Answer with the server's plain page for status and close after it. */
static void conn_fail(struct http_conn *c, int status)
{
    struct http_response *r = http_resp_new();

    if (r == NULL || http_resp_error(r, status) < 0) {
        http_resp_free(r);
        conn_close(c);
        return;
    }
    c->last = 1;
    conn_send(c, r);
}

static int path_matches(const struct http_route *rt, const char *path)
{
    size_t n = strlen(rt->path);

    return rt->prefix ? strncmp(path, rt->path, n) == 0 : strcmp(path, rt->path) == 0;
}

/* Does the browser say this request comes from another site? Requests
 * without either header (old browsers, curl) pass: CSRF tokens still hold. */
static int cross_site(const struct http_request *req)
{
    size_t hl;

    if (req->sec_fetch_site != NULL)
        return strcmp(req->sec_fetch_site, "same-origin") != 0 &&
               strcmp(req->sec_fetch_site, "none") != 0;
    if (req->origin == NULL)
        return 0;
    if (req->host == NULL)
        return 1;
    hl = strlen(req->host);
    if (strncasecmp(req->origin, "http://", 7) == 0)
        return strlen(req->origin + 7) != hl || strcasecmp(req->origin + 7, req->host) != 0;
    if (strncasecmp(req->origin, "https://", 8) == 0)
        return strlen(req->origin + 8) != hl || strcasecmp(req->origin + 8, req->host) != 0;
    return 1; /* "null" and anything else */
}

static void allow_header(struct http_response *r, unsigned allow)
{
    const char *v = NULL;

    if ((allow & HTTP_M_GET) && (allow & HTTP_M_POST))
        v = "GET, HEAD, POST";
    else if (allow & HTTP_M_GET)
        v = "GET, HEAD";
    else if (allow & HTTP_M_POST)
        v = "POST";
    if (v != NULL)
        http_resp_header(r, "Allow", v);
}

/* Route the complete request in c->ps.req and answer it. */
static void conn_dispatch(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    struct http_request *req = &c->ps.req;
    const struct http_route *match = NULL;
    struct http_response *r;
    unsigned allow = 0;
    int e;

    req->peer = c->peer;
    r = http_resp_new();
    if (r == NULL) {
        conn_close(c);
        return;
    }
    r->keep_alive = req->keep_alive;
    r->head_only = req->method == HTTP_M_HEAD;
    r->srv = srv;
    r->conn = c;
    log_debug("web.request", "method=%s", req->method_name);
    if (req->host != NULL ? !http_host_allowed(req->host, srv->host_name) : req->http_minor >= 1) {
        e = http_resp_error(r, 400);
    } else if ((req->method & (HTTP_M_POST | HTTP_M_OTHER)) && cross_site(req)) {
        log_info("web.cross_site_refused", "method=%s", req->method_name);
        e = http_resp_error(r, 403);
    } else {
        for (size_t i = 0; i < srv->n_routes && match == NULL; i++) {
            const struct http_route *rt = &srv->routes[i];
            unsigned m = rt->methods | ((rt->methods & HTTP_M_GET) ? HTTP_M_HEAD : 0);

            if (!path_matches(rt, req->path))
                continue;
            allow |= m;
            if (m & (unsigned)req->method)
                match = rt;
        }
        if (match == NULL) {
            e = http_resp_error(r, allow != 0 ? 405 : 404);
            if (allow != 0)
                allow_header(r, allow);
        } else {
            e = match->fn(match->arg, req, r);
            if (e == HTTP_DEFER) {
                c->deferred = r;
                c->state = CS_HANDLE;
                uv_timer_stop(&c->timer);
                srv->live++;
                return;
            }
            if (e < 0) {
                log_warn("web.handler_failed", "error=%s", kith_errname(e));
                e = http_resp_error(r, 500);
            }
        }
    }
    if (e < 0) {
        http_resp_free(r);
        conn_close(c);
        return;
    }
    conn_send(c, r);
}

void http_resp_finish(struct http_response *r)
{
    struct http_conn *c = r->conn;
    struct http_server *srv = r->srv;

    srv->live--;
    if (c == NULL) {
        http_resp_free(r);
        srv_maybe_free(srv);
        return;
    }
    c->deferred = NULL;
    conn_send(c, r);
}

static void send_continue(struct http_conn *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    char *head = malloc(sizeof(msg));

    if (head == NULL) {
        conn_close(c);
        return;
    }
    memcpy(head, msg, sizeof(msg));
    c->continued = 1;
    conn_write(c, head, sizeof(msg) - 1, NULL, 0, 1);
}

/* Feed bytes read in CS_READ; answer a request once one is complete. */
static void conn_process(struct http_conn *c, const char *data, size_t n)
{
    struct http_server *srv = c->srv;
    enum http_parse_state before = c->ps.state;
    size_t used;
    int r;

    r = http_parse_feed(&c->ps, data, n, &used);
    if (before == HTTP_PS_IDLE && c->ps.state != HTTP_PS_IDLE) {
        c->req_start = uv_now(srv->loop);
        timer_in(c, srv->lim.header_timeout_ms);
    }
    if (r < 0) {
        log_info("web.bad_request", "status=%d", c->ps.status);
        conn_fail(c, c->ps.status);
        return;
    }
    if (before < HTTP_PS_BODY && c->ps.state >= HTTP_PS_BODY) {
        uint64_t end = c->req_start + srv->lim.request_timeout_ms;
        uint64_t now = uv_now(srv->loop);

        timer_in(c, end > now ? end - now : 1);
        if (r == 0 && c->ps.req.expect_continue && !c->continued && c->ps.p.http_minor >= 1)
            send_continue(c);
    }
    if (r == 0)
        return;
    if (used < n) {
        c->pending = malloc(n - used);
        if (c->pending == NULL) {
            conn_close(c);
            return;
        }
        memcpy(c->pending, data + used, n - used);
        c->pending_len = n - used;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    conn_dispatch(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *c = s->data;

    if (c->closing)
        return;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0 || c->state == CS_LINGER)
        return;
    if (c->state == CS_READ)
        conn_process(c, buf->base, (size_t)nread);
}

static void on_timer(uv_timer_t *t)
{
    struct http_conn *c = t->data;

    if (c->state == CS_READ && c->ps.state != HTTP_PS_IDLE) {
        log_info("web.timeout", "state=%s", c->ps.state == HTTP_PS_HEADERS ? "headers" : "body");
        conn_fail(c, 408);
        return;
    }
    conn_close(c); /* idle, a client that does not read, or linger done */
}

static void peer_name(struct http_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    strcpy(c->peer, "unknown");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof(c->peer));
    } else if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof(c->peer));
        if (strncmp(c->peer, "::ffff:", 7) == 0 && strchr(c->peer, '.') != NULL)
            memmove(c->peer, c->peer + 7, strlen(c->peer + 7) + 1);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct http_server *srv = server->data;
    struct http_conn *c;

    if (status < 0) {
        log_warn("web.accept_failed", "error=%s", uv_err_name(status));
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        log_error("web.accept_failed", "error=ENOMEM");
        return;
    }
    c->srv = srv;
    c->open_handles = 2;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    srv->live++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    if (srv->nserved >= srv->lim.max_conns) {
        uint64_t t = uv_now(srv->loop);

        /* One line per REFUSED_LOG_MS at most: a flood must not fill the log. */
        srv->refused++;
        if (srv->refused_logged_ms == 0 || t - srv->refused_logged_ms >= REFUSED_LOG_MS) {
            log_warn("web.refused", "reason=too_many_connections max=%u count=%llu",
                     srv->lim.max_conns, (unsigned long long)srv->refused);
            srv->refused_logged_ms = t;
            srv->refused = 0;
        }
        /* Past twice the limit not even a 503: just close. */
        if (srv->nconns > 2 * srv->lim.max_conns)
            conn_close(c);
        else
            conn_fail(c, 503);
        return;
    }
    if (http_parse_init(&c->ps, &srv->lim) < 0) {
        conn_close(c);
        return;
    }
    c->parser_ready = 1;
    c->served = 1;
    srv->nserved++;
    peer_name(c);
    uv_tcp_nodelay(&c->tcp, 1);
    c->state = CS_READ;
    /* A connection that sends nothing gets the header time, not the idle
     * time: opening sockets must not be a cheap way to hold them. */
    timer_in(c, srv->lim.header_timeout_ms);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        conn_close(c);
}

static void server_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;

    srv->live--;
    srv_maybe_free(srv);
}

static void fill_limits(struct http_limits *l)
{
    if (l->url_max == 0)
        l->url_max = HTTP_URL_MAX;
    if (l->header_max == 0)
        l->header_max = HTTP_HEADER_MAX;
    if (l->headers_count_max == 0)
        l->headers_count_max = HTTP_HEADERS_COUNT_MAX;
    if (l->body_max == 0)
        l->body_max = HTTP_BODY_MAX;
    if (l->header_timeout_ms == 0)
        l->header_timeout_ms = HTTP_HEADER_TIMEOUT_MS;
    if (l->request_timeout_ms == 0)
        l->request_timeout_ms = HTTP_REQUEST_TIMEOUT_MS;
    if (l->idle_timeout_ms == 0)
        l->idle_timeout_ms = HTTP_IDLE_TIMEOUT_MS;
    if (l->max_conns == 0)
        l->max_conns = HTTP_MAX_CONNS;
}

int http_start(uv_loop_t *loop, const char *addr, uint16_t port, const struct http_config *cfg,
               struct http_server **out)
{
    struct sockaddr_storage ss;
    struct http_server *srv;
    int r;

    if (addr == NULL)
        addr = "127.0.0.1";
    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss) != 0)
        return -KITH_EINVAL;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return -ENOMEM;
    srv->loop = loop;
    if (cfg != NULL) {
        srv->lim = cfg->lim;
        if (cfg->n_routes > 0) {
            srv->routes = calloc(cfg->n_routes, sizeof(*srv->routes));
            if (srv->routes == NULL)
                goto nomem;
            memcpy(srv->routes, cfg->routes, cfg->n_routes * sizeof(*srv->routes));
            srv->n_routes = cfg->n_routes;
        }
        if (cfg->host_name != NULL && (srv->host_name = strdup(cfg->host_name)) == NULL)
            goto nomem;
    }
    fill_limits(&srv->lim);
    r = uv_tcp_init(loop, &srv->tcp);
    if (r < 0) {
        free(srv->routes);
        free(srv->host_name);
        free(srv);
        return r;
    }
    srv->tcp.data = srv;
    srv->live = 1;
    r = uv_tcp_bind(&srv->tcp, (struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv->tcp, BACKLOG, on_connection);
    if (r < 0) {
        srv->stopping = 1;
        uv_close((uv_handle_t *)&srv->tcp, server_closed);
        return r;
    }
    log_info("web.listen", "addr=%s port=%u", addr, (unsigned)http_port(srv));
    *out = srv;
    return 0;
nomem:
    free(srv->routes);
    free(srv);
    return -ENOMEM;
}

uint16_t http_port(const struct http_server *srv)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    if (uv_tcp_getsockname(&srv->tcp, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

unsigned http_conns(const struct http_server *srv)
{
    return srv->nconns;
}

void http_stop(struct http_server *srv)
{
    if (srv == NULL || srv->stopping)
        return;
    srv->stopping = 1;
    uv_close((uv_handle_t *)&srv->tcp, server_closed);
    while (srv->conns != NULL)
        conn_close(srv->conns);
}
