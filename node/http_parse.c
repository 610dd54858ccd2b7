/*
 * http_parse: one HTTP/1.1 request at a time out of a byte stream, over
 * http-parser, with the server's limits (see http.h). Pure: no I/O, so the
 * fuzzer runs exactly this.
 *
 * It keeps only what pages need: the target, seven headers (Host, Cookie,
 * Content-Type, Origin, Sec-Fetch-Site, If-None-Match, Expect) and the
 * body. Every other header is counted against the limits and dropped.
 * After a whole request the parser pauses, so bytes of a pipelined request
 * are left to the caller until http_parse_next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "http.h"
#include "kith/error.h"

enum { H_HOST, H_COOKIE, H_CTYPE, H_ORIGIN, H_SFS, H_INM, H_EXPECT, H_N };

static const char *const wanted[H_N] = {"host",           "cookie",        "content-type", "origin",
                                        "sec-fetch-site", "if-none-match", "expect"};

#define BODY_KEEP 65536 /* a body buffer larger than this is freed between requests */

static int fail(struct http_parse *ps, int status)
{
    ps->state = HTTP_PS_ERROR;
    ps->status = status;
    return -1;
}

static int on_message_begin(http_parser *p)
{
    struct http_parse *ps = p->data;

    ps->state = HTTP_PS_HEADERS;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct http_parse *ps = p->data;

    if (len > ps->lim.url_max - ps->url_len)
        return fail(ps, 414);
    memcpy(ps->url + ps->url_len, at, len);
    ps->url_len += len;
    return 0;
}

static int hbuf_put(struct http_parse *ps, const char *at, size_t len)
{
    /* Callers keep header_bytes <= header_max, and hbuf has room for that
     * plus a NUL per value and one joined Cookie: this cannot overflow. */
    if (len > ps->hbuf_cap - ps->hbuf_len)
        return -1;
    memcpy(ps->hbuf + ps->hbuf_len, at, len);
    ps->hbuf_len += len;
    return 0;
}

/* The value of the wanted header being read has ended. */
static void end_value(struct http_parse *ps)
{
    if (ps->in_value && ps->cur >= 0) {
        while (ps->hbuf_len > 0 &&
               (ps->hbuf[ps->hbuf_len - 1] == ' ' || ps->hbuf[ps->hbuf_len - 1] == '\t'))
            ps->hbuf_len--;
        ps->hbuf[ps->hbuf_len++] = '\0';
    }
    ps->cur = -1;
}

static int count_bytes(struct http_parse *ps, size_t len)
{
    if (len > ps->lim.header_max - ps->header_bytes)
        return fail(ps, 431);
    ps->header_bytes += len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_parse *ps = p->data;

    if (count_bytes(ps, len) < 0)
        return -1;
    if (ps->in_value || ps->header_count == 0) { /* a new header line starts */
        end_value(ps);
        ps->in_value = 0;
        ps->name_len = 0;
        if (++ps->header_count > ps->lim.headers_count_max)
            return fail(ps, 431);
    }
    for (size_t i = 0; i < len; i++) {
        char c = at[i];

        if (ps->name_len < sizeof(ps->name) - 1)
            ps->name[ps->name_len] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        ps->name_len++;
    }
    return 0;
}

static int begin_value(struct http_parse *ps)
{
    ps->cur = -1;
    if (ps->name_len >= sizeof(ps->name))
        return 0; /* longer than any wanted name */
    ps->name[ps->name_len] = '\0';
    for (int i = 0; i < H_N; i++) {
        if (strcmp(ps->name, wanted[i]) != 0)
            continue;
        if (i == H_COOKIE) {
            if (ps->n_cookie == sizeof(ps->cookie_off) / sizeof(ps->cookie_off[0]))
                return fail(ps, 431);
            ps->cookie_off[ps->n_cookie++] = ps->hbuf_len;
        } else if (ps->hoff[i] != 0) {
            return fail(ps, 400); /* two Hosts (or two Origins...): ambiguous */
        }
        ps->hoff[i] = ps->hbuf_len + 1;
        ps->cur = i;
        break;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_parse *ps = p->data;

    if (count_bytes(ps, len) < 0)
        return -1;
    if (!ps->in_value) {
        ps->in_value = 1;
        if (begin_value(ps) < 0)
            return -1;
    }
    if (ps->cur >= 0 && hbuf_put(ps, at, len) < 0)
        return fail(ps, 431);
    return 0;
}

/* Several Cookie lines become one value, as RFC 6265 has it. */
static int join_cookies(struct http_parse *ps)
{
    size_t start = ps->hbuf_len;

    if (ps->n_cookie < 2)
        return 0;
    for (size_t i = 0; i < ps->n_cookie; i++) {
        const char *v = ps->hbuf + ps->cookie_off[i];

        if ((i > 0 && hbuf_put(ps, "; ", 2) < 0) || hbuf_put(ps, v, strlen(v)) < 0)
            return fail(ps, 431);
    }
    if (hbuf_put(ps, "", 1) < 0)
        return fail(ps, 431);
    ps->hoff[H_COOKIE] = start + 1;
    return 0;
}

static const char *header(const struct http_parse *ps, int i)
{
    return ps->hoff[i] != 0 ? ps->hbuf + ps->hoff[i] - 1 : NULL;
}

static int on_headers_complete(http_parser *p)
{
    struct http_parse *ps = p->data;
    const char *expect;

    end_value(ps);
    ps->in_value = 0;
    if (join_cookies(ps) < 0)
        return -1;
    /* HTTP/1.1 requires exactly one Host (RFC 9112, 3.2). */
    if (p->http_major != 1 || (p->http_minor >= 1 && header(ps, H_HOST) == NULL))
        return fail(ps, 400);
    expect = header(ps, H_EXPECT);
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0)
            return fail(ps, 400);
        ps->req.expect_continue = 1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > ps->lim.body_max)
        return fail(ps, 413);
    ps->state = HTTP_PS_BODY;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_parse *ps = p->data;

    if (len > ps->lim.body_max - ps->body_len)
        return fail(ps, 413);
    if (ps->body_len + len + 1 > ps->body_cap) {
        size_t cap = ps->body_cap < 1024 ? 1024 : ps->body_cap;
        char *nb;

        while (cap < ps->body_len + len + 1)
            cap *= 2;
        if (cap > ps->lim.body_max + 1)
            cap = ps->lim.body_max + 1;
        /* Not realloc: the old block may hold a passphrase to wipe. */
        nb = malloc(cap);
        if (nb == NULL)
            return fail(ps, 500);
        if (ps->body != NULL) {
            memcpy(nb, ps->body, ps->body_len);
            sodium_memzero(ps->body, ps->body_cap);
            free(ps->body);
        }
        ps->body = nb;
        ps->body_cap = cap;
    }
    memcpy(ps->body + ps->body_len, at, len);
    ps->body_len += len;
    return 0;
}

static int method_bit(unsigned m)
{
    switch (m) {
    case HTTP_GET:
        return HTTP_M_GET;
    case HTTP_HEAD:
        return HTTP_M_HEAD;
    case HTTP_POST:
        return HTTP_M_POST;
    default:
        return HTTP_M_OTHER;
    }
}

static int is_form_type(const char *t)
{
    static const char form_type[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form_type) - 1;

    if (t == NULL || strncasecmp(t, form_type, n) != 0)
        return 0;
    return t[n] == '\0' || t[n] == ';' || t[n] == ' ' || t[n] == '\t';
}

static int on_message_complete(http_parser *p)
{
    struct http_parse *ps = p->data;
    struct http_request *rq = &ps->req;
    char *q;

    ps->url[ps->url_len] = '\0';
    /* Origin-form only ("/path?query"); no absolute-form, no "*". */
    if (ps->url_len == 0 || ps->url[0] != '/')
        return fail(ps, 400);
    for (size_t i = 0; i < ps->url_len; i++) {
        unsigned char c = (unsigned char)ps->url[i];

        if (c <= 0x20 || c >= 0x7f)
            return fail(ps, 400);
    }
    q = strchr(ps->url, '#');
    if (q != NULL)
        *q = '\0';
    q = strchr(ps->url, '?');
    if (q != NULL)
        *q++ = '\0';
    rq->path = ps->url;
    rq->query_raw = q != NULL ? q : "";
    if (form_parse(rq->query_raw, strlen(rq->query_raw), 0, &rq->query) < 0)
        return fail(ps, 400);
    rq->method = method_bit(p->method);
    rq->method_name = http_method_str((enum http_method)p->method);
    rq->host = header(ps, H_HOST);
    rq->cookie = header(ps, H_COOKIE);
    rq->content_type = header(ps, H_CTYPE);
    rq->origin = header(ps, H_ORIGIN);
    rq->sec_fetch_site = header(ps, H_SFS);
    rq->if_none_match = header(ps, H_INM);
    if (ps->body != NULL) {
        ps->body[ps->body_len] = '\0';
        rq->body = ps->body;
    } else {
        rq->body = "";
    }
    rq->body_len = ps->body_len;
    if (is_form_type(rq->content_type) && form_parse(rq->body, rq->body_len, 0, &rq->form) < 0)
        return fail(ps, 400);
    rq->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    rq->http_minor = p->http_minor;
    rq->peer = "";
    ps->state = HTTP_PS_DONE;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void reset(struct http_parse *ps)
{
    http_parser_init(&ps->p, HTTP_REQUEST);
    ps->p.data = ps;
    ps->state = HTTP_PS_IDLE;
    ps->status = 0;
    ps->url_len = 0;
    ps->hbuf_len = 0;
    ps->header_bytes = 0;
    ps->header_count = 0;
    ps->name_len = 0;
    ps->in_value = 0;
    ps->cur = -1;
    memset(ps->hoff, 0, sizeof(ps->hoff));
    ps->n_cookie = 0;
    form_free(&ps->req.query);
    form_free(&ps->req.form);
    memset(&ps->req, 0, sizeof(ps->req));
    if (ps->body != NULL)
        sodium_memzero(ps->body, ps->body_len + (ps->body_len < ps->body_cap));
    ps->body_len = 0;
    if (ps->body_cap > BODY_KEEP) {
        free(ps->body);
        ps->body = NULL;
        ps->body_cap = 0;
    }
}

int http_parse_init(struct http_parse *ps, const struct http_limits *lim)
{
    memset(ps, 0, sizeof(*ps));
    if (lim != NULL)
        ps->lim = *lim;
    if (ps->lim.url_max == 0)
        ps->lim.url_max = HTTP_URL_MAX;
    if (ps->lim.header_max == 0)
        ps->lim.header_max = HTTP_HEADER_MAX;
    if (ps->lim.headers_count_max == 0)
        ps->lim.headers_count_max = HTTP_HEADERS_COUNT_MAX;
    if (ps->lim.body_max == 0)
        ps->lim.body_max = HTTP_BODY_MAX;
    ps->url = malloc(ps->lim.url_max + 1);
    /* Values, a NUL each, and the Cookie lines joined once more. */
    ps->hbuf_cap = 2 * ps->lim.header_max + (size_t)(2 * H_N + 32);
    ps->hbuf = malloc(ps->hbuf_cap);
    if (ps->url == NULL || ps->hbuf == NULL) {
        free(ps->url);
        free(ps->hbuf);
        memset(ps, 0, sizeof(*ps));
        return -ENOMEM;
    }
    reset(ps);
    return 0;
}

int http_parse_feed(struct http_parse *ps, const char *data, size_t n, size_t *used)
{
    size_t got;

    *used = 0;
    if (ps->state == HTTP_PS_DONE)
        return 1;
    if (ps->state == HTTP_PS_ERROR)
        return -KITH_EREQUEST;
    if (n == 0)
        return 0;
    got = http_parser_execute(&ps->p, &settings, data, n);
    *used = got;
    if (ps->state == HTTP_PS_DONE)
        return 1;
    if (ps->state == HTTP_PS_ERROR)
        return -KITH_EREQUEST;
    if (HTTP_PARSER_ERRNO(&ps->p) != HPE_OK || ps->p.upgrade || got != n) {
        /* An upgrade whose message did not end (a body after it) is a
         * protocol switch we do not speak. */
        fail(ps, HTTP_PARSER_ERRNO(&ps->p) == HPE_HEADER_OVERFLOW ? 431 : 400);
        return -KITH_EREQUEST;
    }
    return 0;
}

void http_parse_next(struct http_parse *ps)
{
    reset(ps);
}

void http_parse_free(struct http_parse *ps)
{
    reset(ps);
    if (ps->body != NULL)
        sodium_memzero(ps->body, ps->body_cap);
    free(ps->body);
    if (ps->hbuf != NULL)
        sodium_memzero(ps->hbuf, ps->hbuf_cap); /* cookies hold session ids */
    free(ps->hbuf);
    free(ps->url);
    memset(ps, 0, sizeof(*ps));
}

static int is_ipv4(const char *s, size_t n)
{
    int dots = 0, digits = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (digits == 0)
                return 0;
            dots++;
            digits = 0;
        } else if (s[i] >= '0' && s[i] <= '9') {
            if (++digits > 3)
                return 0;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits > 0;
}

int http_host_allowed(const char *host, const char *extra)
{
    size_t n;
    const char *colon;

    if (host == NULL || host[0] == '\0' || strlen(host) > HTTP_HOST_MAX)
        return 0;
    if (host[0] == '[') { /* an IPv6 literal */
        const char *end = strchr(host, ']');

        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return 0;
        for (const char *c = host + 1; c < end; c++)
            if (strchr("0123456789abcdefABCDEF:.%", *c) == NULL)
                return 0;
        return 1;
    }
    colon = strchr(host, ':');
    n = colon != NULL ? (size_t)(colon - host) : strlen(host);
    if (colon != NULL)
        for (const char *c = colon + 1; *c != '\0'; c++)
            if (*c < '0' || *c > '9')
                return 0;
    if (is_ipv4(host, n))
        return 1;
    if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
        return 1;
    if (n > 6 && strncasecmp(host + n - 6, ".local", 6) == 0)
        return 1;
    return extra != NULL && strlen(extra) == n && strncasecmp(host, extra, n) == 0;
}
