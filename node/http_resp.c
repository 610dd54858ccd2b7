/*
 * http_resp: the response builder page handlers fill (see http.h), and its
 * serialisation with the headers every response carries. The security
 * headers live here, in one string, so that no page can leave them out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"
#include "kith/error.h"

/* No script at all, styles and images only from this node, forms only to
 * this node, never framed. */
#define SECURITY_HEADERS                                                                           \
    "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self' data:; "        \
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n"                              \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "Referrer-Policy: no-referrer\r\n"                                                             \
    "X-Frame-Options: DENY\r\n"                                                                    \
    "Cross-Origin-Opener-Policy: same-origin\r\n"                                                  \
    "Cross-Origin-Resource-Policy: same-origin\r\n"

#define DEFAULT_TYPE "text/html; charset=utf-8"

/* Headers the server writes itself. */
static const char *const reserved[] = {"content-length",
                                       "transfer-encoding",
                                       "connection",
                                       "content-type",
                                       "cache-control",
                                       "content-security-policy",
                                       "x-content-type-options",
                                       "referrer-policy",
                                       "x-frame-options",
                                       "cross-origin-opener-policy",
                                       "cross-origin-resource-policy"};

const char *http_reason(int status)
{
    switch (status) {
#define XX(num, name, string)                                                                      \
    case num:                                                                                      \
        return #string;
        HTTP_STATUS_MAP(XX)
#undef XX
    default:
        return "Unknown";
    }
}

struct http_response *http_resp_new(void)
{
    struct http_response *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->status = 200;
    memcpy(r->type, DEFAULT_TYPE, sizeof(DEFAULT_TYPE));
    return r;
}

void http_resp_free(struct http_response *r)
{
    if (r == NULL)
        return;
    free(r->headers);
    free(r->body);
    free(r);
}

void http_resp_status(struct http_response *r, int status)
{
    r->status = status;
}

static int grow(char **buf, size_t *cap, size_t need)
{
    size_t c = *cap < 256 ? 256 : *cap;
    char *p;

    if (need <= *cap)
        return 0;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -ENOMEM;
        c *= 2;
    }
    p = realloc(*buf, c);
    if (p == NULL)
        return -ENOMEM;
    *buf = p;
    *cap = c;
    return 0;
}

static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

int http_resp_header(struct http_response *r, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    int e;

    if (nl == 0)
        return -KITH_EINVAL;
    for (size_t i = 0; i < nl; i++)
        if (!is_tchar(name[i]))
            return -KITH_EINVAL;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return -KITH_EINVAL;
    if (!printable(value))
        return -KITH_EINVAL;
    if (r->hlen + nl + vl + 4 > HTTP_RESP_HEADERS_MAX)
        return -KITH_EINVAL;
    e = grow(&r->headers, &r->hcap, r->hlen + nl + vl + 4);
    if (e < 0)
        return e;
    memcpy(r->headers + r->hlen, name, nl);
    memcpy(r->headers + r->hlen + nl, ": ", 2);
    memcpy(r->headers + r->hlen + nl + 2, value, vl);
    memcpy(r->headers + r->hlen + nl + 2 + vl, "\r\n", 2);
    r->hlen += nl + vl + 4;
    return 0;
}

int http_resp_type(struct http_response *r, const char *type)
{
    size_t n = strlen(type);

    if (n == 0 || n >= sizeof(r->type) || !printable(type))
        return -KITH_EINVAL;
    memcpy(r->type, type, n + 1);
    return 0;
}

int http_resp_write(struct http_response *r, const void *data, size_t n)
{
    int e;

    if (n == 0)
        return 0;
    if (n > SIZE_MAX - r->blen)
        return -ENOMEM;
    e = grow(&r->body, &r->bcap, r->blen + n);
    if (e < 0)
        return e;
    memcpy(r->body + r->blen, data, n);
    r->blen += n;
    return 0;
}

int http_resp_printf(struct http_response *r, const char *fmt, ...)
{
    va_list ap;
    int n, e;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -KITH_EINVAL;
    /* +1: vsnprintf writes a NUL, which is then not counted. */
    e = grow(&r->body, &r->bcap, r->blen + (size_t)n + 1);
    if (e < 0)
        return e;
    va_start(ap, fmt);
    vsnprintf(r->body + r->blen, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->blen += (size_t)n;
    return 0;
}

void http_resp_cache(struct http_response *r, uint32_t max_age_s)
{
    r->cache_public = 1;
    r->max_age = max_age_s;
}

int http_resp_redirect(struct http_response *r, const char *location)
{
    /* Only paths on this node: "//host" and "/\host" would leave it. */
    if (location[0] != '/' || location[1] == '/' || location[1] == '\\' || !printable(location))
        return -KITH_EINVAL;
    r->status = 303;
    r->blen = 0;
    return http_resp_header(r, "Location", location);
}

int http_resp_error(struct http_response *r, int status)
{
    r->status = status;
    r->blen = 0;
    r->hlen = 0;
    r->cache_public = 0;
    memcpy(r->type, "text/plain; charset=utf-8", sizeof("text/plain; charset=utf-8"));
    return http_resp_printf(r, "%d %s\n", status, http_reason(status));
}

void http_resp_close(struct http_response *r)
{
    r->close = 1;
}

int http_resp_head(const struct http_response *r, int keep_alive, char **out, size_t *out_len)
{
    char cache[64];
    char *head;
    int n;

    if (r->cache_public)
        snprintf(cache, sizeof(cache), "public, max-age=%lu", (unsigned long)r->max_age);
    else
        memcpy(cache, "no-store", sizeof("no-store"));
    n = snprintf(NULL, 0,
                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                 "Cache-Control: %s\r\n" SECURITY_HEADERS "%.*sConnection: %s\r\n\r\n",
                 r->status, http_reason(r->status), r->type, r->blen, cache, (int)r->hlen,
                 r->headers != NULL ? r->headers : "", keep_alive ? "keep-alive" : "close");
    if (n < 0)
        return -ENOMEM;
    head = malloc((size_t)n + 1);
    if (head == NULL)
        return -ENOMEM;
    snprintf(head, (size_t)n + 1,
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
             "Cache-Control: %s\r\n" SECURITY_HEADERS "%.*sConnection: %s\r\n\r\n",
             r->status, http_reason(r->status), r->type, r->blen, cache, (int)r->hlen,
             r->headers != NULL ? r->headers : "", keep_alive ? "keep-alive" : "close");
    *out = head;
    *out_len = (size_t)n;
    return 0;
}
