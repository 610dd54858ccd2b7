/*
 * main: kithd's entry point. It reads the command line and config, makes the
 * data directory, takes the node's lock, unlocks the node key, opens the
 * store, vault and service, serves the control socket, and on SIGINT or
 * SIGTERM takes it all down again in reverse order with no handle left open.
 *
 * Sync: the node identity is loaded (or made) with the vault; the sync
 * manager (sync.c: listener, discovery, peer sessions) starts after the
 * control socket and stops first.
 *
 * Config: the file given with --config (else DATA/kithd.conf when it
 * exists), then the *.conf drop-ins in the conf.d directory beside it, in
 * name order, then the command line (config_load_all in config.c). SIGHUP
 * reads the same files again and applies what can change while running:
 * log_level, the [sync] peer lines and max_concurrent_syncs. Every other
 * setting needs a restart: a reload that changes one logs its name and
 * keeps the running value, and a reload with a bad config logs why and
 * keeps the whole running config.
 *
 * systemd: with $NOTIFY_SOCKET set (Type=notify), kithd tells the service
 * manager READY=1 once the store, the control socket, the web page and the
 * sync listener are up; RELOADING=1 then READY=1 around a reload; and
 * STOPPING=1 when it begins to stop (sd_notify; nothing without the
 * variable).
 *
 * It owns the libuv loop, the signal and tick handles, the lock file
 * descriptor and the passphrase buffer (wiped as soon as the vault is open).
 * Every start-up failure is one line on stderr starting "kithd: " and exit 1.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "config.h"
#include "control.h"
#include "kith/error.h"
#include "log.h"
#include "service.h"
#include "store.h"
#include "identity.h"
#include "sync.h"
#include "vault.h"
#include "tcp.h"
#include "web.h"

#ifndef KITH_VERSION
#define KITH_VERSION "unknown"
#endif

#define PASS_MAX 1024
#define TICK_MS 60000 /* service_tick once a minute */

struct daemon {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t tick;
    int loop_ready, handles_ready;
    struct config cfg;
    struct config next;      /* a reload reads into this, then applies */
    struct config_args args; /* the command line, kept for reloads */
    gid_t control_gid;       /* [control] group, or CONTROL_NO_GROUP */
    struct store *st;
    struct vault *vault;
    struct service *svc;
    struct control *ctl;
    struct identity *id;
    struct sync *sync;
    struct web *web;
    int lock_fd;
    char pass[PASS_MAX];
    size_t pass_len;
};

/* kith_strerror, with strerror's capital letter lowered to sit mid-line. */
static const char *errtext(int err)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "%s", kith_strerror(err));
    if (err < 0 && -err < KITH_ERRBASE)
        buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

/* Print "kithd: " + one line for people on stderr. Returns -1. */
__attribute__((format(printf, 1, 2))) static int fail_line(const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "kithd: %s\n", line);
    return -1;
}

/* mkdir -p with mode 0700 for every directory made; an existing data
 * directory open to others is tightened, since it holds the node key. */
static int make_data_dir(const char *dir)
{
    char path[CONFIG_PATH_MAX];
    struct stat sb;

    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return fail_line("cannot create the data directory %s: %s", path, errtext(-errno));
        *p = '/';
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return fail_line("cannot create the data directory %s: %s", path, errtext(-errno));
    if (stat(path, &sb) < 0)
        return fail_line("cannot use the data directory %s: %s", path, errtext(-errno));
    if (!S_ISDIR(sb.st_mode))
        return fail_line("the data directory %s is not a directory", path);
    if ((sb.st_mode & 077) != 0) {
        if (chmod(path, 0700) < 0)
            return fail_line("the data directory %s can be read by other users and chmod 700 "
                             "failed: %s",
                             path, errtext(-errno));
        log_warn("datadir.tightened", "dir=%s mode=0700", path);
    }
    return 0;
}

/* One kithd per data directory: a lock held for the life of the process
 * (released by the kernel even on kill -9, unlike a pid file). */
static int take_lock(struct daemon *d)
{
    char path[CONFIG_PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/kithd.lock", d->cfg.data_dir);
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->lock_fd < 0)
        return fail_line("cannot create %s: %s", path, errtext(-errno));
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return fail_line("another kithd is already running with the data directory %s",
                             d->cfg.data_dir);
        return fail_line("cannot lock %s: %s", path, errtext(-errno));
    }
    return 0;
}

/* Read one line from fd into buf (cap bytes), without the newline. */
static int read_pass_line(int fd, char *buf, size_t cap, size_t *len)
{
    char c = 0;
    ssize_t n;

    *len = 0;
    for (;;) {
        n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == '\n')
            break;
        if (*len + 1 >= cap)
            return -KITH_ETOOBIG;
        buf[(*len)++] = c;
    }
    if (*len > 0 && buf[*len - 1] == '\r')
        (*len)--;
    c = 0;
    return n < 0 ? -errno : 0;
}

/* Ask on the terminal with echo off. Returns 0 or -errno. */
static int tty_ask(int fd, const char *prompt, char *buf, size_t cap, size_t *len)
{
    struct termios old, quiet;
    int r;

    if (tcgetattr(fd, &old) < 0)
        return -errno;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    quiet.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
        return -errno;
    r = read_pass_line(fd, buf, cap, len);
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* Only the cursor stays on the prompt line. */
    }
    return r;
}

/* The passphrase from the terminal; asked twice for a new node, where a
 * typo would lock the owner out for good. */
static int read_pass_tty(struct daemon *d, int is_new)
{
    char again[PASS_MAX];
    size_t again_len = 0;
    int fd, r, same;

    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return fail_line("this node's key needs a passphrase: set KITHD_PASSPHRASE, pass "
                         "--passphrase-stdin, or start kithd on a terminal");
    r = tty_ask(fd,
                is_new ? "New passphrase for this Kith node: " : "Passphrase for this Kith node: ",
                d->pass, sizeof(d->pass), &d->pass_len);
    if (r == 0 && is_new && d->pass_len > 0) {
        r = tty_ask(fd, "The same again, to be sure: ", again, sizeof(again), &again_len);
        same = again_len == d->pass_len && sodium_memcmp(again, d->pass, again_len) == 0;
        sodium_memzero(again, sizeof(again));
        if (r == 0 && !same) {
            close(fd);
            return fail_line("the two passphrases are not the same; nothing was set up");
        }
    }
    close(fd);
    if (r == -KITH_ETOOBIG)
        return fail_line("the passphrase is too long (at most %d bytes)", PASS_MAX - 1);
    if (r < 0)
        return fail_line("cannot read the passphrase on the terminal: %s", errtext(r));
    return 0;
}

static int get_passphrase(struct daemon *d, int from_stdin)
{
    char *env = getenv("KITHD_PASSPHRASE");
    char path[CONFIG_PATH_MAX + 32];
    int r, is_new;

    /* No store yet: this passphrase will be the node's from now on. */
    snprintf(path, sizeof(path), "%s/store/data.mdb", d->cfg.data_dir);
    is_new = access(path, F_OK) < 0;

    if (env != NULL && env[0] != '\0') {
        size_t n = strlen(env);

        if (n >= sizeof(d->pass))
            return fail_line("KITHD_PASSPHRASE is too long (at most %d bytes)", PASS_MAX - 1);
        memcpy(d->pass, env, n);
        d->pass_len = n;
        /* Keep it out of /proc/PID/environ and out of child processes. */
        sodium_memzero(env, n);
        unsetenv("KITHD_PASSPHRASE");
    } else if (from_stdin) {
        r = read_pass_line(STDIN_FILENO, d->pass, sizeof(d->pass), &d->pass_len);
        if (r == -KITH_ETOOBIG)
            return fail_line("the passphrase is too long (at most %d bytes)", PASS_MAX - 1);
        if (r < 0)
            return fail_line("cannot read the passphrase from standard input: %s", errtext(r));
    } else if (read_pass_tty(d, is_new) < 0) {
        return -1;
    }
    if (d->pass_len == 0)
        return fail_line("the passphrase is empty");
    return 0;
}

static int open_vault(struct daemon *d)
{
    const struct config *c = &d->cfg;
    int r;

    if (c->key_source == CONFIG_KEY_FILE) {
        r = vault_open_keyfile(d->st, c->key_file, &d->vault);
        if (r == -KITH_EKEYFILE)
            return fail_line("the key file %s can be read by other users; "
                             "run: chmod 600 %s",
                             c->key_file, c->key_file);
        if (r == -KITH_ENOKEY)
            return fail_line("cannot use the key file %s: it is missing, damaged or not the "
                             "key this node was made with (a node made with a passphrase "
                             "needs key_source = passphrase)",
                             c->key_file);
        if (r < 0)
            return fail_line("cannot use the key file %s: %s", c->key_file, errtext(r));
        return 0;
    }
    r = vault_open_passphrase(d->st, d->pass, d->pass_len, &d->vault);
    sodium_memzero(d->pass, sizeof(d->pass));
    d->pass_len = 0;
    if (r == -KITH_EPASSPHRASE)
        return fail_line("wrong passphrase for this node");
    if (r == -KITH_ENOKEY)
        return fail_line("this node was made with a key file, not a passphrase "
                         "(set key_source = file or use --key-file)");
    if (r < 0)
        return fail_line("cannot unlock the node key: %s", errtext(r));
    return 0;
}

static int is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* $KITH_CONTENT, else the installed content, else the source tree's. */
static const char *content_dir(void)
{
    const char *env = getenv("KITH_CONTENT");

    if (env != NULL && env[0] != '\0')
        return env;
#ifdef KITH_DATADIR
    if (is_dir(KITH_DATADIR))
        return KITH_DATADIR;
#endif
#ifdef KITH_SOURCE_CONTENT
    if (is_dir(KITH_SOURCE_CONTENT))
        return KITH_SOURCE_CONTENT;
#endif
    return NULL;
}

static void on_tick(uv_timer_t *t)
{
    struct daemon *d = t->data;

    service_tick(d->svc);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;

    log_info("kithd.stopping", "signal=%s", signum == SIGINT ? "SIGINT" : "SIGTERM");
    sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
    sync_stop(d->sync);
    d->sync = NULL;
    web_stop(d->web);
    d->web = NULL;
    control_stop(d->ctl);
    d->ctl = NULL;
    /* Closing the signal handles restores the default action, so a second
     * Ctrl-C during a slow stop ends the process at once. */
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->tick, NULL);
}

static int start_sync(struct daemon *d)
{
    const struct config *c = &d->cfg;
    const char *peers[CONFIG_PEERS_MAX];
    struct serial_config serials[CONFIG_SERIALS_MAX];
    struct sync_config sc;
    int r;

    memset(&sc, 0, sizeof(sc));
    memset(serials, 0, sizeof(serials));
    for (size_t i = 0; i < c->n_peers; i++)
        peers[i] = c->peers[i];
    for (size_t i = 0; i < c->n_serials; i++) {
        serials[i].device = c->serials[i].device;
        serials[i].baud = c->serials[i].baud;
        serials[i].flow = c->serials[i].flow;
        serials[i].role = c->serials[i].role;
    }
    sc.serials = serials;
    sc.n_serials = c->n_serials;
    sc.listen = c->listen;
    sc.peers = peers;
    sc.n_peers = c->n_peers;
    sc.discovery = c->discovery;
    sc.discovery_port = c->discovery_port;
    sc.beacon_interval_ms = c->beacon_interval_seconds * 1000;
    sc.max_peers = c->max_peers;
    sc.max_syncs = c->max_concurrent_syncs;
    sc.idle_timeout_ms = c->idle_timeout_seconds * 1000;
    sc.handshake_timeout_ms = c->handshake_timeout_seconds * 1000;
    if (c->listen[0] == '\0')
        log_info("sync.not_listening", "listen=off");
    r = sync_start(&d->loop, d->svc, d->st, d->vault, d->id, &sc, &d->sync);
    if (r == -EADDRINUSE && strcmp(c->listen, CONFIG_LISTEN_DEFAULT) == 0) {
        /* A second node on this machine with the defaults: it can still
         * sync by connecting out. */
        log_warn("sync.not_listening", "listen=%s error=EADDRINUSE", c->listen);
        fprintf(stderr,
                "kithd: port %s is taken (another kithd?); not accepting sync "
                "connections. Choose a port with --listen ADDR:PORT\n",
                c->listen);
        sc.listen = NULL;
        r = sync_start(&d->loop, d->svc, d->st, d->vault, d->id, &sc, &d->sync);
    }
    if (r == -EADDRINUSE)
        return fail_line("cannot listen for sync on %s: the port is in use (another kithd? "
                         "choose another with --listen ADDR:PORT)",
                         c->listen);
    if (r < 0)
        return fail_line("cannot start syncing (listen %s): %s",
                         c->listen[0] != '\0' ? c->listen : "off", errtext(r));
    if (sync_port(d->sync) != 0)
        log_info("sync.listening", "port=%u", (unsigned)sync_port(d->sync));
    return 0;
}

/* The web page (web.c) on [web] listen, unless it is off. Prints where. */
static int start_web(struct daemon *d, const char *content)
{
    const struct config *c = &d->cfg;
    struct web_config wc;
    char host[TCP_HOST_MAX], err[WEB_ERR_MAX];
    uint16_t port = 0;
    int r;

    if (c->web_listen[0] == '\0') {
        log_info("web.off", "listen=off");
        return 0;
    }
    if (tcp_split_hostport(c->web_listen, host, sizeof(host), &port) < 0)
        return fail_line("bad web address %s", c->web_listen);
    memset(&wc, 0, sizeof(wc));
    wc.addr = host;
    wc.port = port;
    wc.content_dir = content;
    wc.allow_signup = c->allow_signup;
    wc.idle_s = c->session_idle_minutes * 60;
    r = web_start(&d->loop, d->svc, &wc, &d->web, err);
    if (r == -EADDRINUSE && strcmp(c->web_listen, CONFIG_WEB_DEFAULT) == 0) {
        /* A second node on this machine with the defaults: it still works
         * for kith and sync; only the page is not served. */
        log_warn("web.not_listening", "listen=%s error=EADDRINUSE", c->web_listen);
        fprintf(stderr,
                "kithd: port %s is taken (another kithd?); not serving the web page. Choose "
                "a port with --web ADDR:PORT\n",
                c->web_listen);
        return 0;
    }
    if (r == -EADDRINUSE)
        return fail_line("cannot serve the web page on %s: the port is in use (choose another "
                         "with --web ADDR:PORT, or --web off)",
                         c->web_listen);
    if (r < 0)
        return fail_line("cannot start the web page on %s: %s", c->web_listen,
                         err[0] != '\0' ? err : errtext(r));
    log_info("web.listening", "addr=%s port=%u signup=%s", host, (unsigned)web_port(d->web),
             c->allow_signup ? "open" : "invite");
    fprintf(stderr, "kithd: web page at http://%s%s%s:%u/\n", strchr(host, ':') ? "[" : "",
            strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host, strchr(host, ':') ? "]" : "",
            (unsigned)web_port(d->web));
    return 0;
}

/*
 * Read the config as at start: defaults, the config file and its conf.d
 * drop-ins (--config FILE, else DATA/kithd.conf if it exists), then the
 * command line a. Fills c; returns 0, or -1 with err set (one line).
 */
static int read_config(const struct config_args *a, struct config *c, char *err, size_t errlen)
{
    config_init(c);
    if (a->config_file != NULL) {
        if (config_load_all(c, a->config_file, err, errlen) < 0)
            return -1;
    } else if (c->data_dir[0] != '\0' || a->data_dir != NULL) {
        /* Only a file that is there: kithd runs with no config at all. */
        char path[CONFIG_PATH_MAX + 16];

        snprintf(path, sizeof(path), "%s/kithd.conf",
                 a->data_dir != NULL ? a->data_dir : c->data_dir);
        if (access(path, F_OK) == 0 && config_load_all(c, path, err, errlen) < 0)
            return -1;
    }
    if (config_from_args(c, a, err, errlen) < 0 || config_resolve(c, err, errlen) < 0)
        return -1;
    return 0;
}

static int load_config(struct daemon *d, const struct config_args *a)
{
    char err[CONFIG_ERR_MAX];

    if (read_config(a, &d->cfg, err, sizeof(err)) < 0)
        return fail_line("%s", err);
    return 0;
}

/* The [control] group's id, for a socket its members may use. */
static int find_control_group(struct daemon *d)
{
    const char *name = d->cfg.control_group;
    int r;

    d->control_gid = CONTROL_NO_GROUP;
    if (name[0] == '\0')
        return 0;
    r = control_group_id(name, &d->control_gid);
    if (r == -ENOENT)
        return fail_line("there is no group called %s on this system ([control] group in the "
                         "config): create it, or remove the setting",
                         name);
    if (r < 0)
        return fail_line("cannot look up the group %s ([control] group): %s", name, errtext(r));
    return 0;
}

/* One line for systemctl status: where the node can be reached. */
static void status_line(const struct daemon *d, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "Ready; control socket %s", d->cfg.socket_path);

    if (n > 0 && (size_t)n < cap && d->web != NULL)
        n +=
            snprintf(buf + n, cap - (size_t)n, "; web page on port %u", (unsigned)web_port(d->web));
    if (n > 0 && (size_t)n < cap && d->sync != NULL && sync_port(d->sync) != 0)
        snprintf(buf + n, cap - (size_t)n, "; sync on port %u", (unsigned)sync_port(d->sync));
}

static void notify_ready(const struct daemon *d)
{
    char status[CONFIG_PATH_MAX + 128];

    status_line(d, status, sizeof(status));
    sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

/* Is peer in the list? */
static int has_peer(const struct config *c, const char *peer)
{
    for (size_t i = 0; i < c->n_peers; i++)
        if (strcmp(c->peers[i], peer) == 0)
            return 1;
    return 0;
}

static int same_serials(const struct config *a, const struct config *b)
{
    if (a->n_serials != b->n_serials)
        return 0;
    for (size_t i = 0; i < a->n_serials; i++) {
        const struct config_serial *x = &a->serials[i], *y = &b->serials[i];

        if (strcmp(x->device, y->device) != 0 || x->baud != y->baud || x->flow != y->flow ||
            x->role != y->role)
            return 0;
    }
    return 1;
}

/* Append name to a comma-separated list in buf. */
static void add_name(char *buf, size_t cap, const char *name)
{
    size_t n = strlen(buf);

    snprintf(buf + n, cap - n, "%s%s", n > 0 ? "," : "", name);
}

/* The settings that only a restart can change, as "section.name,...". */
static void restart_needed(const struct config *o, const struct config *n, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (strcmp(o->data_dir, n->data_dir) != 0)
        add_name(buf, cap, "node.data_dir");
    if (strcmp(o->key_file, n->key_file) != 0)
        add_name(buf, cap, "node.key_file");
    if (o->key_source != n->key_source)
        add_name(buf, cap, "node.key_source");
    if (o->session_idle_minutes != n->session_idle_minutes)
        add_name(buf, cap, "node.session_idle_minutes");
    if (strcmp(o->socket_path, n->socket_path) != 0)
        add_name(buf, cap, "control.socket");
    if (strcmp(o->control_group, n->control_group) != 0)
        add_name(buf, cap, "control.group");
    if (strcmp(o->listen, n->listen) != 0)
        add_name(buf, cap, "sync.listen");
    if (o->discovery != n->discovery)
        add_name(buf, cap, "sync.discovery");
    if (o->discovery_port != n->discovery_port)
        add_name(buf, cap, "sync.discovery_port");
    if (o->beacon_interval_seconds != n->beacon_interval_seconds)
        add_name(buf, cap, "sync.beacon_interval_seconds");
    if (o->max_peers != n->max_peers)
        add_name(buf, cap, "sync.max_peers");
    if (o->max_peers != n->max_peers && o->max_concurrent_syncs != n->max_concurrent_syncs)
        add_name(buf, cap, "sync.max_concurrent_syncs");
    if (o->idle_timeout_seconds != n->idle_timeout_seconds)
        add_name(buf, cap, "sync.idle_timeout_seconds");
    if (o->handshake_timeout_seconds != n->handshake_timeout_seconds)
        add_name(buf, cap, "sync.handshake_timeout_seconds");
    if (!same_serials(o, n))
        add_name(buf, cap, "serial");
    if (strcmp(o->web_listen, n->web_listen) != 0)
        add_name(buf, cap, "web.listen");
    if (o->allow_signup != n->allow_signup)
        add_name(buf, cap, "web.allow_signup");
}

/* Apply the peer lines of n over the running ones; returns how many were
 * added and removed. A peer that cannot be added is logged and left out. */
static void apply_peers(struct daemon *d, const struct config *n, size_t *added, size_t *removed)
{
    struct config *c = &d->cfg;
    size_t kept = 0;

    *added = *removed = 0;
    for (size_t i = 0; i < c->n_peers; i++) {
        if (has_peer(n, c->peers[i]))
            continue;
        if (d->sync != NULL)
            (void)sync_remove_peer(d->sync, c->peers[i]);
        (*removed)++;
    }
    for (size_t i = 0; i < n->n_peers; i++) {
        int r = 0;

        if (!has_peer(c, n->peers[i])) {
            r = d->sync != NULL ? sync_add_peer(d->sync, n->peers[i]) : 0;
            if (r < 0 && r != -EEXIST) {
                log_warn("config.peer_not_added", "peer=%s error=%s", n->peers[i], kith_errname(r));
                continue;
            }
            (*added)++;
        }
        memcpy(c->peers[kept++], n->peers[i], sizeof(c->peers[0]));
    }
    c->n_peers = kept;
}

/* Take over from n (a config that read cleanly) what can change while
 * running; name the rest in one line and keep their running values. */
static void apply_config(struct daemon *d, const struct config *n)
{
    struct config *c = &d->cfg;
    char changed[256] = "", restart[512];
    size_t added, removed;

    if (n->log_level != c->log_level) {
        c->log_level = n->log_level;
        log_set_level(c->log_level);
        add_name(changed, sizeof(changed), "node.log_level");
    }
    apply_peers(d, n, &added, &removed);
    if (added > 0 || removed > 0)
        add_name(changed, sizeof(changed), "sync.peer");
    /* config_resolve lowered n's max_concurrent_syncs to n's max_peers; a
     * new max_peers waits for a restart, and so does this one then. */
    if (n->max_peers == c->max_peers && n->max_concurrent_syncs != c->max_concurrent_syncs) {
        c->max_concurrent_syncs = n->max_concurrent_syncs;
        if (d->sync != NULL)
            sync_set_max_syncs(d->sync, c->max_concurrent_syncs);
        add_name(changed, sizeof(changed), "sync.max_concurrent_syncs");
    }
    c->n_dropins = n->n_dropins;
    restart_needed(c, n, restart, sizeof(restart));
    if (restart[0] != '\0')
        log_warn("config.needs_restart", "settings=%s kept=running", restart);
    log_info("config.reloaded", "changed=%s peers_added=%zu peers_removed=%zu dropins=%zu",
             changed[0] != '\0' ? changed : "none", added, removed, c->n_dropins);
}

/* SIGHUP: read the config again and apply it (see the top of this file). */
static void on_reload(uv_signal_t *sig, int signum)
{
    struct daemon *d = sig->data;
    char err[CONFIG_ERR_MAX];
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reading the config again",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    log_info("config.reloading", "signal=SIGHUP config=%s",
             d->cfg.config_file[0] != '\0' ? d->cfg.config_file : "none");
    if (read_config(&d->args, &d->next, err, sizeof(err)) < 0)
        log_error("config.reload_failed", "kept=running reason=%s", err);
    else
        apply_config(d, &d->next);
    notify_ready(d);
}

static int start(struct daemon *d, const struct config_args *a)
{
    const struct config *c = &d->cfg;
    struct service_config sc;
    int r;

    if (load_config(d, a) < 0 || find_control_group(d) < 0)
        return -1;
    d->args = *a;
    log_set_level(c->log_level);
    if (make_data_dir(c->data_dir) < 0 || take_lock(d) < 0)
        return -1;
    r = control_probe(c->socket_path);
    if (r == -EADDRINUSE)
        return fail_line("another kithd is already serving the control socket %s", c->socket_path);
    if (r == -ENOTSOCK)
        return fail_line("%s exists and is not a socket; remove it or choose another path "
                         "with --socket",
                         c->socket_path);
    if (r < 0)
        return fail_line("cannot use the control socket %s: %s", c->socket_path, errtext(r));
    if (c->key_source == CONFIG_KEY_PASSPHRASE && get_passphrase(d, a->passphrase_stdin) < 0)
        return -1;

    r = store_open(c->data_dir, &d->st);
    if (r < 0)
        return fail_line("cannot open the store in %s: %s", c->data_dir, errtext(r));
    if (open_vault(d) < 0)
        return -1;
    r = identity_open(d->st, d->vault, &d->id);
    if (r < 0)
        return fail_line("cannot load the node identity: %s", errtext(r));
    memset(&sc, 0, sizeof(sc));
    sc.content_dir = content_dir();
    sc.session_idle_s = c->session_idle_minutes * 60;
    sc.data_dir = c->data_dir;
    sc.socket_path = c->socket_path;
    r = service_open(d->st, d->vault, &sc, &d->svc);
    if (r < 0)
        return fail_line("cannot start the service: %s", errtext(r));

    r = uv_loop_init(&d->loop);
    if (r < 0)
        return fail_line("cannot start the event loop: %s", uv_strerror(r));
    d->loop_ready = 1;
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sighup);
    uv_timer_init(&d->loop, &d->tick);
    d->handles_ready = 1;
    d->sigint.data = d->sigterm.data = d->sighup.data = d->tick.data = d;
    r = control_start(&d->loop, c->socket_path, d->control_gid, d->svc, &d->ctl);
    if (r == -EPERM && d->control_gid != CONTROL_NO_GROUP)
        return fail_line("cannot give the control socket %s to the group %s: kithd must run as "
                         "root or as a member of that group",
                         c->socket_path, c->control_group);
    if (r < 0)
        return fail_line("cannot listen on the control socket %s: %s", c->socket_path, errtext(r));
    if (uv_signal_start(&d->sigint, on_signal, SIGINT) < 0 ||
        uv_signal_start(&d->sigterm, on_signal, SIGTERM) < 0 ||
        uv_signal_start(&d->sighup, on_reload, SIGHUP) < 0 ||
        uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS) < 0)
        return fail_line("cannot set up signal handling");
    if (start_sync(d) < 0)
        return -1;
    if (start_web(d, sc.content_dir) < 0)
        return -1;

    log_info("kithd.ready", "version=%s socket=%s data=%s key_source=%s config=%s dropins=%zu",
             KITH_VERSION, c->socket_path, c->data_dir,
             c->key_source == CONFIG_KEY_FILE ? "file" : "passphrase",
             c->config_file[0] != '\0' ? c->config_file : "none", c->n_dropins);
    fprintf(stderr, "kithd: ready; control socket %s\n", c->socket_path);
    notify_ready(d);
    return 0;
}

/* Undo whatever start() managed, in reverse order. Returns 0 when the loop
 * closed with nothing left open. */
static int stop(struct daemon *d)
{
    int r = 0;

    if (d->loop_ready) {
        sync_stop(d->sync);
        d->sync = NULL;
        web_stop(d->web);
        d->web = NULL;
        if (d->ctl != NULL) {
            control_stop(d->ctl);
            d->ctl = NULL;
        }
        if (d->handles_ready && !uv_is_closing((uv_handle_t *)&d->tick)) {
            uv_close((uv_handle_t *)&d->sigint, NULL);
            uv_close((uv_handle_t *)&d->sigterm, NULL);
            uv_close((uv_handle_t *)&d->sighup, NULL);
            uv_close((uv_handle_t *)&d->tick, NULL);
        }
        /* Let the close callbacks run. */
        uv_run(&d->loop, UV_RUN_DEFAULT);
        r = uv_loop_close(&d->loop);
        if (r < 0)
            log_error("kithd.loop_not_empty", "error=%s", uv_err_name(r));
    }
    service_close(d->svc);
    identity_close(d->id);
    vault_close(d->vault);
    store_close(d->st);
    sodium_memzero(d->pass, sizeof(d->pass));
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    return r;
}

int main(int argc, char **argv)
{
    static struct daemon d; /* big (paths, passphrase): not on the stack */
    struct config_args args;
    char err[CONFIG_ERR_MAX];
    int r;

    if (config_parse_args(argc, (const char *const *)argv, &args, err, sizeof(err)) < 0) {
        fail_line("%s", err);
        return 1;
    }
    if (args.help) {
        fputs(config_usage(), stdout);
        return 0;
    }
    if (args.version) {
        printf("kithd %s\n", KITH_VERSION);
        return 0;
    }
    /* A client that hangs up mid-response must not kill the node. */
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        fail_line("cannot initialise libsodium");
        return 1;
    }
    d.lock_fd = -1;
    if (start(&d, &args) < 0) {
        stop(&d);
        return 1;
    }
    uv_run(&d.loop, UV_RUN_DEFAULT);
    r = stop(&d);
    log_info("kithd.stopped", "clean=%s", r == 0 ? "yes" : "no");
    return r == 0 ? 0 : 1;
}
