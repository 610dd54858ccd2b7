/*
 * kith_sync_bench: how fast two real kithd processes sync on loopback, and
 * what set reconciliation costs on big sets (issue 3, "Benchmark"). A
 * benchmark, not a test: it prints figures and asserts nothing about speed.
 *
 *   kith_sync_bench [--posts N] [--quick] [--kithd PATH] [--batch B]
 *                   [--perf FILE] [--attach CMD] [--tmp DIR] [--keep]
 *                   [--no-sync] [--no-recon]
 *
 * Full sync: node A (one account, one group, N posts of 500-byte bodies by
 * a second member, stored in batches through service_accept_batch) and
 * node B (an account that joined the group by its invite code, no posts)
 * are prepared in-process in a private temp dir (under --tmp DIR, default
 * /tmp: /dev/shm takes the disk out of the figures) and closed; then two kithd
 * processes run on them (--listen 127.0.0.1:0 --no-discovery). The clock
 * starts when B is told `sync` with A's address over its control socket and
 * stops when B's and A's sync.sets digests agree. One core's raw
 * crypto_sign_verify_detached rate on a message of the posts' signed size
 * is measured in the same run, before the nodes start. --perf FILE records
 * both nodes with `perf record` during the sync; --attach CMD runs any
 * command then (sh -c, with PID_A and PID_B set; SIGINT at the end).
 *
 * Reconciliation: two in-memory sets (kith_recon_array) of n shared items
 * plus d items only the responder holds, reconciled in-process with
 * kith_recon: times in ms (as Kith posts have them) without and with the
 * frame limit kithd uses, and times in seconds (as in the sets the
 * reference figures come from) without. Round trips and bytes each way,
 * each with the reference split policy and with the adaptive one kithd
 * uses (names ending in _adaptive).
 *
 * Output is "name: value" lines (tests/bench/README.md says what each
 * means). Temp dirs are removed at the end unless --keep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "benchprep.h"
#include "kith/invite.h"
#include "kith/post.h"
#include "kith/recon.h"
#include "kith/wire.h"
#include "log.h"
#include "service.h"
#include "store.h"
#include "vault.h"

#define BODY_BYTES 500
#define VERIFY_ROUNDS 3
#define VERIFY_PER_ROUND 20000
#define SYNC_TIMEOUT_S 1800
#define START_TIMEOUT_S 60
#define LINE_MAX_BYTES (1024 * 1024)

struct opts {
    size_t posts, batch;
    int quick, keep, do_sync, do_recon;
    const char *kithd, *attach, *tmp;
    char perf_cmd[PATH_MAX + 128];
};

struct node {
    char dir[128];
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pid_t pid;
    int fd;    /* control socket */
    char *buf; /* bytes read past the last line */
    size_t len;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The kithd processes (and attached command group) running, so that a
 * failure does not leave them behind. */
static pid_t children[3];

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kith_sync_bench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
        if (children[i] > 0)
            kill(i == 2 ? -children[i] : children[i], SIGKILL);
    }
    exit(1);
}

/* ---- preparing the two data dirs in-process ---- */

/*
 * Node A: an account, a group and n posts by another member (written in
 * batches of `batch` through service_accept_batch, one transaction each).
 * Node B: an account that joins by the invite code. *sealed_total: bytes
 * of the n sealed posts; *signed_len: size of a post's signed message.
 */
static void prepare(const struct opts *o, const char *dir_a, const char *dir_b,
                    uint64_t *sealed_total, size_t *signed_len)
{
    struct bench_node a, b;
    struct bench_writer w;
    struct kith_invite inv;
    uint8_t pk[KITH_PUBKEY_BYTES], sk[KITH_SECKEY_BYTES];
    char body[BODY_BYTES], code[KITH_INVITE_TEXT_MAX];
    uint64_t base = (uint64_t)time(NULL) * 1000 - o->posts - 3600 * 1000;
    struct bench_post p = {.kind = KITH_POST_KIND_POST,
                           .topic = "Benefits",
                           .title = "Benchmark post",
                           .body = body,
                           .body_len = BODY_BYTES};
    int r;

    for (size_t i = 0; i < BODY_BYTES; i++)
        body[i] = "Notes from the meetup about direct payments.\n"[i % 45];
    if ((r = bench_node_open(&a, dir_a, "ana", "bench")) < 0 ||
        (r = bench_group_create(&a, "bench", &inv, code, sizeof(code))) < 0)
        die("preparing %s: %s", dir_a, kith_strerror(r));

    crypto_sign_keypair(pk, sk);
    if ((r = bench_writer_init(&w, a.svc, &inv, sk, o->batch)) < 0)
        die("preparing %s: %s", dir_a, kith_strerror(r));
    if ((r = bench_writer_fill(&w, &p, o->posts, base)) < 0)
        die("storing posts on A: %s (%zu stored)", kith_strerror(r), w.stored_total);
    *sealed_total = w.sealed_total;
    *signed_len = w.signed_len;
    bench_writer_free(&w);
    bench_node_close(&a);

    if ((r = bench_node_open(&b, dir_b, "bo", "bench")) < 0 || (r = bench_group_join(&b, code)) < 0)
        die("preparing %s: %s", dir_b, kith_strerror(r));
    bench_node_close(&b);
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(&inv, sizeof(inv));
    sodium_memzero(code, sizeof(code));
}

/* One core's crypto_sign_verify_detached rate on msg_len-byte messages. */
static double raw_verify_rate(size_t msg_len)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[64];
    uint8_t *msg = malloc(msg_len);
    double best = 1e30;

    if (msg == NULL)
        die("out of memory");
    randombytes_buf(msg, msg_len);
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, msg_len, sk);
    for (int r = 0; r < VERIFY_ROUNDS; r++) {
        double t0 = now_s(), t;

        for (int i = 0; i < VERIFY_PER_ROUND; i++) {
            if (crypto_sign_verify_detached(sig, msg, msg_len, pk) != 0)
                die("raw verify failed");
        }
        t = now_s() - t0;
        best = t < best ? t : best;
    }
    free(msg);
    return VERIFY_PER_ROUND / best;
}

/* ---- the kithd processes and their control sockets ---- */

static void node_spawn(struct node *n, const char *kithd)
{
    char log[PATH_MAX + 8];

    if (snprintf(n->sock, sizeof(n->sock), "%s/kithd.sock", n->dir) >= (int)sizeof(n->sock))
        die("socket path too long under %s", n->dir);
    snprintf(log, sizeof(log), "%s.log", n->dir);
    n->fd = -1;
    n->pid = fork();
    if (n->pid < 0)
        die("fork: %s", strerror(errno));
    if (n->pid == 0) {
        FILE *f = freopen(log, "a", stderr);

        (void)f;
        execl(kithd, kithd, "--data", n->dir, "--listen", "127.0.0.1:0", "--no-discovery",
              (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", kithd, strerror(errno));
        _exit(127);
    }
    children[children[0] > 0 ? 1 : 0] = n->pid;
}

static int ctl_connect(struct node *n)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    memcpy(sun.sun_path, n->sock, sizeof(sun.sun_path));
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    n->fd = fd;
    return 0;
}

/* Send one request line; return the response's result (a new reference),
 * or die with the node's error. */
static json_t *ctl(struct node *n, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    size_t len, off = 0;
    json_t *resp, *res;
    char *nl;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    len = strlen(line);
    line[len++] = '\n';
    while (off < len) {
        ssize_t w = write(n->fd, line + off, len - off);

        if (w < 0 && errno != EINTR)
            die("writing to %s: %s", n->sock, strerror(errno));
        off += w > 0 ? (size_t)w : 0;
    }
    if (n->buf == NULL && (n->buf = malloc(LINE_MAX_BYTES + 1)) == NULL)
        die("out of memory");
    while ((nl = memchr(n->buf, '\n', n->len)) == NULL) {
        ssize_t r;

        if (n->len >= LINE_MAX_BYTES)
            die("response line too long from %s", n->sock);
        r = read(n->fd, n->buf + n->len, LINE_MAX_BYTES - n->len);
        if (r == 0 || (r < 0 && errno != EINTR))
            die("%s closed the control connection", n->sock);
        n->len += r > 0 ? (size_t)r : 0;
    }
    *nl = '\0';
    resp = json_loads(n->buf, 0, NULL);
    n->len -= (size_t)(nl + 1 - n->buf);
    memmove(n->buf, nl + 1, n->len);
    if (resp == NULL)
        die("unparsable response from %s", n->sock);
    if (!json_is_true(json_object_get(resp, "ok"))) {
        char *s = json_dumps(resp, 0);

        die("%s: %s", line, s != NULL ? s : "error");
    }
    res = json_incref(json_object_get(resp, "result"));
    json_decref(resp);
    return res;
}

/* Wait until the node answers status; die if it exits or takes too long. */
static void node_wait_ready(struct node *n)
{
    double t0 = now_s();

    while (ctl_connect(n) < 0) {
        int st;

        if (waitpid(n->pid, &st, WNOHANG) == n->pid)
            die("kithd on %s exited at start (see %s.log)", n->dir, n->dir);
        if (now_s() - t0 > START_TIMEOUT_S)
            die("kithd on %s did not start within %d s", n->dir, START_TIMEOUT_S);
        usleep(20000);
    }
    json_decref(ctl(n, "{\"id\":1,\"cmd\":\"status\"}"));
}

/* Stop the node (SIGTERM, then SIGKILL after 10 s); says so on stderr if it
 * did not exit cleanly. */
static void node_stop(struct node *n)
{
    int st = 0, i;

    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    free(n->buf);
    n->buf = NULL;
    if (n->pid <= 0)
        return;
    kill(n->pid, SIGTERM);
    for (i = 0; i < 200 && waitpid(n->pid, &st, WNOHANG) != n->pid; i++)
        usleep(50000);
    if (i == 200) {
        kill(n->pid, SIGKILL);
        waitpid(n->pid, &st, 0);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "kith_sync_bench: kithd on %s did not exit cleanly (see %s.log)\n", n->dir,
                n->dir);
    for (size_t k = 0; k < 2; k++) {
        if (children[k] == n->pid)
            children[k] = 0;
    }
    n->pid = 0;
}

/* VmRSS, VmHWM and RssAnon of pid, in KiB (-1 if unknown). RssAnon is the
 * process's own memory; the rest of VmRSS is mostly the store's mapped
 * pages (LMDB reads through mmap). */
static void mem_kb(pid_t pid, long *rss, long *hwm, long *anon)
{
    char path[64], line[256];
    FILE *f;

    *rss = *hwm = *anon = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            *rss = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            *hwm = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "RssAnon:", 8) == 0)
            *anon = strtol(line + 8, NULL, 10);
    }
    fclose(f);
}

/* The digest and item count of the node's only set, into out (33 bytes). */
static json_int_t set_digest(struct node *n, char out[33])
{
    json_t *r = ctl(n, "{\"id\":2,\"cmd\":\"sync.sets\"}");
    json_t *s0 = json_array_get(json_object_get(r, "sets"), 0);
    json_int_t items = s0 != NULL ? json_integer_value(json_object_get(s0, "items")) : -1;

    snprintf(out, 33, "%s", s0 != NULL ? json_string_value(json_object_get(s0, "digest")) : "");
    json_decref(r);
    return items;
}

/* Run cmd (sh -c) with PID_A and PID_B in its environment during the sync,
 * e.g. a profiler or tracer attaching to the nodes. --perf is
 * `perf record` of both nodes (B receives, A sends; they share the cores),
 * with DWARF call graphs: the libraries are built without frame pointers. */
static pid_t attach_start(const char *cmd, pid_t a, pid_t b)
{
    pid_t p = fork();

    if (p < 0)
        die("fork: %s", strerror(errno));
    if (p == 0) {
        char pid[16];

        setpgid(0, 0);
        snprintf(pid, sizeof(pid), "%d", (int)a);
        setenv("PID_A", pid, 1);
        snprintf(pid, sizeof(pid), "%d", (int)b);
        setenv("PID_B", pid, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(p, p);
    children[2] = p;
    usleep(500000); /* let it attach before the clock starts */
    return p;
}

static void attach_stop(pid_t p)
{
    int st;

    if (p <= 0)
        return;
    kill(-p, SIGINT); /* the whole group: sh and what it started */
    waitpid(p, &st, 0);
    children[2] = 0;
}

/* CPU seconds (user + system) used so far by a process (tid 0) or by one
 * of its threads (the loop thread is the one whose tid is the pid). */
static double cpu_s(pid_t pid, pid_t tid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    if (tid != 0)
        snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    else
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name (which may hold spaces): state is 3rd,
     * utime the 14th and stime the 15th. */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Bytes pid handed to write calls so far (/proc/PID/io wchar), -1 if
 * unknown: with the posts' size it shows the store's write amplification. */
static long long written(pid_t pid)
{
    char path[64], line[128];
    long long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "wchar:", 6) == 0)
            v = strtoll(line + 6, NULL, 10);
    }
    fclose(f);
    return v;
}

/* CPU seconds all cores spent busy and waiting for I/O so far (/proc/stat):
 * what else ran on the machine during the sync shows beside the nodes. */
static void machine_s(double *busy, double *iowait)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    double tck = (double)sysconf(_SC_CLK_TCK);

    *busy = *iowait = 0;
    if (f == NULL)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 8) {
        *busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tck;
        *iowait = (double)v[4] / tck;
    }
    fclose(f);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* What the nodes and the machine used, read before and after the sync. */
struct usage {
    double t, cpu_a, cpu_b, loop_b, busy, iowait;
    long long written_b;
};

static void usage_read(const struct node *a, const struct node *b, struct usage *u)
{
    u->cpu_a = cpu_s(a->pid, 0);
    u->cpu_b = cpu_s(b->pid, 0);
    u->loop_b = cpu_s(b->pid, b->pid);
    machine_s(&u->busy, &u->iowait);
    u->written_b = written(b->pid);
    u->t = now_s();
}

/* Poll B until its sync `sync_id` is done (*status_done: seconds from t0),
 * then both nodes until their set digests agree; returns B's set size. */
static json_int_t wait_synced(struct node *a, struct node *b, json_int_t sync_id, double t0,
                              double *status_done)
{
    double last_progress = t0;
    char da[33], db[33];
    json_int_t items_a, items_b;

    for (;;) {
        double t = now_s();
        json_t *r =
            ctl(b, "{\"id\":5,\"cmd\":\"sync.status\",\"sync_id\":%lld}", (long long)sync_id);
        const char *state = json_string_value(json_object_get(r, "state"));
        json_int_t done = json_integer_value(json_object_get(r, "posts_done"));

        if (state != NULL && strcmp(state, "done") == 0) {
            json_decref(r);
            *status_done = now_s() - t0;
            break;
        }
        if (state == NULL || strcmp(state, "running") != 0) {
            char *s = json_dumps(r, 0);
            die("sync ended %s", s != NULL ? s : "badly");
        }
        json_decref(r);
        if (t - last_progress >= 5.0) {
            fprintf(stderr, "kith_sync_bench: %.0f s, %lld posts moved\n", t - t0, (long long)done);
            last_progress = t;
        }
        if (t - t0 > SYNC_TIMEOUT_S)
            die("sync did not finish within %d s", SYNC_TIMEOUT_S);
        usleep(10000);
    }
    /* Done on B; A may still be storing B's profile post. The digests are
     * asked for only now: each one scans the whole set on the node. */
    for (;;) {
        items_b = set_digest(b, db);
        items_a = set_digest(a, da);
        if (items_a == items_b && strcmp(da, db) == 0)
            return items_b;
        if (now_s() - t0 > SYNC_TIMEOUT_S)
            die("digests still differ after %d s", SYNC_TIMEOUT_S);
        usleep(20000);
    }
}

static void print_mem(const char *name, pid_t pid)
{
    long rss, hwm, anon;

    mem_kb(pid, &rss, &hwm, &anon);
    printf("kithd_%s_vmrss_kb: %ld\n", name, rss);
    printf("kithd_%s_vmhwm_kb: %ld\n", name, hwm);
    printf("kithd_%s_rssanon_kb: %ld\n", name, anon);
}

/* The full sync benchmark. */
static void bench_sync(const struct opts *o)
{
    char tmp[64], addr[128];
    struct node a = {.fd = -1}, b = {.fd = -1};
    uint64_t sealed_total = 0;
    size_t signed_len = 0;
    double t0, t_prep, t_sync, t_status_done = 0, raw, n = (double)o->posts;
    struct usage u0, u1;
    json_t *r, *peer;
    json_int_t sync_id, items;
    const char *listen;
    pid_t attach = 0;

    if (snprintf(tmp, sizeof(tmp), "%s/kith-sbench-XXXXXX", o->tmp) >= (int)sizeof(tmp))
        die("--tmp %s: too long for a socket path under it", o->tmp);
    if (mkdtemp(tmp) == NULL)
        die("mkdtemp %s: %s", tmp, strerror(errno));
    snprintf(a.dir, sizeof(a.dir), "%s/a", tmp);
    snprintf(b.dir, sizeof(b.dir), "%s/b", tmp);
    fprintf(stderr, "kith_sync_bench: preparing %zu posts in %s\n", o->posts, tmp);
    t0 = now_s();
    prepare(o, a.dir, b.dir, &sealed_total, &signed_len);
    t_prep = now_s() - t0;
    raw = raw_verify_rate(signed_len);

    node_spawn(&a, o->kithd);
    node_spawn(&b, o->kithd);
    node_wait_ready(&a);
    node_wait_ready(&b);
    r = ctl(&a, "{\"id\":3,\"cmd\":\"peers\"}");
    listen = json_string_value(json_object_get(r, "listen"));
    if (listen == NULL)
        die("A does not listen");
    snprintf(addr, sizeof(addr), "%s", listen);
    json_decref(r);
    if (o->attach != NULL)
        attach = attach_start(o->attach, a.pid, b.pid);

    /* The clock runs from the sync request to equal digests. */
    usage_read(&a, &b, &u0);
    t0 = u0.t;
    r = ctl(&b, "{\"id\":4,\"cmd\":\"sync\",\"peer\":\"%s\"}", addr);
    sync_id = json_integer_value(json_object_get(r, "sync_id"));
    json_decref(r);
    items = wait_synced(&a, &b, sync_id, t0, &t_status_done);
    usage_read(&a, &b, &u1);
    t_sync = u1.t - t0;
    attach_stop(attach);

    r = ctl(&b, "{\"id\":6,\"cmd\":\"peers\"}");
    peer = json_array_get(json_object_get(r, "peers"), 0);
    printf("posts: %zu\n", o->posts);
    printf("body_bytes: %d\n", BODY_BYTES);
    printf("sealed_bytes_per_post: %.0f\n", (double)sealed_total / n);
    printf("signed_message_bytes: %zu\n", signed_len);
    printf("prepare_s: %.2f\n", t_prep);
    printf("set_items: %lld\n", (long long)items);
    printf("posts_received_by_b: %lld\n",
           (long long)json_integer_value(json_object_get(peer, "posts_received")));
    printf("sync_s: %.3f\n", t_sync);
    printf("sync_status_done_s: %.3f\n", t_status_done);
    printf("sync_posts_per_s: %.0f\n", n / t_sync);
    printf("sync_mb_per_s: %.2f\n", (double)sealed_total / 1e6 / t_sync);
    printf("wire_bytes_a_to_b: %lld\n",
           (long long)json_integer_value(json_object_get(peer, "bytes_received")));
    printf("wire_bytes_b_to_a: %lld\n",
           (long long)json_integer_value(json_object_get(peer, "bytes_sent")));
    printf("kithd_b_written_bytes: %lld\n", u1.written_b - u0.written_b);
    printf("kithd_a_cpu_s: %.2f\n", u1.cpu_a - u0.cpu_a);
    printf("kithd_b_cpu_s: %.2f\n", u1.cpu_b - u0.cpu_b);
    printf("kithd_b_loop_thread_cpu_s: %.2f\n", u1.loop_b - u0.loop_b);
    printf("kithd_b_threadpool_cpu_s: %.2f\n", (u1.cpu_b - u0.cpu_b) - (u1.loop_b - u0.loop_b));
    printf("cores: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("cores_busy_kithd: %.2f\n", (u1.cpu_a - u0.cpu_a + u1.cpu_b - u0.cpu_b) / t_sync);
    printf("cores_busy_other: %.2f\n",
           (u1.busy - u0.busy - (u1.cpu_a - u0.cpu_a) - (u1.cpu_b - u0.cpu_b)) / t_sync);
    printf("cores_iowait: %.2f\n", (u1.iowait - u0.iowait) / t_sync);
    printf("raw_verify_per_s: %.0f\n", raw);
    printf("ratio_sync_to_raw_verify: %.3f\n", n / t_sync / raw);
    print_mem("a", a.pid);
    print_mem("b", b.pid);
    fflush(stdout);
    json_decref(r);

    node_stop(&a);
    node_stop(&b);
    if (o->keep)
        fprintf(stderr, "kith_sync_bench: kept %s\n", tmp);
    else
        nftw(tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- reconciliation cost, in-process ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Times spread over a year: in ms as Kith posts carry them, or in seconds
 * as Nostr events (the sets the reference figures come from) do. */
static void rnd_item(struct kith_recon_item *it, int ms)
{
    uint64_t year_s = 365ull * 86400;

    it->ts = ms ? 1700000000000ull + rnd() % (year_s * 1000) : 1700000000ull + rnd() % year_s;
    for (int k = 0; k < KITH_RECON_ID_BYTES; k += 8) {
        uint64_t v = rnd();
        memcpy(it->id + k, &v, 8);
    }
}

struct recon_count {
    size_t have, need;
};

static int count_id(void *arg, int have, const uint8_t id[KITH_RECON_ID_BYTES])
{
    struct recon_count *c = arg;

    (void)id;
    if (have)
        c->have++;
    else
        c->need++;
    return 0;
}

struct recon_cost {
    size_t rounds, up, down, need;
};

static void grow(uint8_t **buf, size_t *cap, size_t want)
{
    if (want <= *cap)
        return;
    free(*buf);
    if ((*buf = malloc(want)) == NULL)
        die("out of memory");
    *cap = want;
}

/* Reconcile initiator set x against responder set y. */
static void recon_run(struct kith_recon_array *x, struct kith_recon_array *y, size_t limit,
                      enum kith_recon_policy policy, struct recon_cost *cost)
{
    struct kith_recon_storage sx, sy;
    struct kith_recon rx, ry;
    struct recon_count cnt = {0, 0};
    uint8_t *q = NULL, *a = NULL;
    size_t qcap = 0, acap = 0, qlen = 0, alen = 0, need;
    int r;

    memset(cost, 0, sizeof(*cost));
    kith_recon_array_storage(x, &sx);
    kith_recon_array_storage(y, &sy);
    if (kith_recon_init_policy(&rx, &sx, limit, 0, policy) < 0 ||
        kith_recon_init_policy(&ry, &sy, limit, 0, policy) < 0)
        die("kith_recon_init");
    grow(&q, &qcap, limit > KITH_RECON_INITIATE_MAX ? limit : KITH_RECON_INITIATE_MAX);
    if ((r = kith_recon_initiate(&rx, q, qcap, &qlen)) < 0)
        die("initiate: %s", kith_strerror(r));
    while (qlen > 0) {
        cost->up += qlen;
        if ((r = kith_recon_out_max(&ry, q, qlen, &need)) < 0)
            die("out_max: %s", kith_strerror(r));
        grow(&a, &acap, need);
        if ((r = kith_recon_reconcile(&ry, q, qlen, NULL, NULL, a, acap, &alen)) < 0)
            die("responder: %s", kith_strerror(r));
        cost->down += alen;
        cost->rounds++;
        if ((r = kith_recon_out_max(&rx, a, alen, &need)) < 0)
            die("out_max: %s", kith_strerror(r));
        grow(&q, &qcap, need);
        if ((r = kith_recon_reconcile(&rx, a, alen, count_id, &cnt, q, qcap, &qlen)) < 0)
            die("initiator: %s", kith_strerror(r));
    }
    cost->need = cnt.need;
    if (cnt.have != 0)
        die("reconciliation reported %zu ids the responder lacks; expected none", cnt.have);
    kith_recon_free(&rx);
    kith_recon_free(&ry);
    free(q);
    free(a);
}

static const char *reference(size_t n, size_t d)
{
    if (d == 0)
        return "1 round, ~330 B";
    if (n == 1000000 && d == 1)
        return "3 rounds, ~2.4 KB";
    if (n == 1000000 && d == 1000)
        return "1.38 MB";
    return "-";
}

static void print_cost(size_t n, size_t d, const char *what, const struct recon_cost *c)
{
    printf("recon_n%zu_d%zu_%s: rounds %zu, up %zu B, down %zu B, total %zu B (reference: %s)\n", n,
           d, what, c->rounds, c->up, c->down, c->up + c->down, reference(n, d));
}

/* Sets of n shared items plus d only the responder holds, with times in ms
 * or in seconds; the ms sets also with the frame limit kithd uses. */
static void bench_recon(size_t n, int ms)
{
    static const size_t ds[] = {0, 1, 10, 1000};
    struct kith_recon_item *items = malloc((n + 1000) * sizeof(*items));
    /* A RECON must fit one Noise message (peer_recon.c). */
    const size_t node_limit = KITH_WIRE_PIECE_MAX - KITH_WIRE_RECON_HEAD;

    if (items == NULL)
        die("out of memory");
    rng_state = 1;
    for (size_t i = 0; i < n + 1000; i++)
        rnd_item(&items[i], ms);
    for (size_t k = 0; k < sizeof(ds) / sizeof(ds[0]); k++) {
        size_t d = ds[k];
        struct kith_recon_array x, y;
        struct recon_cost c;

        kith_recon_array_init(&x);
        kith_recon_array_init(&y);
        for (size_t i = 0; i < n + d; i++) {
            if ((i < n && kith_recon_array_add(&x, items[i].ts, items[i].id) < 0) ||
                kith_recon_array_add(&y, items[i].ts, items[i].id) < 0)
                die("out of memory");
        }
        if (kith_recon_array_seal(&x) < 0 || kith_recon_array_seal(&y) < 0)
            die("cannot seal the sets (duplicate ids?)");
        for (int adaptive = 0; adaptive <= 1; adaptive++) {
            enum kith_recon_policy pol =
                adaptive ? KITH_RECON_POLICY_ADAPTIVE : KITH_RECON_POLICY_REFERENCE;
            char what[64];

            recon_run(&x, &y, 0, pol, &c);
            if (c.need != d)
                die("n=%zu d=%zu: found %zu differences", n, d, c.need);
            snprintf(what, sizeof(what), "%s%s", ms ? "ms" : "s", adaptive ? "_adaptive" : "");
            print_cost(n, d, what, &c);
            if (ms) {
                /* kithd uses the adaptive policy (node/peer_recon.c). */
                recon_run(&x, &y, node_limit, pol, &c);
                if (c.need < d)
                    die("n=%zu d=%zu: found %zu differences", n, d, c.need);
                snprintf(what, sizeof(what), "ms_kithd_frame_limit%s", adaptive ? "_adaptive" : "");
                print_cost(n, d, what, &c);
            }
        }
        fflush(stdout);
        kith_recon_array_free(&x);
        kith_recon_array_free(&y);
    }
    free(items);
}

/* ---- main ---- */

static void default_kithd(char *out, size_t cap)
{
    char self[PATH_MAX - 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    out[0] = '\0';
    if (n <= 0)
        return;
    self[n] = '\0';
    if ((slash = strrchr(self, '/')) != NULL)
        *slash = '\0';
    snprintf(out, cap, "%s/../node/kithd", self);
}

static void usage(void)
{
    fprintf(stderr, "usage: kith_sync_bench [--posts N] [--quick] [--kithd PATH] [--batch B]\n"
                    "                       [--perf FILE] [--attach CMD] [--tmp DIR] [--keep]\n"
                    "                       [--no-sync] [--no-recon]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct opts o = {.posts = 100000, .batch = 1000, .do_sync = 1, .do_recon = 1, .tmp = "/tmp"};
    static char kithd[PATH_MAX];
    int posts_given = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--posts") == 0 && i + 1 < argc) {
            o.posts = strtoul(argv[++i], NULL, 10);
            posts_given = 1;
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            o.batch = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--kithd") == 0 && i + 1 < argc) {
            o.kithd = argv[++i];
        } else if (strcmp(argv[i], "--perf") == 0 && i + 1 < argc) {
            snprintf(o.perf_cmd, sizeof(o.perf_cmd),
                     "exec perf record -q -F 999 --call-graph dwarf,16384 -o '%s' "
                     "-p \"$PID_A,$PID_B\"",
                     argv[++i]);
            o.attach = o.perf_cmd;
        } else if (strcmp(argv[i], "--tmp") == 0 && i + 1 < argc) {
            o.tmp = argv[++i];
        } else if (strcmp(argv[i], "--attach") == 0 && i + 1 < argc) {
            o.attach = argv[++i];
        } else if (strcmp(argv[i], "--quick") == 0) {
            o.quick = 1;
        } else if (strcmp(argv[i], "--keep") == 0) {
            o.keep = 1;
        } else if (strcmp(argv[i], "--no-sync") == 0) {
            o.do_sync = 0;
        } else if (strcmp(argv[i], "--no-recon") == 0) {
            o.do_recon = 0;
        } else {
            usage();
        }
    }
    if (o.quick && !posts_given)
        o.posts = 2000;
    if (o.posts == 0 || o.batch == 0)
        usage();
    if (o.kithd == NULL) {
        default_kithd(kithd, sizeof(kithd));
        o.kithd = kithd;
    }
    if (sodium_init() < 0)
        die("sodium_init failed");
    log_set_level(LOG_WARN); /* the in-process setup's info lines are noise here */
    signal(SIGPIPE, SIG_IGN);

    if (o.do_sync) {
        if (access(o.kithd, X_OK) != 0)
            die("no kithd at %s (pass --kithd PATH)", o.kithd);
        bench_sync(&o);
    }
    if (o.do_recon) {
        static const size_t quick[] = {10000}, full[] = {100000, 1000000};
        const size_t *ns = o.quick ? quick : full;
        size_t n_ns = o.quick ? 1 : 2;

        printf("recon_kithd_frame_limit_bytes: %zu\n",
               (size_t)(KITH_WIRE_PIECE_MAX - KITH_WIRE_RECON_HEAD));
        for (size_t i = 0; i < n_ns; i++) {
            bench_recon(ns[i], 1);
            bench_recon(ns[i], 0);
        }
    }
    return 0;
}
