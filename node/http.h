/*
 * http: the web page's HTTP/1.1 server on the libuv loop. It owns the
 * listening socket, every connection (a TCP handle and one timer each),
 * the request parser state and the responses being written. Pages are not
 * here: they are route handlers that read a struct http_request and fill a
 * struct http_response.
 *
 * What the server enforces for every page, so that no handler can forget:
 * - limits on URL length (414), header bytes and header count (431), body
 *   size (413), the time to send a request's headers and the whole request
 *   (408, slow clients cannot hold a connection), idle keep-alive time, and
 *   the number of connections (503 beyond it);
 * - one request at a time per connection: a pipelined request waits, fully
 *   parsed in order, until the response before it is written;
 * - security headers on every response (a strict Content-Security-Policy,
 *   nosniff, no-referrer, no framing), `Cache-Control: no-store` unless a
 *   handler marks a response as a public static asset;
 * - a Host header that names this node (an IP literal, "localhost", a
 *   ".local" name or the configured host name), against DNS rebinding;
 * - POST and every other unsafe method refused (403) when the browser says
 *   it comes from another site (Sec-Fetch-Site, else Origin): CSRF tokens
 *   are the second wall, not the only one.
 *
 * The request parser wrapper (http_parse_*, in http_parse.c) is pure code
 * over http-parser, so tests and the fuzzer drive exactly what the server
 * runs. Everything runs on the loop thread.
 */
#ifndef KITH_HTTP_H
#define KITH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <uv.h>

#include "form.h"

/* Defaults for struct http_limits (0 in a field means its default). */
#define HTTP_URL_MAX 4096
#define HTTP_HEADER_MAX 16384 /* bytes of header names and values together */
#define HTTP_HEADERS_COUNT_MAX 64
#define HTTP_BODY_MAX 262144 /* forms; 256 KiB */
#define HTTP_HEADER_TIMEOUT_MS 10000
#define HTTP_REQUEST_TIMEOUT_MS 30000
#define HTTP_IDLE_TIMEOUT_MS 60000
#define HTTP_MAX_CONNS 64
#define HTTP_HOST_MAX 255

/* Methods a route can take (a bit mask). A GET route answers HEAD too. */
#define HTTP_M_GET 1
#define HTTP_M_HEAD 2
#define HTTP_M_POST 4
#define HTTP_M_OTHER 8 /* any other method: never routed (405) */

/* A handler that will answer later (see http_resp_finish) returns this. */
#define HTTP_DEFER 1

struct http_limits {
    size_t url_max;              /* request target bytes */
    size_t header_max;           /* header names + values, bytes */
    size_t headers_count_max;    /* header lines */
    size_t body_max;             /* body bytes (after de-chunking) */
    uint32_t header_timeout_ms;  /* first byte of a request to the end of its headers */
    uint32_t request_timeout_ms; /* first byte of a request to its last */
    uint32_t idle_timeout_ms;    /* keep-alive wait for the next request */
    unsigned max_conns;          /* open connections served; the rest get 503 */
};

struct http_request {
    int method;              /* HTTP_M_* */
    const char *method_name; /* "GET", ... */
    /* The path as sent, not percent-decoded (static files refuse '%'),
     * starting with '/'; NUL-terminated, no query. */
    const char *path;
    const char *query_raw; /* the text after '?', "" if none */
    struct form query;     /* the query decoded */
    /* The headers pages need, NUL-terminated, or NULL when absent.
     * Several Cookie lines are joined with "; ". */
    const char *host;
    const char *cookie;
    const char *content_type;
    const char *origin;
    const char *sec_fetch_site;
    const char *if_none_match;
    /* The body (de-chunked), NUL-terminated, "" when none. */
    const char *body;
    size_t body_len;
    /* The body decoded when Content-Type is
     * application/x-www-form-urlencoded; empty otherwise. */
    struct form form;
    int keep_alive;      /* the client allows another request after this one */
    int expect_continue; /* "Expect: 100-continue" */
    unsigned http_minor; /* 1.0 or 1.1 */
    const char *peer;    /* the client's address ("127.0.0.1", "::1"); "" in the parser */
};

/* ---- request parser (pure; http_parse.c) ---- */

enum http_parse_state {
    HTTP_PS_IDLE,    /* no byte of a request yet */
    HTTP_PS_HEADERS, /* inside the request line or headers */
    HTTP_PS_BODY,    /* headers done, body coming */
    HTTP_PS_DONE,    /* a whole request is in req */
    HTTP_PS_ERROR    /* status says what to answer; the connection must close */
};

struct http_parse {
    http_parser p;
    struct http_limits lim;
    enum http_parse_state state;
    int status; /* on HTTP_PS_ERROR: 400, 413, 414 or 431 */
    char *url;  /* url_max + 1 bytes */
    size_t url_len;
    char *hbuf; /* header values pages need, NUL after each */
    size_t hbuf_len, hbuf_cap;
    size_t header_bytes, header_count;
    char name[32]; /* the header name being read, lower case */
    size_t name_len;
    int in_value;         /* the last callback was a header value */
    int cur;              /* index of the wanted header being read, -1 if none */
    size_t hoff[7];       /* offsets into hbuf of the wanted headers (+1; 0 = absent) */
    size_t cookie_off[8]; /* each Cookie line, joined when the headers end */
    size_t n_cookie;
    char *body;
    size_t body_len, body_cap;
    struct http_request req;
};

/* Start a parser with limits lim (NULL or 0 fields: defaults). Returns 0 or
 * -ENOMEM. On success free it with http_parse_free. */
int http_parse_init(struct http_parse *ps, const struct http_limits *lim);

/*
 * Feed n bytes. Parsing stops after one whole request: *used says how many
 * bytes were taken (the rest belong to the next, pipelined, request).
 * Returns 0 (all n taken, request not complete yet), 1 (a request is
 * complete: ps->req is valid until http_parse_next or http_parse_free), or
 * -KITH_EREQUEST: the request is refused and ps->status is the status to
 * answer (400, 413, 414, 431) before closing. Feeding a parser that is
 * DONE or in ERROR returns the same again without taking bytes.
 */
int http_parse_feed(struct http_parse *ps, const char *data, size_t n, size_t *used);

/* Make ready for the next request on the same connection (wipes the body). */
void http_parse_next(struct http_parse *ps);

/* Wipe (bodies hold passphrases) and free. */
void http_parse_free(struct http_parse *ps);

/* Is host (a Host header value) one this node answers to? An IPv4 or
 * bracketed IPv6 literal, "localhost", a name ending ".local", or extra
 * (may be NULL), each with an optional ":port". Case is ignored. */
int http_host_allowed(const char *host, const char *extra);

/* ---- responses (http_resp.c) ---- */

struct http_response;

/* Set the status (default 200). */
void http_resp_status(struct http_response *r, int status);

/*
 * Add a header line. name must be a token and value printable ASCII
 * without CR/LF (checked; headers the server sets itself are refused).
 * Returns 0, -KITH_EINVAL or -ENOMEM.
 */
int http_resp_header(struct http_response *r, const char *name, const char *value);

/* Set Content-Type (default "text/html; charset=utf-8"); type is copied.
 * Returns 0 or -KITH_EINVAL (CR/LF or too long). */
int http_resp_type(struct http_response *r, const char *type);

/* Append n bytes to the body. Returns 0 or -ENOMEM. */
int http_resp_write(struct http_response *r, const void *data, size_t n);

/* Append formatted text to the body. Returns 0, -ENOMEM or -KITH_EINVAL. */
int http_resp_printf(struct http_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Mark the response a public static asset: Cache-Control: public,
 * max-age=max_age_s instead of no-store. */
void http_resp_cache(struct http_response *r, uint32_t max_age_s);

/*
 * 303 See Other to location, for POST-redirect-GET. location must be a
 * path on this node: starting with '/' but not "//" or "/\", printable
 * ASCII. Returns 0, -KITH_EINVAL (nothing changed) or -ENOMEM.
 */
int http_resp_redirect(struct http_response *r, const char *location);

/* Replace the response with the server's small plain-text page for status
 * (e.g. 403, 404, 500). Returns 0 or -ENOMEM. */
int http_resp_error(struct http_response *r, int status);

/* Close the connection after this response. */
void http_resp_close(struct http_response *r);

/*
 * Send a response whose handler returned HTTP_DEFER. Call once, on the loop
 * thread; after it r is gone. If the connection closed meanwhile (or the
 * server stopped), the response is dropped. The request passed to the
 * handler is NOT valid any more by then: copy what you need before
 * returning HTTP_DEFER.
 */
void http_resp_finish(struct http_response *r);

/* ---- server ---- */

/*
 * A handler answers one request by filling resp. It returns 0 (send resp
 * now), HTTP_DEFER (it will call http_resp_finish later), or a negative
 * error (the server answers 500). req lives only during the call.
 */
typedef int (*http_handler)(void *arg, const struct http_request *req, struct http_response *resp);

struct http_route {
    unsigned methods; /* HTTP_M_GET | HTTP_M_POST ... */
    const char *path; /* borrowed: must outlive the server */
    int prefix;       /* 1: paths starting with path; 0: exactly path */
    http_handler fn;
    void *arg;
};

struct http_config {
    struct http_limits lim;          /* 0 fields: defaults */
    const char *host_name;           /* another Host name to answer to, or NULL */
    const struct http_route *routes; /* tried in order; the first match wins; copied */
    size_t n_routes;
};

struct http_server;

/*
 * Listen on addr (an IPv4 or IPv6 literal; NULL = "127.0.0.1") and port
 * (0 = any: see http_port) and serve cfg's routes. Returns 0, -KITH_EINVAL
 * (bad address) or -errno from libuv (-EADDRINUSE, -EACCES...), -ENOMEM.
 * On error the listening handle (if any) is closing: run the loop before
 * uv_loop_close. On success *out is freed by http_stop.
 */
int http_start(uv_loop_t *loop, const char *addr, uint16_t port, const struct http_config *cfg,
               struct http_server **out);

/* The port the server listens on (useful after port 0). */
uint16_t http_port(const struct http_server *srv);

/* Open connections (served and being refused). */
unsigned http_conns(const struct http_server *srv);

/*
 * Stop accepting and close every connection. Handles close on the next loop
 * iterations; the server frees itself when the last handle has closed and
 * every deferred response has been finished. NULL is fine; call once.
 */
void http_stop(struct http_server *srv);

/* The reason phrase of status ("Not Found"), "Unknown" if none. */
const char *http_reason(int status);

#endif
