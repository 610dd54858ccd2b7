/*
 * Tests for node/control.c: the pure line buffer (partial reads, many lines
 * per read, CRLF, over-long lines), the stale-socket probe, and a real
 * server on a temp socket over a real store, vault and service, driven by a
 * blocking client in a second thread while the loop runs in the test's.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "control.h"
#include "kith/error.h"
#include "rpc.h"
#include "service.h"
#include "store.h"
#include "vault.h"

/* ---- line buffer ---- */

struct lines {
    int n;
    char got[16][64];
    size_t len[16];
    int stop_at; /* return 7 from the callback on this line (1-based), 0 = never */
};

static int collect(const char *line, size_t len, void *arg)
{
    struct lines *l = arg;

    size_t keep = len < sizeof(l->got[0]) ? len : sizeof(l->got[0]) - 1;

    cr_assert_lt(l->n, 16);
    memcpy(l->got[l->n], line, keep);
    l->got[l->n][keep] = '\0';
    l->len[l->n] = len;
    l->n++;
    return l->n == l->stop_at ? 7 : 0;
}

static int feed(struct control_linebuf *lb, const char *s, struct lines *l)
{
    return control_linebuf_feed(lb, s, strlen(s), collect, l);
}

Test(linebuf, many_lines_in_one_read)
{
    struct control_linebuf lb;
    struct lines l = {0};

    control_linebuf_init(&lb, 100);
    cr_assert_eq(feed(&lb, "one\ntwo\r\n\nthree\n", &l), 0);
    cr_assert_eq(l.n, 3); /* the empty line is skipped */
    cr_assert_str_eq(l.got[0], "one");
    cr_assert_str_eq(l.got[1], "two");
    cr_assert_str_eq(l.got[2], "three");
    cr_assert_eq(lb.len, 0);
    control_linebuf_free(&lb);
}

Test(linebuf, partial_reads)
{
    struct control_linebuf lb;
    struct lines l = {0};

    control_linebuf_init(&lb, 100);
    cr_assert_eq(feed(&lb, "{\"id\":", &l), 0);
    cr_assert_eq(l.n, 0);
    cr_assert_eq(feed(&lb, "1}", &l), 0);
    cr_assert_eq(l.n, 0);
    cr_assert_eq(feed(&lb, "\r", &l), 0);
    cr_assert_eq(feed(&lb, "\nsecond", &l), 0);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.got[0], "{\"id\":1}");
    cr_assert_eq(lb.len, 6);
    cr_assert_eq(feed(&lb, "\n", &l), 0);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.got[1], "second");
    control_linebuf_free(&lb);
}

Test(linebuf, byte_at_a_time)
{
    static const char in[] = "ab\ncd\r\nef\n";
    struct control_linebuf lb;
    struct lines l = {0};

    control_linebuf_init(&lb, 100);
    for (size_t i = 0; i < sizeof(in) - 1; i++)
        cr_assert_eq(control_linebuf_feed(&lb, in + i, 1, collect, &l), 0);
    cr_assert_eq(l.n, 3);
    cr_assert_str_eq(l.got[0], "ab");
    cr_assert_str_eq(l.got[1], "cd");
    cr_assert_str_eq(l.got[2], "ef");
    control_linebuf_free(&lb);
}

Test(linebuf, exactly_max_is_accepted)
{
    struct control_linebuf lb;
    struct lines l = {0};

    control_linebuf_init(&lb, 8);
    cr_assert_eq(feed(&lb, "12345678\n", &l), 0);
    cr_assert_eq(feed(&lb, "1234", &l), 0);
    cr_assert_eq(feed(&lb, "5678\r\n", &l), 0); /* "\r" does not count */
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.got[0], "12345678");
    cr_assert_str_eq(l.got[1], "12345678");
    control_linebuf_free(&lb);
}

Test(linebuf, over_long_in_one_read)
{
    struct control_linebuf lb;
    struct lines l = {0};

    control_linebuf_init(&lb, 8);
    cr_assert_eq(feed(&lb, "ok\n123456789\nlater\n", &l), -KITH_ETOOBIG);
    cr_assert_eq(l.n, 1); /* the line before is delivered, nothing after */
    cr_assert_eq(lb.len, 0);
    control_linebuf_free(&lb);
}

Test(linebuf, over_long_across_reads)
{
    struct control_linebuf lb;
    struct lines l = {0};

    control_linebuf_init(&lb, 8);
    cr_assert_eq(feed(&lb, "12345", &l), 0);
    cr_assert_eq(feed(&lb, "6789", &l), 0); /* 9 so far: may still be 8 + "\r" */
    cr_assert_eq(feed(&lb, "0", &l), -KITH_ETOOBIG);
    cr_assert_eq(l.n, 0);
    cr_assert_eq(lb.len, 0);

    /* Nine bytes then a newline: not a "\r", so too long. */
    cr_assert_eq(feed(&lb, "123456789", &l), 0);
    cr_assert_eq(feed(&lb, "\n", &l), -KITH_ETOOBIG);
    cr_assert_eq(l.n, 0);
    control_linebuf_free(&lb);
}

Test(linebuf, callback_stops_feeding)
{
    struct control_linebuf lb;
    struct lines l = {.stop_at = 2};

    control_linebuf_init(&lb, 100);
    cr_assert_eq(feed(&lb, "a\nb\nc\n", &l), 7);
    cr_assert_eq(l.n, 2);
    control_linebuf_free(&lb);
}

Test(linebuf, big_buffer_given_back)
{
    enum { BIG = 204800 }; /* 200 KiB: past what a buffer keeps */
    struct control_linebuf lb;
    struct lines l = {0};
    char *big = malloc(BIG);

    cr_assert_not_null(big);
    memset(big, 'x', BIG);
    control_linebuf_init(&lb, (size_t)RPC_LINE_MAX);
    cr_assert_eq(control_linebuf_feed(&lb, "y", 1, collect, &l), 0);
    cr_assert_eq(control_linebuf_feed(&lb, big, BIG, collect, &l), 0);
    cr_assert_eq(lb.len, BIG + 1);
    cr_assert_geq(lb.cap, lb.len);
    cr_assert_eq(control_linebuf_feed(&lb, "\n", 1, collect, &l), 0);
    cr_assert_eq(l.n, 1);
    cr_assert_eq(l.len[0], BIG + 1);
    cr_assert_eq(l.got[0][0], 'y');
    cr_assert_null(lb.buf); /* 200 KiB is not kept for the next small line */
    cr_assert_eq(lb.cap, 0);
    free(big);
    control_linebuf_free(&lb);
}

/* ---- probe ---- */

static char tmp[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void make_tmp(void)
{
    strcpy(tmp, "/tmp/kith-control-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void rm_tmp(void)
{
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int bind_unix(const char *path, int do_listen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    cr_assert_lt(strlen(path), sizeof(sun.sun_path));
    memcpy(sun.sun_path, path, strlen(path) + 1);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    if (do_listen)
        cr_assert_eq(listen(fd, 1), 0);
    return fd;
}

Test(probe, cases, .init = make_tmp, .fini = rm_tmp)
{
    char path[128];
    struct stat sb;
    int fd;

    snprintf(path, sizeof(path), "%s/s.sock", tmp);
    cr_assert_eq(control_probe(path), 0); /* nothing there */

    fd = bind_unix(path, 1);
    cr_assert_eq(control_probe(path), -EADDRINUSE);
    cr_assert_eq(stat(path, &sb), 0); /* a live socket is left alone */
    close(fd);

    /* The listener is gone; its file stays behind, as after kill -9. */
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(control_probe(path), 0);
    cr_assert_eq(stat(path, &sb), -1);
    cr_assert_eq(errno, ENOENT);

    fd = open(path, O_CREAT | O_WRONLY, 0600);
    close(fd);
    cr_assert_eq(control_probe(path), -ENOTSOCK);
    cr_assert_eq(stat(path, &sb), 0); /* never removes what is not a socket */
}

/* ---- a real server ---- */

enum client_kind { CL_STATUS, CL_PIPELINE, CL_TOOBIG, CL_MAXCLIENTS, CL_IDLE };

struct harness {
    char sock[128];
    uv_loop_t loop;
    uv_async_t done;
    struct store *st;
    struct vault *v;
    struct service *svc;
    struct control *ctl;
    pthread_t th;
    enum client_kind kind;
    /* filled by the client thread, checked by the test thread */
    char resp[4][4096];
    int nresp;
    int eof_after;   /* 1: the server closed the connection after the responses */
    int refused_eof; /* CL_MAXCLIENTS: the 65th connection was closed at once */
    int failed;      /* a client-side step failed (connect, write) */
};

static int cl_connect(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int cl_send(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one line (newline dropped) into buf. Returns its length, or -1 at
 * EOF or error before a newline. */
static ssize_t cl_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char c;

    for (;;) {
        ssize_t r = read(fd, &c, 1);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        if (c == '\n')
            break;
        if (n + 1 < cap)
            buf[n++] = c;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

static int cl_eof(int fd)
{
    char c;
    ssize_t r = read(fd, &c, 1);

    return r == 0 || (r < 0 && errno == ECONNRESET);
}

static void take(struct harness *h, int fd)
{
    if (h->nresp < 4 && cl_line(fd, h->resp[h->nresp], sizeof(h->resp[0])) >= 0)
        h->nresp++;
}

static void *client_main(void *arg)
{
    struct harness *h = arg;
    int fd = cl_connect(h->sock);
    static const char req[] = "{\"id\":1,\"cmd\":\"status\"}\n";
    static const char pipelined[] = "{\"id\":\"a\",\"cmd\":\"status\"}\nnot json\r\n";

    if (fd < 0) {
        h->failed = 1;
        goto out;
    }
    switch (h->kind) {
    case CL_STATUS:
        h->failed = cl_send(fd, req, sizeof(req) - 1);
        take(h, fd);
        break;
    case CL_PIPELINE:
        /* Two requests in one write, then one split over two writes. */
        h->failed |= cl_send(fd, pipelined, sizeof(pipelined) - 1);
        take(h, fd);
        take(h, fd);
        h->failed |= cl_send(fd, "{\"id\":3,\"cmd\":", 14);
        usleep(50 * 1000);
        h->failed |= cl_send(fd, "\"status\"}\n", 10);
        take(h, fd);
        break;
    case CL_TOOBIG: {
        size_t n = RPC_LINE_MAX + 2;
        char *big = malloc(n);

        memset(big, ' ', n);
        /* The server may hang up before it reads it all: that is fine. */
        cl_send(fd, big, n);
        free(big);
        take(h, fd);
        h->eof_after = cl_eof(fd);
        break;
    }
    case CL_MAXCLIENTS: {
        int fds[CONTROL_MAX_CLIENTS];
        int extra;

        fds[0] = fd;
        for (int i = 1; i < CONTROL_MAX_CLIENTS; i++)
            fds[i] = cl_connect(h->sock);
        extra = cl_connect(h->sock);
        h->refused_eof = extra >= 0 && cl_eof(extra);
        if (extra >= 0)
            close(extra);
        /* Every one of the 64 still works. */
        for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
            char line[4096];

            if (fds[i] < 0 || cl_send(fds[i], req, sizeof(req) - 1) < 0 ||
                cl_line(fds[i], line, sizeof(line)) < 0)
                h->failed = 1;
        }
        for (int i = 1; i < CONTROL_MAX_CLIENTS; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        break;
    }
    case CL_IDLE:
        /* Say nothing: the server must hang up by itself. */
        h->eof_after = cl_eof(fd);
        break;
    }
    close(fd);
out:
    uv_async_send(&h->done);
    return NULL;
}

static void on_done(uv_async_t *a)
{
    struct harness *h = a->data;

    control_stop(h->ctl);
    h->ctl = NULL;
    uv_close((uv_handle_t *)&h->done, NULL);
}

static void run_server(struct harness *h, enum client_kind kind, uint64_t idle_ms)
{
    char keyfile[128];
    struct service_config sc = {.content_dir = NULL, .session_idle_s = 3600};
    struct stat sb;

    cr_assert_geq(sodium_init(), 0);
    memset(h, 0, sizeof(*h));
    h->kind = kind;
    snprintf(h->sock, sizeof(h->sock), "%s/kithd.sock", tmp);
    snprintf(keyfile, sizeof(keyfile), "%s/node.key", tmp);
    cr_assert_eq(store_open(tmp, &h->st), 0);
    cr_assert_eq(vault_open_keyfile(h->st, keyfile, &h->v), 0);
    cr_assert_eq(service_open(h->st, h->v, &sc, &h->svc), 0);
    cr_assert_eq(uv_loop_init(&h->loop), 0);
    cr_assert_eq(control_start(&h->loop, h->sock, CONTROL_NO_GROUP, h->svc, &h->ctl), 0);
    cr_assert_eq(stat(h->sock, &sb), 0);
    cr_assert(S_ISSOCK(sb.st_mode));
    cr_assert_eq(sb.st_mode & 0777, 0600);
    if (idle_ms > 0)
        control_set_idle_ms(h->ctl, idle_ms);
    cr_assert_eq(uv_async_init(&h->loop, &h->done, on_done), 0);
    h->done.data = h;
    cr_assert_eq(pthread_create(&h->th, NULL, client_main, h), 0);
    cr_assert_eq(uv_run(&h->loop, UV_RUN_DEFAULT), 0);
    pthread_join(h->th, NULL);
    /* Every handle was closed and freed: the loop closes cleanly. */
    cr_assert_eq(uv_loop_close(&h->loop), 0);
    cr_assert_eq(stat(h->sock, &sb), -1, "socket file left behind");
    service_close(h->svc);
    vault_close(h->v);
    store_close(h->st);
    cr_assert_eq(h->failed, 0);
}

static json_t *parse_resp(const char *s)
{
    json_error_t e;
    json_t *o = json_loads(s, 0, &e);

    cr_assert_not_null(o, "not JSON: %s", s);
    return o;
}

TestSuite(server, .init = make_tmp, .fini = rm_tmp, .timeout = 30);

Test(server, status)
{
    struct harness h;
    json_t *o, *res;

    run_server(&h, CL_STATUS, 0);
    cr_assert_eq(h.nresp, 1);
    o = parse_resp(h.resp[0]);
    cr_assert_eq(json_integer_value(json_object_get(o, "id")), 1);
    cr_assert(json_is_true(json_object_get(o, "ok")), "%s", h.resp[0]);
    res = json_object_get(o, "result");
    cr_assert(json_is_object(res));
    cr_assert(json_is_integer(json_object_get(res, "posts")), "%s", h.resp[0]);
    cr_assert_eq(json_integer_value(json_object_get(res, "posts")), 0);
    json_decref(o);
}

Test(server, pipelined_and_split_requests)
{
    struct harness h;
    json_t *o;

    run_server(&h, CL_PIPELINE, 0);
    cr_assert_eq(h.nresp, 3);
    o = parse_resp(h.resp[0]);
    cr_assert_str_eq(json_string_value(json_object_get(o, "id")), "a");
    cr_assert(json_is_true(json_object_get(o, "ok")));
    json_decref(o);
    o = parse_resp(h.resp[1]);
    cr_assert(json_is_null(json_object_get(o, "id")), "%s", h.resp[1]);
    cr_assert(json_is_false(json_object_get(o, "ok")));
    json_decref(o);
    o = parse_resp(h.resp[2]);
    cr_assert_eq(json_integer_value(json_object_get(o, "id")), 3);
    cr_assert(json_is_true(json_object_get(o, "ok")));
    json_decref(o);
}

Test(server, over_long_line_gets_error_then_close)
{
    struct harness h;
    json_t *o, *e;

    run_server(&h, CL_TOOBIG, 0);
    cr_assert_eq(h.nresp, 1);
    o = parse_resp(h.resp[0]);
    cr_assert(json_is_null(json_object_get(o, "id")));
    cr_assert(json_is_false(json_object_get(o, "ok")));
    e = json_object_get(o, "error");
    cr_assert_eq(json_integer_value(json_object_get(e, "code")), -KITH_ETOOBIG);
    cr_assert_str_eq(json_string_value(json_object_get(e, "name")), "KITH_ETOOBIG");
    json_decref(o);
    cr_assert_eq(h.eof_after, 1);
}

Test(server, client_limit)
{
    struct harness h;

    run_server(&h, CL_MAXCLIENTS, 0);
    cr_assert_eq(h.refused_eof, 1);
}

Test(server, idle_timeout)
{
    struct harness h;

    run_server(&h, CL_IDLE, 100);
    cr_assert_eq(h.eof_after, 1);
}

Test(server, start_fails_cleanly)
{
    char path[128];
    struct control *ctl = NULL;
    uv_loop_t loop;
    struct stat sb;
    int fd;

    /* Something that is not ours is in the way: bind fails after the
     * handle exists, so the failure path must close it. */
    snprintf(path, sizeof(path), "%s/taken", tmp);
    fd = open(path, O_CREAT | O_WRONLY, 0644);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(control_start(&loop, path, CONTROL_NO_GROUP, NULL, &ctl), -EADDRINUSE);
    cr_assert_null(ctl);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
    cr_assert_eq(stat(path, &sb), 0); /* never removes what it did not make */

    snprintf(path, sizeof(path), "%s/missing/s.sock", tmp);
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(control_start(&loop, path, CONTROL_NO_GROUP, NULL, &ctl), -ENOENT);
    cr_assert_eq(uv_loop_close(&loop), 0);

    memset(path, 'p', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(control_start(&loop, path, CONTROL_NO_GROUP, NULL, &ctl), -ENAMETOOLONG);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(server, stop_with_nothing_connected)
{
    char path[128];
    struct control *ctl = NULL;
    uv_loop_t loop;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/s.sock", tmp);
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(control_start(&loop, path, CONTROL_NO_GROUP, NULL, &ctl), 0);
    cr_assert_eq(control_clients(ctl), 0);
    cr_assert_eq(control_probe(path), -EADDRINUSE); /* it answers */
    control_stop(ctl);
    control_stop(NULL);
    cr_assert_eq(stat(path, &sb), -1);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

/* ---- [control] group ---- */

Test(group, lookup)
{
    gid_t gid = 12345;

    cr_assert_eq(control_group_id("root", &gid), 0);
    cr_assert_eq(gid, 0);
    gid = 12345;
    cr_assert_eq(control_group_id("kith-no-such-group-here", &gid), -ENOENT);
    cr_assert_eq(gid, 12345); /* untouched on failure */
}

/* A group this process may give files to that differs from its own when it
 * can: as root any group (daemon's), else a supplementary group. */
static gid_t other_group(void)
{
    gid_t groups[64];
    gid_t gid;
    int n;

    if (geteuid() == 0 && control_group_id("daemon", &gid) == 0 && gid != getegid())
        return gid;
    n = getgroups(64, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] != getegid())
            return groups[i];
    return getegid();
}

Test(group, socket_mode_0660_and_group, .init = make_tmp, .fini = rm_tmp)
{
    char path[128];
    struct control *ctl = NULL;
    gid_t gid = other_group();
    uv_loop_t loop;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/g.sock", tmp);
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(control_start(&loop, path, gid, NULL, &ctl), 0);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert(S_ISSOCK(sb.st_mode));
    cr_assert_eq(sb.st_mode & 0777, 0660, "mode %o", (unsigned)(sb.st_mode & 0777));
    cr_assert_eq(sb.st_gid, gid, "group %u, wanted %u", (unsigned)sb.st_gid, (unsigned)gid);
    cr_assert_eq(sb.st_uid, geteuid());
    cr_assert_eq(control_probe(path), -EADDRINUSE); /* it answers */
    control_stop(ctl);
    cr_assert_eq(stat(path, &sb), -1);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

/* Without the right to give the file to the group, start fails with EPERM
 * and leaves no socket. Root may give files to any group, so as root the
 * check runs in a child that has become nobody. */
Test(group, not_allowed_leaves_nothing, .init = make_tmp, .fini = rm_tmp)
{
    char dir[160], path[192];
    pid_t pid;
    int status = 0;

    snprintf(dir, sizeof(dir), "%s/open", tmp);
    cr_assert_eq(mkdir(dir, 0777), 0);
    cr_assert_eq(chmod(dir, 0777), 0);
    chmod(tmp, 0755);
    snprintf(path, sizeof(path), "%s/p.sock", dir);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct control *ctl = NULL;
        uv_loop_t loop;
        struct stat sb;
        int r;

        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
            _exit(10);
        if (getegid() == 0)
            _exit(11); /* could give files to group 0: the case does not apply */
        if (uv_loop_init(&loop) < 0)
            _exit(12);
        r = control_start(&loop, path, 0, NULL, &ctl);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        if (r != -EPERM)
            _exit(13);
        if (ctl != NULL || stat(path, &sb) == 0)
            _exit(14);
        _exit(0);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 0, "child step %d failed", WEXITSTATUS(status));
}
