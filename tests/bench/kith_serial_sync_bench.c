/*
 * kith_serial_sync_bench: how close a sync between two real kithd processes
 * over a serial line gets to the line's raw speed (issue 4, "Benchmark").
 * A benchmark, not a test: it prints figures and asserts nothing about
 * speed.
 *
 *   kith_serial_sync_bench [--posts N] [--size BYTES | --body BYTES]
 *       [--baud N] [--flip RATE] [--drop RATE] [--seed N]
 *       [--role-a auto|initiator|responder] [--kithd PATH] [--relay PATH]
 *       [--tmp DIR] [--timeout S] [--log-level LEVEL] [--keep]
 *
 * Node A (an account, a group, N posts by another member, each sealed post
 * --size bytes, default 500; or with --body, posts whose body is that many
 * bytes) and node B (an account that joined the group by its invite, no
 * posts) are prepared in-process in a private temp dir and closed. Then
 * kith-serial-relay plays the cable (throttled to --baud, 10 bits a byte as
 * 8N1; flipping and dropping bytes at the given rates, seeded) and two
 * kithd processes run on the data dirs with no TCP (--listen off
 * --no-discovery, and --web off), A on the relay's end a and B on end b (A in a [serial]
 * config section with --role-a, B the opposite role when A's is set). The
 * clock starts when B is started (A already runs) and stops when A's and
 * B's sync.sets digests agree.
 *
 * Output, "name: value" lines: the posts' sealed bytes (the bytes a post is
 * on the wire: what "post bytes" means here) and body bytes, the sync time,
 * post bytes per second and that as a fraction of the line rate (baud / 10
 * bytes a second), the same from the first post stored on B to the last
 * (the transfer phase, without start-up and handshake), the sessions and
 * bad frames the nodes logged, and the relay's byte counts.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "benchprep.h"
#include "kith/invite.h"
#include "kith/post.h"
#include "service.h"
#include "store.h"
#include "vault.h"

#define BATCH 500
#define LINE_MAX_BYTES ((size_t)1024 * 1024)
#define START_TIMEOUT_S 30

struct opts {
    size_t posts, size, body;
    uint32_t baud;
    const char *flip, *drop, *seed, *role_a, *kithd, *relay, *tmp, *log_level;
    int timeout_s, keep;
};

struct node {
    char dir[128];
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pid_t pid;
    int fd;
    char *buf;
    size_t len;
};

static pid_t children[3]; /* A, B, relay: killed if we die */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kith_serial_sync_bench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    for (size_t i = 0; i < 3; i++) {
        if (children[i] > 0)
            kill(children[i], SIGKILL);
    }
    exit(1);
}

/* ---- preparing the data dirs in-process ---- */

/* A: a group and o->posts posts; B: joined by the invite. *sealed_total:
 * the posts' sealed bytes. Sets o->body from o->size when it is 0. */
static void prepare(struct opts *o, const char *dir_a, const char *dir_b, uint64_t *sealed_total)
{
    static char body[KITH_POST_SEALED_MAX];
    struct bench_node a, b;
    struct bench_writer w;
    struct kith_invite inv;
    uint8_t pk[KITH_PUBKEY_BYTES], sk[KITH_SECKEY_BYTES];
    char code[KITH_INVITE_TEXT_MAX];
    uint64_t base = (uint64_t)time(NULL) * 1000 - o->posts - (uint64_t)3600 * 1000;
    struct bench_post p = {.kind = KITH_POST_KIND_POST, .topic = "Direct payments", .body = body};
    int r;

    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = "Notes from the meetup about direct payments and reviews.\n"[i % 57];
    if ((r = bench_node_open(&a, dir_a, "ana", "bench")) < 0 ||
        (r = bench_group_create(&a, "bench", &inv, code, sizeof(code))) < 0)
        die("preparing %s: %s", dir_a, kith_strerror(r));
    crypto_sign_keypair(pk, sk);
    if (o->body == 0) {
        /* The body that makes a sealed post o->size bytes. */
        struct kith_post probe = {.outer.version = KITH_POST_VERSION,
                                  .kind = KITH_POST_KIND_POST,
                                  .topic = p.topic,
                                  .topic_len = strlen(p.topic),
                                  .body = body,
                                  .body_len = 100};
        size_t overhead = kith_post_sealed_size(&probe) - 100;

        if (o->size <= overhead + 1)
            die("--size %zu: a post takes at least %zu bytes", o->size, overhead + 2);
        o->body = o->size - overhead;
    }
    p.body_len = o->body;
    if ((r = bench_writer_init(&w, a.svc, &inv, sk, BATCH)) < 0)
        die("preparing %s: %s", dir_a, kith_strerror(r));
    if ((r = bench_writer_fill(&w, &p, o->posts, base)) < 0)
        die("storing posts on A: %s (%zu stored)", kith_strerror(r), w.stored_total);
    *sealed_total = w.sealed_total;
    bench_writer_free(&w);
    bench_node_close(&a);
    if ((r = bench_node_open(&b, dir_b, "bo", "bench")) < 0 || (r = bench_group_join(&b, code)) < 0)
        die("preparing %s: %s", dir_b, kith_strerror(r));
    bench_node_close(&b);
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(&inv, sizeof(inv));
    sodium_memzero(code, sizeof(code));
}

/* ---- processes ---- */

static pid_t spawn(const char *log, char *const argv[])
{
    pid_t pid = fork();

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        FILE *f = freopen(log, "a", stderr);
        FILE *g = freopen("/dev/null", "w", stdout); /* the relay's paths: known */

        (void)f;
        (void)g;
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static void node_spawn(struct node *n, const char *kithd, const char *conf, int slot)
{
    char log[PATH_MAX + 8];
    char *argv[] = {(char *)kithd, "--data", n->dir,     "--listen",   "off", "--no-discovery",
                    "--web",       "off",    "--config", (char *)conf, NULL};

    if (snprintf(n->sock, sizeof(n->sock), "%s/kithd.sock", n->dir) >= (int)sizeof(n->sock))
        die("socket path too long under %s", n->dir);
    snprintf(log, sizeof(log), "%s.log", n->dir);
    n->fd = -1;
    n->pid = spawn(log, argv);
    children[slot] = n->pid;
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

/* One request line; the response's result (a new reference), or die. */
static json_t *ctl(struct node *n, const char *req)
{
    size_t len = strlen(req), off = 0;
    json_t *resp, *res;
    char *nl;

    while (off < len) {
        ssize_t w = write(n->fd, req + off, len - off);

        if (w < 0 && errno != EINTR)
            die("writing to %s: %s", n->sock, strerror(errno));
        off += w > 0 ? (size_t)w : 0;
    }
    if (n->buf == NULL && (n->buf = malloc(LINE_MAX_BYTES + 1)) == NULL)
        die("out of memory");
    n->buf[n->len] = '\0';
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
    if (resp == NULL || !json_is_true(json_object_get(resp, "ok")))
        die("%s: request failed: %s", n->sock, req);
    res = json_incref(json_object_get(resp, "result"));
    json_decref(resp);
    return res;
}

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
}

static void stop_pid(pid_t pid)
{
    int st = 0, i;

    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (i = 0; i < 200 && waitpid(pid, &st, WNOHANG) != pid; i++)
        usleep(50000);
    if (i == 200) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
}

static void node_stop(struct node *n, int slot)
{
    if (n->fd >= 0)
        close(n->fd);
    free(n->buf);
    n->buf = NULL;
    stop_pid(n->pid);
    children[slot] = 0;
}

/* Items and digest of the node's only set. */
static json_int_t set_digest(struct node *n, char out[33])
{
    json_t *r = ctl(n, "{\"id\":2,\"cmd\":\"sync.sets\"}\n");
    json_t *s0 = json_array_get(json_object_get(r, "sets"), 0);
    json_int_t items = s0 != NULL ? json_integer_value(json_object_get(s0, "items")) : -1;

    snprintf(out, 33, "%s", s0 != NULL ? json_string_value(json_object_get(s0, "digest")) : "");
    json_decref(r);
    return items;
}

/* How many lines of file contain pat. */
static long count_lines(const char *file, const char *pat)
{
    char line[2048];
    long n = 0;
    FILE *f = fopen(file, "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, pat) != NULL;
    fclose(f);
    return n;
}

static void write_conf(const char *path, const char *dev, uint32_t baud, const char *role,
                       const char *log_level)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    fprintf(f, "[node]\nlog_level = %s\n", log_level);
    fprintf(f, "[serial]\ndevice = %s\nbaud = %u\nrole = %s\n", dev, (unsigned)baud, role);
    fclose(f);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void bench(struct opts *o)
{
    char tmp[64], rdir[96], dev_a[128], dev_b[128], conf_a[128], conf_b[128], rlog[128];
    char da[33], db[33], line[512], baud_s[16];
    struct node a = {.fd = -1}, b = {.fd = -1};
    uint64_t sealed_total = 0;
    double t0, t_first = -1, t_last = -1, t_end, rate = o->baud / 10.0, last_print;
    json_int_t base_b, items_b = 0, items_a, prev = -1;
    const char *role_b;
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s/kith-ssb-XXXXXX", o->tmp) >= (int)sizeof(tmp))
        die("--tmp %s: too long for a socket path under it", o->tmp);
    if (mkdtemp(tmp) == NULL)
        die("mkdtemp %s: %s", tmp, strerror(errno));
    snprintf(a.dir, sizeof(a.dir), "%s/a", tmp);
    snprintf(b.dir, sizeof(b.dir), "%s/b", tmp);
    snprintf(rdir, sizeof(rdir), "%s/relay", tmp);
    snprintf(dev_a, sizeof(dev_a), "%s/a", rdir);
    snprintf(dev_b, sizeof(dev_b), "%s/b", rdir);
    snprintf(conf_a, sizeof(conf_a), "%s/a.conf", tmp);
    snprintf(conf_b, sizeof(conf_b), "%s/b.conf", tmp);
    snprintf(rlog, sizeof(rlog), "%s/relay.log", tmp);
    snprintf(baud_s, sizeof(baud_s), "%u", (unsigned)o->baud);
    if (mkdir(rdir, 0700) < 0)
        die("mkdir %s: %s", rdir, strerror(errno));
    fprintf(stderr, "kith_serial_sync_bench: preparing %zu posts in %s\n", o->posts, tmp);
    prepare(o, a.dir, b.dir, &sealed_total);

    {
        char *argv[] = {(char *)o->relay, "--dir",         rdir,
                        "--baud",         baud_s,          "--flip",
                        (char *)o->flip,  "--drop",        (char *)o->drop,
                        "--seed",         (char *)o->seed, NULL};
        double tr = now_s();

        children[2] = spawn(rlog, argv);
        while (access(dev_b, F_OK) < 0) {
            if (now_s() - tr > 10)
                die("the relay did not start (see %s)", rlog);
            usleep(20000);
        }
    }
    role_b = strcmp(o->role_a, "initiator") == 0   ? "responder"
             : strcmp(o->role_a, "responder") == 0 ? "initiator"
                                                   : "auto";
    write_conf(conf_a, dev_a, o->baud, o->role_a, o->log_level);
    write_conf(conf_b, dev_b, o->baud, role_b, o->log_level);
    node_spawn(&a, o->kithd, conf_a, 0);
    node_wait_ready(&a);
    t0 = now_s();
    node_spawn(&b, o->kithd, conf_b, 1);
    node_wait_ready(&b);
    base_b = set_digest(&b, db);
    last_print = t0;
    for (;;) {
        double t = now_s();

        items_b = set_digest(&b, db);
        if (items_b != prev) {
            if (t_first < 0 && items_b > base_b)
                t_first = t;
            t_last = t;
            prev = items_b;
        }
        if (items_b >= base_b + (json_int_t)o->posts) {
            items_a = set_digest(&a, da);
            if (items_a == items_b && strcmp(da, db) == 0)
                break;
        }
        if (t - last_print >= 10) {
            fprintf(stderr, "kith_serial_sync_bench: %.0f s, B holds %lld of %zu\n", t - t0,
                    (long long)(items_b - base_b), o->posts);
            last_print = t;
        }
        if (t - t0 > o->timeout_s)
            die("no sync within %d s (B holds %lld of %zu; see %s)", o->timeout_s,
                (long long)(items_b - base_b), o->posts, tmp);
        usleep(50000);
    }
    t_end = now_s();

    printf("baud: %u\n", (unsigned)o->baud);
    printf("line_bytes_per_s: %.0f\n", rate);
    printf("flip_rate: %s\n", o->flip);
    printf("drop_rate: %s\n", o->drop);
    printf("role_a: %s\n", o->role_a);
    printf("posts: %zu\n", o->posts);
    printf("body_bytes: %zu\n", o->body);
    printf("sealed_bytes_per_post: %.1f\n", (double)sealed_total / (double)o->posts);
    printf("post_bytes: %llu\n", (unsigned long long)sealed_total);
    printf("sync_s: %.2f\n", t_end - t0);
    printf("post_bytes_per_s: %.0f\n", (double)sealed_total / (t_end - t0));
    printf("fraction_of_line_rate: %.3f\n", (double)sealed_total / (t_end - t0) / rate);
    printf("first_post_s: %.2f\n", t_first - t0);
    if (t_last > t_first) {
        printf("transfer_s: %.2f\n", t_last - t_first);
        printf("transfer_fraction_of_line_rate: %.3f\n",
               (double)sealed_total / (t_last - t_first) / rate);
    }
    printf("body_bytes_fraction_of_line_rate: %.3f\n",
           (double)(o->body * o->posts) / (t_end - t0) / rate);
    {
        char la[PATH_MAX + 8], lb[PATH_MAX + 8];

        snprintf(la, sizeof(la), "%s.log", a.dir);
        snprintf(lb, sizeof(lb), "%s.log", b.dir);
        printf("sessions: %ld\n", count_lines(la, " serial.linked "));
        printf("bad_frames_a: %ld\n", count_lines(la, " serial.bad_frame "));
        printf("bad_frames_b: %ld\n", count_lines(lb, " serial.bad_frame "));
        node_stop(&a, 0);
        node_stop(&b, 1);
    }
    stop_pid(children[2]);
    children[2] = 0;
    if ((f = fopen(rlog, "r")) != NULL) {
        while (fgets(line, sizeof(line), f) != NULL) {
            if (strncmp(line, "relay: a->b", 11) == 0)
                printf("relay: %s", line + 7);
        }
        fclose(f);
    }
    fflush(stdout);
    if (o->keep)
        fprintf(stderr, "kith_serial_sync_bench: kept %s\n", tmp);
    else
        nftw(tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* DIR/../node/kithd and DIR/kith-serial-relay for this program in DIR. */
static void sibling(const char *rel, char *out, size_t cap)
{
    char self[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    out[0] = '\0';
    if (n <= 0)
        return;
    self[n] = '\0';
    if ((slash = strrchr(self, '/')) != NULL)
        *slash = '\0';
    snprintf(out, cap, "%s/%s", self, rel);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: kith_serial_sync_bench [--posts N] [--size BYTES | --body BYTES] [--baud N]\n"
            "           [--flip RATE] [--drop RATE] [--seed N]\n"
            "           [--role-a auto|initiator|responder] [--kithd PATH] [--relay PATH]\n"
            "           [--tmp DIR] [--timeout S] [--log-level LEVEL] [--keep]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static char kithd[PATH_MAX], relay[PATH_MAX];
    struct opts o = {.posts = 2000,
                     .size = 500,
                     .baud = 115200,
                     .flip = "0",
                     .drop = "0",
                     .seed = "1",
                     .role_a = "auto",
                     .tmp = "/tmp",
                     .log_level = "info",
                     .timeout_s = 1800};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--keep") == 0) {
            o.keep = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--posts") == 0)
            o.posts = strtoul(v, NULL, 10);
        else if (strcmp(a, "--size") == 0)
            o.size = strtoul(v, NULL, 10);
        else if (strcmp(a, "--body") == 0)
            o.body = strtoul(v, NULL, 10);
        else if (strcmp(a, "--baud") == 0)
            o.baud = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--flip") == 0)
            o.flip = v;
        else if (strcmp(a, "--drop") == 0)
            o.drop = v;
        else if (strcmp(a, "--seed") == 0)
            o.seed = v;
        else if (strcmp(a, "--role-a") == 0)
            o.role_a = v;
        else if (strcmp(a, "--kithd") == 0)
            o.kithd = v;
        else if (strcmp(a, "--relay") == 0)
            o.relay = v;
        else if (strcmp(a, "--tmp") == 0)
            o.tmp = v;
        else if (strcmp(a, "--log-level") == 0)
            o.log_level = v;
        else if (strcmp(a, "--timeout") == 0)
            o.timeout_s = atoi(v);
        else
            usage();
    }
    if (o.posts == 0 || o.baud == 0 || o.body >= KITH_POST_SEALED_MAX / 2)
        usage();
    if (o.kithd == NULL) {
        sibling("../node/kithd", kithd, sizeof(kithd));
        o.kithd = kithd;
    }
    if (o.relay == NULL) {
        sibling("kith-serial-relay", relay, sizeof(relay));
        o.relay = relay;
    }
    if (sodium_init() < 0)
        die("sodium_init failed");
    signal(SIGPIPE, SIG_IGN);
    bench(&o);
    return 0;
}
