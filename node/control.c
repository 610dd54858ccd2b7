/*
 * control: the control socket server (see control.h and CONTROL.md). It
 * also owns the socket file's mode and group ([control] group).
 *
 * One struct ctl_client per connection owns a pipe, an idle timer and a line
 * buffer; both handles are closed together and the client is freed when the
 * second close callback fires. The struct control counts what is still
 * alive (the listening pipe and every client) and frees itself after
 * control_stop once that count reaches zero.
 *
 * Requests are answered synchronously (rpc_handle runs on the loop thread),
 * so responses leave in request order. A client that sends faster than it
 * reads is paused at CONTROL_WRITE_HIGH bytes queued.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "control.h"
#include "kith/error.h"
#include "log.h"
#include "rpc.h"

#define LINEBUF_MIN 256
/* A buffer grown by one big request is given back once that line is done. */
#define LINEBUF_KEEP 65536
#define READ_BUF_BYTES 65536

struct ctl_client {
    uv_pipe_t pipe;
    uv_timer_t idle;
    struct control *ctl;
    struct ctl_client *prev, *next;
    struct control_linebuf lb;
    int open_handles; /* 2 until closing starts, then counts down */
    int closing;
    int paused;            /* reading stopped until writes drain */
    int close_after_write; /* the last response is queued; close when sent */
};

struct control {
    uv_loop_t *loop;
    uv_pipe_t server;
    struct service *svc;
    char *path;
    struct ctl_client *clients;
    unsigned nclients;
    unsigned live; /* the server handle + every client not yet freed */
    int stopping;
    uint64_t idle_ms;
    char readbuf[READ_BUF_BYTES]; /* one loop thread: reads never overlap */
};

struct ctl_write {
    uv_write_t req;
    struct ctl_client *client;
    char *data;
};

/* ---- line buffer ---- */

void control_linebuf_init(struct control_linebuf *lb, size_t max)
{
    lb->buf = NULL;
    lb->len = 0;
    lb->cap = 0;
    lb->max = max;
}

void control_linebuf_free(struct control_linebuf *lb)
{
    if (lb->buf != NULL)
        sodium_memzero(lb->buf, lb->cap);
    free(lb->buf);
    lb->buf = NULL;
    lb->len = 0;
    lb->cap = 0;
}

static int linebuf_append(struct control_linebuf *lb, const char *data, size_t n)
{
    if (lb->len + n > lb->cap) {
        size_t cap = lb->cap < LINEBUF_MIN ? LINEBUF_MIN : lb->cap;
        char *p;

        while (cap < lb->len + n)
            cap *= 2;
        /* max + 1: room for a "\r" that a "\n" will strip. */
        if (cap > lb->max + 1)
            cap = lb->max + 1;
        /* Not realloc: requests carry passphrases, and the old block
         * must be wiped before it goes back to the allocator. */
        p = malloc(cap);
        if (p == NULL)
            return -ENOMEM;
        if (lb->buf != NULL) {
            memcpy(p, lb->buf, lb->len);
            sodium_memzero(lb->buf, lb->cap);
            free(lb->buf);
        }
        lb->buf = p;
        lb->cap = cap;
    }
    memcpy(lb->buf + lb->len, data, n);
    lb->len += n;
    return 0;
}

static void linebuf_reset(struct control_linebuf *lb)
{
    if (lb->buf != NULL)
        sodium_memzero(lb->buf, lb->len);
    lb->len = 0;
    if (lb->cap > LINEBUF_KEEP)
        control_linebuf_free(lb);
}

int control_linebuf_feed(struct control_linebuf *lb, const char *data, size_t n, control_line_fn fn,
                         void *arg)
{
    size_t i = 0;

    while (i < n) {
        const char *nl = memchr(data + i, '\n', n - i);
        size_t chunk = nl != NULL ? (size_t)(nl - (data + i)) : n - i;
        const char *line;
        size_t len;
        int copied, r;

        if (lb->len + chunk > lb->max + 1) {
            linebuf_reset(lb);
            return -KITH_ETOOBIG;
        }
        if (nl == NULL) /* unfinished: keep it for the next read */
            return linebuf_append(lb, data + i, chunk);
        copied = lb->len > 0;
        if (!copied) {
            line = data + i; /* the whole line came in this read */
            len = chunk;
        } else {
            r = linebuf_append(lb, data + i, chunk);
            if (r < 0)
                return r;
            line = lb->buf;
            len = lb->len;
        }
        i += chunk + 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > lb->max) {
            linebuf_reset(lb);
            return -KITH_ETOOBIG;
        }
        r = len > 0 ? fn(line, len, arg) : 0;
        if (copied)
            linebuf_reset(lb);
        if (r != 0)
            return r;
    }
    return 0;
}

/* ---- server ---- */

int control_probe(const char *path)
{
    struct sockaddr_un sun;
    struct stat sb;
    int fd, r;

    if (strlen(path) >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    if (lstat(path, &sb) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(sb.st_mode))
        return -ENOTSOCK;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : -errno;
    close(fd);
    if (r == 0)
        return -EADDRINUSE;
    if (r != -ECONNREFUSED)
        return r;
    /* A socket nobody listens on: left by a kithd that did not stop cleanly. */
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    log_info("control.stale_removed", "socket=%s", path);
    return 0;
}

static void ctl_maybe_free(struct control *ctl)
{
    if (!ctl->stopping || ctl->live > 0)
        return;
    free(ctl->path);
    free(ctl);
}

static void client_closed(uv_handle_t *h)
{
    struct ctl_client *cl = h->data;
    struct control *ctl = cl->ctl;

    if (--cl->open_handles > 0)
        return;
    control_linebuf_free(&cl->lb);
    free(cl);
    ctl->live--;
    ctl_maybe_free(ctl);
}

static void client_close(struct ctl_client *cl)
{
    struct control *ctl = cl->ctl;

    if (cl->closing)
        return;
    cl->closing = 1;
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        ctl->clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    ctl->nclients--;
    uv_close((uv_handle_t *)&cl->pipe, client_closed);
    uv_close((uv_handle_t *)&cl->idle, client_closed);
    log_debug("control.close", "clients=%u", ctl->nclients);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_write(uv_write_t *req, int status)
{
    struct ctl_write *w = (struct ctl_write *)req;
    struct ctl_client *cl = w->client;

    free(w->data);
    free(w);
    /* On a closing client, cancelled writes still land here before the
     * close callbacks, so cl is alive; nothing more to do for it. */
    if (cl->closing)
        return;
    if (status < 0) {
        log_debug("control.write_failed", "error=%s", uv_err_name(status));
        client_close(cl);
        return;
    }
    if (cl->close_after_write) {
        if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) == 0)
            client_close(cl);
        return;
    }
    if (cl->paused &&
        uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) < CONTROL_WRITE_HIGH / 2) {
        cl->paused = 0;
        if (uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read) < 0)
            client_close(cl);
    }
}

/* Queue data (malloc'd, taken over) and a newline. Returns 0 or -errno; on
 * error the client is being closed. */
static int client_send(struct ctl_client *cl, char *data)
{
    static char newline[] = "\n";
    struct ctl_write *w;
    uv_buf_t bufs[2];
    int r;

    w = malloc(sizeof(*w));
    if (w == NULL) {
        free(data);
        client_close(cl);
        return -ENOMEM;
    }
    w->client = cl;
    w->data = data;
    bufs[0] = uv_buf_init(data, (unsigned)strlen(data));
    bufs[1] = uv_buf_init(newline, 1);
    r = uv_write(&w->req, (uv_stream_t *)&cl->pipe, bufs, 2, on_write);
    if (r < 0) {
        free(data);
        free(w);
        client_close(cl);
        return r;
    }
    return 0;
}

static int on_line(const char *line, size_t len, void *arg)
{
    struct ctl_client *cl = arg;
    char *resp = NULL;
    int r;

    if (cl->closing)
        return 1;
    r = rpc_handle(cl->ctl->svc, line, len, &resp);
    if (r < 0)
        return r;
    r = client_send(cl, resp);
    return r < 0 ? r : 0;
}

static void send_too_big(struct ctl_client *cl)
{
    json_t *o;
    char *s;

    o = json_pack("{s:n, s:b, s:{s:i, s:s, s:s}}", "id", "ok", 0, "error", "code", -KITH_ETOOBIG,
                  "name", kith_errname(-KITH_ETOOBIG), "message",
                  "the request line is longer than 1 MiB");
    s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s == NULL) {
        client_close(cl);
        return;
    }
    cl->close_after_write = 1;
    uv_read_stop((uv_stream_t *)&cl->pipe);
    client_send(cl, s);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct ctl_client *cl = h->data;

    buf->base = cl->ctl->readbuf;
    buf->len = sizeof(cl->ctl->readbuf);
}

static void on_idle(uv_timer_t *t)
{
    struct ctl_client *cl = t->data;

    log_info("control.idle_closed", "after_s=%llu", (unsigned long long)(cl->ctl->idle_ms / 1000));
    client_close(cl);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct ctl_client *cl = s->data;
    int r;

    if (cl->closing)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            log_debug("control.read_failed", "error=%s", uv_err_name((int)nread));
        client_close(cl);
        return;
    }
    if (nread == 0)
        return;
    uv_timer_start(&cl->idle, on_idle, cl->ctl->idle_ms, 0);
    r = control_linebuf_feed(&cl->lb, buf->base, (size_t)nread, on_line, cl);
    sodium_memzero(buf->base, (size_t)nread); /* may hold a passphrase */
    if (cl->closing)
        return;
    if (r == -KITH_ETOOBIG) {
        log_warn("control.too_big", "max=%d", RPC_LINE_MAX);
        send_too_big(cl);
        return;
    }
    if (r != 0) {
        log_warn("control.failed", "error=%s", kith_errname(r));
        client_close(cl);
        return;
    }
    if (uv_stream_get_write_queue_size(s) >= CONTROL_WRITE_HIGH) {
        cl->paused = 1;
        uv_read_stop(s);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control *ctl = server->data;
    struct ctl_client *cl;

    if (status < 0) {
        log_warn("control.accept_failed", "error=%s", uv_err_name(status));
        return;
    }
    cl = calloc(1, sizeof(*cl));
    if (cl == NULL) {
        log_error("control.accept_failed", "error=ENOMEM");
        return;
    }
    cl->ctl = ctl;
    cl->open_handles = 2;
    control_linebuf_init(&cl->lb, (size_t)RPC_LINE_MAX);
    uv_pipe_init(ctl->loop, &cl->pipe, 0);
    uv_timer_init(ctl->loop, &cl->idle);
    cl->pipe.data = cl;
    cl->idle.data = cl;
    cl->next = ctl->clients;
    if (ctl->clients != NULL)
        ctl->clients->prev = cl;
    ctl->clients = cl;
    ctl->nclients++;
    ctl->live++;

    if (uv_accept(server, (uv_stream_t *)&cl->pipe) < 0) {
        client_close(cl);
        return;
    }
    if (ctl->nclients > CONTROL_MAX_CLIENTS) {
        log_warn("control.refused", "reason=too_many_clients max=%d", CONTROL_MAX_CLIENTS);
        client_close(cl);
        return;
    }
    uv_timer_start(&cl->idle, on_idle, ctl->idle_ms, 0);
    if (uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read) < 0) {
        client_close(cl);
        return;
    }
    log_debug("control.open", "clients=%u", ctl->nclients);
}

static void server_closed(uv_handle_t *h)
{
    struct control *ctl = h->data;

    ctl->live--;
    ctl_maybe_free(ctl);
}

/* libuv reports a missing directory as EACCES (as Windows would); look
 * first so that people are told what is really wrong. */
static int check_parent(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *slash = strrchr(path, '/');
    struct stat sb;

    if (slash == NULL || slash == path)
        return 0;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    if (stat(dir, &sb) < 0)
        return -errno;
    return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

int control_group_id(const char *name, gid_t *out)
{
    struct group gr, *found = NULL;
    size_t cap = 16384;
    char *buf = NULL;
    int r;

    /* A group with many members needs a bigger buffer (ERANGE). */
    for (;;) {
        char *more = realloc(buf, cap);

        if (more == NULL) {
            free(buf);
            return -ENOMEM;
        }
        buf = more;
        r = getgrnam_r(name, &gr, buf, cap, &found);
        if (r != ERANGE || cap >= ((size_t)1 << 24))
            break;
        cap *= 2;
    }
    if (found != NULL)
        *out = found->gr_gid;
    free(buf);
    if (found != NULL)
        return 0;
    /* No entry: getgrnam_r returns 0, or ENOENT and friends, depending on
     * the libc and the NSS module. */
    if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
        return -ENOENT;
    return -r;
}

int control_start(uv_loop_t *loop, const char *path, gid_t group, struct service *svc,
                  struct control **out)
{
    struct sockaddr_un sun;
    struct control *ctl;
    mode_t old;
    int r;

    if (strlen(path) >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    r = check_parent(path);
    if (r < 0)
        return r;
    ctl = calloc(1, sizeof(*ctl));
    if (ctl == NULL)
        return -ENOMEM;
    ctl->path = strdup(path);
    if (ctl->path == NULL) {
        free(ctl);
        return -ENOMEM;
    }
    ctl->loop = loop;
    ctl->svc = svc;
    ctl->idle_ms = CONTROL_IDLE_MS;
    r = uv_pipe_init(loop, &ctl->server, 0);
    if (r < 0) {
        free(ctl->path);
        free(ctl);
        return r;
    }
    ctl->server.data = ctl;
    ctl->live = 1;

    /* The umask makes bind create the file 0600, so there is no moment when
     * others could connect; chmod then makes sure whatever the umask was. */
    old = umask(0177);
    r = uv_pipe_bind(&ctl->server, path);
    umask(old);
    if (r < 0)
        goto fail;
    if (chmod(path, 0600) < 0) {
        r = -errno;
        unlink(path);
        goto fail;
    }
    /* The group first, then its permission: while the file still has the
     * old group it is 0600, so no one else can connect at any moment. */
    if (group != CONTROL_NO_GROUP && (chown(path, (uid_t)-1, group) < 0 || chmod(path, 0660) < 0)) {
        r = -errno;
        unlink(path);
        goto fail;
    }
    r = uv_listen((uv_stream_t *)&ctl->server, 128, on_connection);
    if (r < 0) {
        unlink(path);
        goto fail;
    }
    *out = ctl;
    return 0;
fail:
    /* The handle is initialised: it can only go through uv_close. */
    ctl->stopping = 1;
    uv_close((uv_handle_t *)&ctl->server, server_closed);
    return r;
}

unsigned control_clients(const struct control *ctl)
{
    return ctl->nclients;
}

void control_set_idle_ms(struct control *ctl, uint64_t ms)
{
    ctl->idle_ms = ms;
}

void control_stop(struct control *ctl)
{
    if (ctl == NULL || ctl->stopping)
        return;
    ctl->stopping = 1;
    unlink(ctl->path);
    uv_close((uv_handle_t *)&ctl->server, server_closed);
    while (ctl->clients != NULL)
        client_close(ctl->clients);
}
