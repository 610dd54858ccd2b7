/*
 * fuzz_http: request parsing exactly as the web server runs it
 * (http_parse_* over http-parser, node/http_parse.c), with small limits so
 * that every limit is reached. The first input byte picks how the rest is
 * cut into reads; whole requests are checked and the parser moves on to
 * the pipelined next one, as a connection does. The parts of a request a
 * page looks at (Host, Cookie, the static path rules) are run too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "http.h"
#include "kith/error.h"
#include "webstatic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const struct http_request *rq, const struct http_limits *lim)
{
    char v[80];
    const char *type;

    if (rq->path == NULL || rq->path[0] != '/' || rq->query_raw == NULL || rq->body == NULL)
        abort();
    if (rq->body_len > lim->body_max || strlen(rq->body) > rq->body_len)
        abort();
    if (rq->method_name == NULL || rq->method == 0)
        abort();
    for (size_t i = 0; i < rq->query.n; i++)
        if (strlen(rq->query.fields[i].value) != rq->query.fields[i].value_len)
            abort();
    for (size_t i = 0; i < rq->form.n; i++)
        if (strlen(rq->form.fields[i].value) != rq->form.fields[i].value_len)
            abort();
    (void)http_host_allowed(rq->host, "kith.example");
    if (form_cookie_get(rq->cookie, "kith_session", v, sizeof(v)) == 0 && strlen(v) >= sizeof(v))
        abort();
    if (strncmp(rq->path, "/static/", 8) == 0 && webstatic_check(rq->path + 8, &type) == 0) {
        /* whatever passed must be harmless */
        if (strstr(rq->path + 8, "..") == rq->path + 8 || strstr(rq->path, "/.") != NULL ||
            strchr(rq->path, '%') != NULL || strchr(rq->path, '\\') != NULL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_limits lim = {
        .url_max = 256, .header_max = 1024, .headers_count_max = 16, .body_max = 2048};
    struct http_parse ps;
    size_t chunk, off = 0;
    int requests = 0;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] + 1;
    data++;
    size--;
    if (http_parse_init(&ps, &lim) < 0)
        return 0;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t used;
        int r = http_parse_feed(&ps, (const char *)data + off, n, &used);

        if (used > n)
            abort();
        off += used;
        if (r < 0) {
            if (ps.status != 400 && ps.status != 413 && ps.status != 414 && ps.status != 431 &&
                ps.status != 500)
                abort();
            break;
        }
        if (r == 1) {
            check_request(&ps.req, &lim);
            if (!ps.req.keep_alive || ++requests > 64)
                break;
            http_parse_next(&ps);
        }
    }
    http_parse_free(&ps);
    return 0;
}
