/*
 * http_internal: what http.c (connections) and http_resp.c (the response
 * builder) share. Not for pages: they use http.h.
 */
#ifndef KITH_HTTP_INTERNAL_H
#define KITH_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define HTTP_TYPE_MAX 128
#define HTTP_RESP_HEADERS_MAX 8192 /* bytes of extra header lines a handler may add */

struct http_conn;
struct http_server;

struct http_response {
    int status;
    char type[HTTP_TYPE_MAX];
    char *headers; /* extra "Name: value\r\n" lines */
    size_t hlen, hcap;
    char *body;
    size_t blen, bcap;
    int cache_public;
    uint32_t max_age;
    int close;              /* Connection: close after this one */
    int head_only;          /* the request was HEAD: send no body */
    int keep_alive;         /* the request allowed keep-alive */
    struct http_conn *conn; /* NULL once the connection has gone */
    struct http_server *srv;
};

/* A new response with the defaults (200, text/html, no-store). NULL if out
 * of memory. */
struct http_response *http_resp_new(void);

/* Free r and everything it holds. NULL is fine. */
void http_resp_free(struct http_response *r);

/*
 * The status line and headers of r, ending with the empty line, in a new
 * string (*out, *out_len; the caller frees). keep_alive decides the
 * Connection header. Returns 0 or -ENOMEM.
 */
int http_resp_head(const struct http_response *r, int keep_alive, char **out, size_t *out_len);

#endif
