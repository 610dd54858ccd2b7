/*
 * webstatic: static files that cannot leave their directory (see
 * webstatic.h). The path rules are checked on the raw request path, before
 * any decoding, so there is no second interpretation of a path to get
 * wrong; the file system walk then refuses symbolic links by itself.
 *
 * Files are read whole on the loop thread: they are a few small assets on
 * local storage, and the page cache keeps them warm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kith/error.h"
#include "log.h"
#include "webstatic.h"

struct webstatic {
    int dirfd;
    char *prefix;
};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static int seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

int webstatic_check(const char *rel, const char **type)
{
    size_t n = strlen(rel), depth = 1;
    const char *dot;

    if (n == 0 || n > WEBSTATIC_PATH_MAX)
        return -KITH_EREQUEST;
    for (size_t i = 0; i < n; i++) {
        int seg_start = i == 0 || rel[i - 1] == '/';

        if (rel[i] == '/') {
            /* no leading slash (absolute), no empty segment, no trailing */
            if (seg_start || i == n - 1 || ++depth > WEBSTATIC_DEPTH_MAX)
                return -KITH_EREQUEST;
            continue;
        }
        if (!seg_char(rel[i]))
            return -KITH_EREQUEST; /* '%', '\\', ':', NUL-free by construction */
        if (seg_start && rel[i] == '.')
            return -KITH_EREQUEST; /* ".", "..", and hidden files */
    }
    dot = strrchr(rel, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return -KITH_ENOTFOUND;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0) {
            *type = types[i].type;
            return 0;
        }
    }
    return -KITH_ENOTFOUND;
}

int webstatic_open(const char *dir, const char *prefix, struct webstatic **out)
{
    struct webstatic *ws;
    size_t pl = strlen(prefix);
    int fd;

    if (pl == 0 || prefix[0] != '/' || prefix[pl - 1] != '/')
        return -KITH_EINVAL;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ws = calloc(1, sizeof(*ws));
    if (ws == NULL || (ws->prefix = strdup(prefix)) == NULL) {
        free(ws);
        close(fd);
        return -ENOMEM;
    }
    ws->dirfd = fd;
    *out = ws;
    return 0;
}

void webstatic_close(struct webstatic *ws)
{
    if (ws == NULL)
        return;
    close(ws->dirfd);
    free(ws->prefix);
    free(ws);
}

/* Open rel under dirfd one segment at a time, never following a link. */
static int open_beneath(int dirfd, const char *rel)
{
    char seg[WEBSTATIC_PATH_MAX + 1];
    int fd = dirfd;

    for (;;) {
        const char *slash = strchr(rel, '/');
        size_t n = slash != NULL ? (size_t)(slash - rel) : strlen(rel);
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
        int next;

        memcpy(seg, rel, n);
        seg[n] = '\0';
        if (slash != NULL)
            flags |= O_DIRECTORY;
        next = openat(fd, seg, flags);
        if (next < 0) {
            int e = errno;

            if (fd != dirfd)
                close(fd);
            /* ELOOP: a link; ENOTDIR: a file where a directory should be */
            return e == ENOENT || e == ELOOP || e == ENOTDIR ? -KITH_ENOTFOUND : -e;
        }
        if (fd != dirfd)
            close(fd);
        fd = next;
        if (slash == NULL)
            return fd;
        rel = slash + 1;
    }
}

int webstatic_read(struct webstatic *ws, const char *rel, char **data, size_t *len,
                   const char **type)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    int fd, r;

    r = webstatic_check(rel, type);
    if (r < 0)
        return r;
    fd = open_beneath(ws->dirfd, rel);
    if (fd < 0)
        return fd;
    if (fstat(fd, &sb) < 0) {
        r = -errno;
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        r = -KITH_ENOTFOUND;
        goto fail;
    }
    if (sb.st_size > WEBSTATIC_FILE_MAX) {
        r = -KITH_ETOOBIG;
        goto fail;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (buf == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            goto fail;
        }
        if (n == 0)
            break; /* the file shrank: serve what is there */
        got += (size_t)n;
    }
    close(fd);
    *data = buf;
    *len = got;
    return 0;
fail:
    free(buf);
    close(fd);
    return r;
}

int webstatic_handler(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct webstatic *ws = arg;
    size_t pl = strlen(ws->prefix);
    const char *type;
    char *data = NULL;
    size_t len = 0;
    int r;

    if (strncmp(req->path, ws->prefix, pl) != 0)
        return http_resp_error(resp, 404);
    r = webstatic_read(ws, req->path + pl, &data, &len, &type);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        if (r != -KITH_ENOTFOUND && r != -KITH_EREQUEST)
            log_warn("web.static_failed", "error=%s", kith_errname(r));
        return http_resp_error(resp, 404);
    }
    r = http_resp_write(resp, data, len);
    free(data);
    if (r < 0)
        return r;
    http_resp_type(resp, type);
    http_resp_cache(resp, WEBSTATIC_MAX_AGE_S);
    return 0;
}
