/*
 * Tests for node/http.c, http_parse.c and http_resp.c: a real server on
 * 127.0.0.1:0 runs in the test's loop on a second thread while the test
 * talks raw TCP to it with blocking sockets and checks every byte that
 * matters: keep-alive, pipelining, HEAD, forms, the limits (413, 414, 431,
 * 408, 503), malformed requests, Host and cross-site checks, security
 * headers, deferred responses. At the end the server stops and the loop
 * must close with no handle left. The parser is also driven directly.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "kith/error.h"

struct harness {
    uv_loop_t loop;
    uv_async_t done;
    uv_timer_t defer_timer;
    struct http_response *deferred;
    int deferred_dropped;
    struct http_server *srv;
    uint16_t port;
    pthread_t th;
    int run_result;
};

/* ---- handlers (loop thread) ---- */

static int h_hello(void *arg, const struct http_request *req, struct http_response *resp)
{
    const char *who = form_get(&req->query, "who");

    return http_resp_printf(resp, "hello %s", who != NULL ? who : "world");
}

static int h_form(void *arg, const struct http_request *req, struct http_response *resp)
{
    const char *a = form_get(&req->form, "a"), *b = form_get(&req->form, "b");

    http_resp_type(resp, "text/plain; charset=utf-8");
    return http_resp_printf(resp, "a=%s b=%s n=%zu len=%zu", a ? a : "-", b ? b : "-", req->form.n,
                            req->body_len);
}

static int h_redirect(void *arg, const struct http_request *req, struct http_response *resp)
{
    /* Checked here, reported in a header: no asserts off the test thread. */
    int ok = http_resp_redirect(resp, "//evil.example/") == -KITH_EINVAL &&
             http_resp_redirect(resp, "/\\evil") == -KITH_EINVAL &&
             http_resp_redirect(resp, "http://evil.example/") == -KITH_EINVAL &&
             http_resp_header(resp, "Content-Length", "1") == -KITH_EINVAL &&
             http_resp_header(resp, "X-A", "a\r\nSet-Cookie: x=1") == -KITH_EINVAL &&
             http_resp_header(resp, "Bad Name", "v") == -KITH_EINVAL &&
             http_resp_header(resp, "Set-Cookie", "s=1; HttpOnly") == 0;

    if (http_resp_header(resp, "X-Checks", ok ? "ok" : "bad") < 0)
        return -ENOMEM;
    return http_resp_redirect(resp, "/done?x=1");
}

static int h_peer(void *arg, const struct http_request *req, struct http_response *resp)
{
    return http_resp_printf(resp, "peer=%s cookie=%s", req->peer,
                            req->cookie != NULL ? req->cookie : "-");
}

static int h_fail(void *arg, const struct http_request *req, struct http_response *resp)
{
    return -KITH_ESTORE;
}

static void on_defer(uv_timer_t *t)
{
    struct harness *h = t->data;

    http_resp_printf(h->deferred, "later");
    http_resp_finish(h->deferred);
    h->deferred = NULL;
}

static int h_defer(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct harness *h = arg;

    __atomic_store_n(&h->deferred, resp, __ATOMIC_SEQ_CST);
    uv_timer_start(&h->defer_timer, on_defer, 50, 0);
    return HTTP_DEFER;
}

/* ---- harness ---- */

static void on_done(uv_async_t *a)
{
    struct harness *h = a->data;

    http_stop(h->srv);
    h->srv = NULL;
    /* A handler's work that ends after the stop still finishes its
     * response: it is dropped, and only then can the server go. */
    if (h->deferred != NULL) {
        h->deferred_dropped = 1;
        http_resp_finish(h->deferred);
        h->deferred = NULL;
    }
    uv_close((uv_handle_t *)&h->defer_timer, NULL);
    uv_close((uv_handle_t *)&h->done, NULL);
}

static void *loop_main(void *arg)
{
    struct harness *h = arg;

    h->run_result = uv_run(&h->loop, UV_RUN_DEFAULT);
    return NULL;
}

static struct harness H;

static void start(const struct http_limits *lim)
{
    struct http_route routes[] = {
        {HTTP_M_GET, "/hello", 0, h_hello, NULL},
        {HTTP_M_POST, "/form", 0, h_form, NULL},
        {HTTP_M_POST, "/redirect", 0, h_redirect, NULL},
        {HTTP_M_GET | HTTP_M_POST, "/peer", 0, h_peer, NULL},
        {HTTP_M_GET, "/fail", 0, h_fail, NULL},
        {HTTP_M_GET, "/defer", 0, h_defer, &H},
        {HTTP_M_GET, "/static/", 1, h_hello, NULL},
    };
    struct http_config cfg = {.routes = routes,
                              .n_routes = sizeof(routes) / sizeof(routes[0]),
                              .host_name = "kith.example"};

    memset(&H, 0, sizeof(H));
    if (lim != NULL)
        cfg.lim = *lim;
    cr_assert_eq(uv_loop_init(&H.loop), 0);
    cr_assert_eq(http_start(&H.loop, "127.0.0.1", 0, &cfg, &H.srv), 0);
    H.port = http_port(H.srv);
    cr_assert_neq(H.port, 0);
    cr_assert_eq(uv_async_init(&H.loop, &H.done, on_done), 0);
    H.done.data = &H;
    cr_assert_eq(uv_timer_init(&H.loop, &H.defer_timer), 0);
    H.defer_timer.data = &H;
    cr_assert_eq(pthread_create(&H.th, NULL, loop_main, &H), 0);
}

static void stop(void)
{
    uv_async_send(&H.done);
    pthread_join(H.th, NULL);
    cr_assert_eq(H.run_result, 0);
    /* Every handle was closed and freed. */
    cr_assert_eq(uv_loop_close(&H.loop), 0);
}

/* ---- a blocking client ---- */

static int cl_connect(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(H.port)};
    struct timeval tv = {.tv_sec = 5};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "connect: %s",
                 strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void cl_send(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

        cr_assert_gt(w, 0, "send: %s", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
}

static void cl_puts(int fd, const char *s)
{
    cl_send(fd, s, strlen(s));
}

struct resp {
    int status;
    char head[8192];
    char body[8192];
    size_t body_len;
};

/* Read one response; head_only for a HEAD request. Returns 0, or -1 on EOF
 * before a whole response. */
static int cl_resp(int fd, struct resp *r, int head_only)
{
    size_t n = 0, cl = 0;
    char *end = NULL, *p;

    memset(r, 0, sizeof(*r));
    while (end == NULL) {
        ssize_t got = recv(fd, r->head + n, 1, 0); /* a byte at a time: no over-read */

        if (got <= 0)
            return -1;
        n++;
        cr_assert_lt(n, sizeof(r->head) - 1);
        r->head[n] = '\0';
        end = strstr(r->head, "\r\n\r\n");
    }
    cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1, "%s", r->head);
    p = strstr(r->head, "\r\nContent-Length: ");
    cr_assert_not_null(p, "%s", r->head);
    cl = strtoul(p + 18, NULL, 10);
    if (head_only)
        return 0;
    cr_assert_lt(cl, sizeof(r->body));
    while (r->body_len < cl) {
        ssize_t got = recv(fd, r->body + r->body_len, cl - r->body_len, 0);

        if (got <= 0)
            return -1;
        r->body_len += (size_t)got;
    }
    return 0;
}

/* Does the server close: EOF (or reset) before timeout? */
static int cl_eof(int fd)
{
    char b[256];
    ssize_t r;

    do
        r = recv(fd, b, sizeof(b), 0);
    while (r > 0);
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int has(const struct resp *r, const char *line)
{
    return strstr(r->head, line) != NULL;
}

static void request(const char *req, struct resp *r)
{
    int fd = cl_connect();

    cl_puts(fd, req);
    cr_assert_eq(cl_resp(fd, r, 0), 0);
    close(fd);
}

/* ---- tests over the wire ---- */

Test(http, get_with_security_headers)
{
    struct resp r;

    start(NULL);
    request("GET /hello?who=Ann+%26+Bo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "hello Ann & Bo");
    cr_assert(has(&r, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    cr_assert(has(&r, "\r\nContent-Length: 14\r\n"));
    cr_assert(has(&r, "\r\nCache-Control: no-store\r\n"));
    cr_assert(has(&r, "\r\nContent-Security-Policy: default-src 'none'; style-src 'self'; "
                      "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
                      "base-uri 'none'\r\n"));
    cr_assert(has(&r, "\r\nX-Content-Type-Options: nosniff\r\n"));
    cr_assert(has(&r, "\r\nReferrer-Policy: no-referrer\r\n"));
    cr_assert(has(&r, "\r\nX-Frame-Options: DENY\r\n"));
    cr_assert(has(&r, "\r\nConnection: keep-alive\r\n"));
    /* Error pages carry them too. */
    request("GET /nowhere HTTP/1.1\r\nHost: localhost:8080\r\n\r\n", &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.body, "404 Not Found\n");
    cr_assert(has(&r, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    cr_assert(has(&r, "\r\nContent-Security-Policy: default-src 'none';"));
    cr_assert(has(&r, "\r\nX-Content-Type-Options: nosniff\r\n"));
    stop();
}

Test(http, keep_alive_and_pipelining)
{
    struct resp r;
    int fd;

    start(NULL);
    fd = cl_connect();
    cl_puts(fd, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "hello world");
    cl_puts(fd, "GET /hello?who=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "hello 2");
    /* Three in one write: answered in order. */
    cl_puts(fd, "GET /hello?who=a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                "application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1"
                "GET /hello?who=c HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "hello a");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "a=1 b=- n=1 len=3");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "hello c");
    cr_assert(has(&r, "\r\nConnection: close\r\n"));
    cr_assert(cl_eof(fd));
    close(fd);
    /* HTTP/1.0 closes unless asked not to. */
    fd = cl_connect();
    cl_puts(fd, "GET /hello HTTP/1.0\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(has(&r, "\r\nConnection: close\r\n"));
    cr_assert(cl_eof(fd));
    close(fd);
    stop();
}

Test(http, head_has_length_but_no_body)
{
    struct resp r;
    int fd;

    start(NULL);
    fd = cl_connect();
    cl_puts(fd, "HEAD /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 1), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(has(&r, "\r\nContent-Length: 11\r\n"));
    /* The next response starts right away: no body bytes were sent. */
    cl_puts(fd, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "hello world");
    close(fd);
    stop();
}

Test(http, post_form_and_redirect)
{
    struct resp r;
    int fd;

    start(NULL);
    request("POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
            "Content-Length: 17\r\n\r\na=x+y%2B&b=%C3%A9",
            &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "a=x y+ b=\xc3\xa9 n=2 len=17");
    /* Chunked bodies are de-chunked. */
    request("POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n\r\n3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n",
            &r);
    cr_assert_str_eq(r.body, "a=1 b=2 n=2 len=7");
    /* Another content type: the body is there, the form is empty. */
    request("POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            "Content-Length: 3\r\n\r\na=1",
            &r);
    cr_assert_str_eq(r.body, "a=- b=- n=0 len=3");
    /* A bad escape in a form is a bad request. */
    request("POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\r\na=%z",
            &r);
    cr_assert_eq(r.status, 400);
    /* Same-origin POST with a redirect (POST-redirect-GET). */
    request("POST /redirect HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\n"
            "Sec-Fetch-Site: same-origin\r\nContent-Length: 0\r\n\r\n",
            &r);
    cr_assert_eq(r.status, 303);
    cr_assert(has(&r, "\r\nLocation: /done?x=1\r\n"));
    cr_assert(has(&r, "\r\nSet-Cookie: s=1; HttpOnly\r\n"));
    cr_assert(has(&r, "\r\nX-Checks: ok\r\n"));
    cr_assert_eq(r.body_len, 0);
    /* Expect: 100-continue gets its interim answer before the body. */
    fd = cl_connect();
    cl_puts(fd, "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\n");
    {
        char b[26] = {0};

        cr_assert_eq(recv(fd, b, 25, MSG_WAITALL), 25);
        cr_assert_str_eq(b, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    cl_puts(fd, "b=9");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "a=- b=9 n=1 len=3");
    close(fd);
    stop();
}

Test(http, cookies_and_peer)
{
    struct resp r;

    start(NULL);
    request("GET /peer HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n", &r);
    cr_assert_str_eq(r.body, "peer=127.0.0.1 cookie=a=1; b=2");
    stop();
}

Test(http, routes_404_405_500)
{
    struct resp r;

    start(NULL);
    request("POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", &r);
    cr_assert_eq(r.status, 405);
    cr_assert(has(&r, "\r\nAllow: GET, HEAD\r\n"));
    request("GET /form HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 405);
    cr_assert(has(&r, "\r\nAllow: POST\r\n"));
    request("DELETE /peer HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 405);
    cr_assert(has(&r, "\r\nAllow: GET, HEAD, POST\r\n"));
    request("GET /hello/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 404); /* exact route */
    request("GET /static/a/b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 200); /* prefix route */
    request("GET /fail HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 500);
    cr_assert_str_eq(r.body, "500 Internal Server Error\n");
    stop();
}

Test(http, deferred_response)
{
    struct resp r;
    int fd;

    start(NULL);
    fd = cl_connect();
    cl_puts(fd, "GET /defer HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "later");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_str_eq(r.body, "hello world");
    close(fd);
    /* Closing while a response is deferred: it is dropped, nothing leaks. */
    fd = cl_connect();
    cl_puts(fd, "GET /defer HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    for (int i = 0; i < 200 && __atomic_load_n(&H.deferred, __ATOMIC_SEQ_CST) == NULL; i++)
        usleep(10 * 1000);
    stop();
    cr_assert_eq(H.deferred_dropped, 1);
    cr_assert(cl_eof(fd)); /* closed without an answer */
    close(fd);
}

Test(http, host_checked)
{
    struct resp r;

    start(NULL);
    request("GET /hello HTTP/1.1\r\n\r\n", &r); /* 1.1 without Host */
    cr_assert_eq(r.status, 400);
    request("GET /hello HTTP/1.1\r\nHost: evil.example\r\n\r\n", &r); /* DNS rebinding */
    cr_assert_eq(r.status, 400);
    request("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r);
    cr_assert_eq(r.status, 400);
    request("GET /hello HTTP/1.1\r\nHost: KITH.example:80\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    request("GET /hello HTTP/1.1\r\nHost: pi.local\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    request("GET /hello HTTP/1.1\r\nHost: [::1]:7\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    stop();
}

Test(http, cross_site_post_refused)
{
    static const char *bad[] = {
        "Sec-Fetch-Site: cross-site\r\n",
        "Sec-Fetch-Site: same-site\r\n",
        "Origin: http://evil.example\r\n",
        "Origin: null\r\n",
        "Origin: http://127.0.0.1:9\r\n",
        "Sec-Fetch-Site: cross-site\r\nOrigin: http://127.0.0.1\r\n",
    };
    static const char *good[] = {
        "",
        "Sec-Fetch-Site: same-origin\r\n",
        "Origin: http://127.0.0.1\r\n",
        "Sec-Fetch-Site: none\r\n",
    };
    char req[512];
    struct resp r;

    start(NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req),
                 "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: 0\r\n\r\n", bad[i]);
        request(req, &r);
        cr_assert_eq(r.status, 403, "%s", bad[i]);
        cr_assert_str_eq(r.body, "403 Forbidden\n");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(req, sizeof(req),
                 "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: 0\r\n\r\n", good[i]);
        request(req, &r);
        cr_assert_eq(r.status, 200, "%s", good[i]);
    }
    /* A cross-site GET is fine (links into the node work). */
    request("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    stop();
}

static const struct http_limits small = {
    .url_max = 64,
    .header_max = 512,
    .headers_count_max = 8,
    .body_max = 100,
    .header_timeout_ms = 300,
    .request_timeout_ms = 600,
    .idle_timeout_ms = 400,
    .max_conns = 2,
};

static void expect_refused(const char *req, int status)
{
    struct resp r;
    int fd = cl_connect();

    cl_puts(fd, req);
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_eq(r.status, status, "%s", req);
    cr_assert(has(&r, "\r\nConnection: close\r\n"));
    cr_assert(cl_eof(fd));
    close(fd);
}

Test(http, limits_413_414_431_400)
{
    char req[2048];

    start(&small);
    snprintf(req, sizeof(req), "GET /%0100d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 0);
    expect_refused(req, 414);
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %0600d\r\n\r\n", 0);
    expect_refused(req, 431);
    expect_refused("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\n"
                   "e: 1\r\nf: 1\r\ng: 1\r\nh: 1\r\n\r\n",
                   431);
    expect_refused("POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 101\r\n\r\n", 413);
    snprintf(req, sizeof(req),
             "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
             "40\r\n%064d\r\n40\r\n%064d\r\n0\r\n\r\n",
             0, 0);
    expect_refused(req, 413);
    expect_refused("GARBAGE\r\n\r\n", 400);
    expect_refused("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n", 400);
    expect_refused("GET http://127.0.0.1/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400);
    expect_refused("POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                   400);
    expect_refused("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: nothing\r\n\r\n", 400);
    /* At the limits exactly: fine. */
    {
        struct resp r;

        snprintf(req, sizeof(req),
                 "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n\r\na=%098d",
                 0);
        request(req, &r);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(r.body + r.body_len - 8, " len=100");
    }
    stop();
}

Test(http, slow_clients_timed_out)
{
    struct resp r;
    double t0;
    int fd;

    start(&small);
    /* Headers that never end: 408 after header_timeout_ms. */
    fd = cl_connect();
    t0 = now_s();
    cl_puts(fd, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_eq(r.status, 408);
    cr_assert(has(&r, "\r\nConnection: close\r\n"));
    cr_assert(cl_eof(fd));
    cr_assert_lt(now_s() - t0, 2.5); /* 0.3 s plus the 2 s linger at most */
    cr_assert_geq(now_s() - t0, 0.25);
    close(fd);
    /* Trickling headers do not reset the deadline: a header line every
     * 50 ms for up to 3 s, and the 408 must come long before that. */
    fd = cl_connect();
    t0 = now_s();
    cl_puts(fd, "GET /hello HTTP/1.1\r\n");
    for (int i = 0; i < 60; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};

        if (poll(&p, 1, 50) > 0)
            break;
        send(fd, "X: y\r\n", 6, MSG_NOSIGNAL);
    }
    cr_assert_lt(now_s() - t0, 1.5);
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_eq(r.status, 408);
    close(fd);
    /* A body that never ends: 408 after request_timeout_ms. */
    fd = cl_connect();
    t0 = now_s();
    cl_puts(fd, "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nab");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    cr_assert_eq(r.status, 408);
    cr_assert_geq(now_s() - t0, 0.55);
    cr_assert_lt(now_s() - t0, 1.5);
    close(fd);
    /* Silent and idle connections are closed without a word. */
    fd = cl_connect();
    t0 = now_s();
    cr_assert(cl_eof(fd));
    cr_assert_lt(now_s() - t0, 2.0);
    close(fd);
    fd = cl_connect();
    cl_puts(fd, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(fd, &r, 0), 0);
    t0 = now_s();
    cr_assert(cl_eof(fd));
    cr_assert_geq(now_s() - t0, 0.35);
    cr_assert_lt(now_s() - t0, 2.0);
    close(fd);
    stop();
}

Test(http, too_many_connections_503)
{
    struct resp r;
    int a, b, c;

    start(&small);
    a = cl_connect();
    b = cl_connect();
    /* Make sure both are accepted and served before the third. */
    cl_puts(a, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(a, &r, 0), 0);
    cl_puts(b, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(b, &r, 0), 0);
    c = cl_connect();
    cl_puts(c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(c, &r, 0), 0);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.body, "503 Service Unavailable\n");
    cr_assert(has(&r, "\r\nConnection: close\r\n"));
    cr_assert(cl_eof(c));
    close(c);
    /* Once one goes, a new one is served. */
    close(a);
    usleep(100 * 1000);
    c = cl_connect();
    cl_puts(c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    cr_assert_eq(cl_resp(c, &r, 0), 0);
    cr_assert_eq(r.status, 200);
    close(c);
    close(b);
    stop();
}

Test(http, start_errors)
{
    uv_loop_t loop;
    struct http_server *srv = NULL, *srv2 = NULL;

    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(http_start(&loop, "not an address", 0, NULL, &srv), -KITH_EINVAL);
    cr_assert_eq(http_start(&loop, NULL, 0, NULL, &srv), 0);
    cr_assert_eq(http_start(&loop, "127.0.0.1", http_port(srv), NULL, &srv2), UV_EADDRINUSE);
    cr_assert_eq(http_conns(srv), 0);
    http_stop(srv);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

/* ---- the parser alone ---- */

Test(http_parse, split_anywhere)
{
    static const char req[] = "POST /a/b?x=1&y=%20 HTTP/1.1\r\nHost: h.local\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\n"
                              "Cookie:  k=v  \r\nOrigin: http://h.local\r\n"
                              "Content-Length: 7\r\n\r\nname=Jo";
    size_t n = sizeof(req) - 1;

    for (size_t cut = 0; cut <= n; cut++) {
        struct http_parse ps;
        size_t used;
        int r;

        cr_assert_eq(http_parse_init(&ps, NULL), 0);
        r = http_parse_feed(&ps, req, cut, &used);
        if (cut < n) {
            cr_assert_eq(r, 0);
            cr_assert_eq(used, cut);
            r = http_parse_feed(&ps, req + cut, n - cut, &used);
            cr_assert_eq(used, n - cut);
        }
        cr_assert_eq(r, 1, "cut %zu", cut);
        cr_assert_eq(ps.req.method, HTTP_M_POST);
        cr_assert_str_eq(ps.req.path, "/a/b");
        cr_assert_str_eq(ps.req.query_raw, "x=1&y=%20");
        cr_assert_str_eq(form_get(&ps.req.query, "y"), " ");
        cr_assert_str_eq(ps.req.host, "h.local");
        cr_assert_str_eq(ps.req.cookie, "k=v");
        cr_assert_str_eq(ps.req.origin, "http://h.local");
        cr_assert_null(ps.req.sec_fetch_site);
        cr_assert_str_eq(ps.req.body, "name=Jo");
        cr_assert_str_eq(form_get(&ps.req.form, "name"), "Jo");
        cr_assert_eq(ps.req.keep_alive, 1);
        http_parse_free(&ps);
    }
}

Test(http_parse, pipelined_stop_after_one)
{
    static const char two[] =
        "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http_parse ps;
    size_t used, used2;

    cr_assert_eq(http_parse_init(&ps, NULL), 0);
    cr_assert_eq(http_parse_feed(&ps, two, sizeof(two) - 1, &used), 1);
    cr_assert_eq(used, (sizeof(two) - 1) / 2);
    cr_assert_str_eq(ps.req.path, "/1");
    /* Until next, it stays done and takes nothing. */
    cr_assert_eq(http_parse_feed(&ps, two + used, sizeof(two) - 1 - used, &used2), 1);
    cr_assert_eq(used2, 0);
    http_parse_next(&ps);
    cr_assert_eq(ps.state, HTTP_PS_IDLE);
    cr_assert_eq(http_parse_feed(&ps, two + used, sizeof(two) - 1 - used, &used2), 1);
    cr_assert_eq(used2, used);
    cr_assert_str_eq(ps.req.path, "/2");
    cr_assert_eq(ps.req.method, HTTP_M_GET);
    cr_assert_str_eq(ps.req.body, "");
    http_parse_free(&ps);
}

Test(http_parse, errors_and_states)
{
    struct http_limits lim = {.url_max = 8};
    struct http_parse ps;
    size_t used;

    cr_assert_eq(http_parse_init(&ps, &lim), 0);
    cr_assert_eq(http_parse_feed(&ps, "GET /0123456789", 15, &used), -KITH_EREQUEST);
    cr_assert_eq(ps.status, 414);
    cr_assert_eq(ps.state, HTTP_PS_ERROR);
    cr_assert_eq(http_parse_feed(&ps, "x", 1, &used), -KITH_EREQUEST);
    cr_assert_eq(used, 0);
    http_parse_free(&ps);

    cr_assert_eq(http_parse_init(&ps, NULL), 0);
    cr_assert_eq(http_parse_feed(&ps, "\r\n", 2, &used), 0);
    cr_assert_eq(ps.state, HTTP_PS_IDLE);
    {
        static const char put[] = "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n";

        cr_assert_eq(http_parse_feed(&ps, put, strlen(put), &used), 0);
    }
    cr_assert_eq(ps.state, HTTP_PS_BODY);
    cr_assert_eq(http_parse_feed(&ps, "ok", 2, &used), 1);
    cr_assert_eq(ps.req.method, HTTP_M_OTHER);
    cr_assert_str_eq(ps.req.method_name, "PUT");
    http_parse_free(&ps);

    /* The path is kept as sent: static files refuse '%' themselves. */
    cr_assert_eq(http_parse_init(&ps, NULL), 0);
    {
        static const char pct[] = "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n";

        cr_assert_eq(http_parse_feed(&ps, pct, strlen(pct), &used), 1);
    }
    cr_assert_str_eq(ps.req.path, "/%zz");
    http_parse_free(&ps);
    /* ...but a query must decode. */
    cr_assert_eq(http_parse_init(&ps, NULL), 0);
    {
        static const char q[] = "GET /?a=%zz HTTP/1.1\r\nHost: x\r\n\r\n";

        cr_assert_eq(http_parse_feed(&ps, q, strlen(q), &used), -KITH_EREQUEST);
    }
    cr_assert_eq(ps.status, 400);
    http_parse_free(&ps);
}

Test(http_parse, host_allowed)
{
    cr_assert(http_host_allowed("127.0.0.1", NULL));
    cr_assert(http_host_allowed("192.168.1.20:8080", NULL));
    cr_assert(http_host_allowed("[fe80::1]:80", NULL));
    cr_assert(http_host_allowed("LocalHost", NULL));
    cr_assert(http_host_allowed("kith.local:8080", NULL));
    cr_assert(http_host_allowed("pi.lan", "pi.lan"));
    cr_assert_not(http_host_allowed("pi.lan", NULL));
    cr_assert_not(http_host_allowed("evil.example", "pi.lan"));
    cr_assert_not(http_host_allowed("1.2.3.4.evil.example", NULL));
    cr_assert_not(http_host_allowed(".local", NULL));
    cr_assert_not(http_host_allowed("127.0.0.1:80x", NULL));
    cr_assert_not(http_host_allowed("[::1]x", NULL));
    cr_assert_not(http_host_allowed("", NULL));
    cr_assert_not(http_host_allowed(NULL, NULL));
}
