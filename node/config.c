/*
 * config: kithd's settings (see config.h). A table of settings drives both
 * the INI parser's handler and the error messages, so adding a setting is one
 * row plus one field. inih parses the syntax; this file owns the meaning of
 * every key and value, and the command line.
 *
 * inih's handler is not told the line number, so the file is fed to inih
 * through our own line reader that counts lines; lines are checked for length
 * first so that one reader call is always one line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>
#include <uv.h>

#include "config.h"
#include "kith/error.h"
#include "tcp.h"

/* inih reads lines into a 200-byte buffer; keep well inside it. */
#define CONFIG_LINE_MAX 190
/* A config file is a few lines; refuse anything that is clearly not one. */
#define CONFIG_FILE_MAX 65536

struct setting {
    const char *section;
    const char *name;
    int (*set)(struct config *c, const char *value, char *msg, size_t msglen);
    int repeatable; /* may be given on several lines (peer) */
};

static int set_path(char *dst, const char *value, const char *what, char *msg, size_t msglen)
{
    size_t n = strlen(value);

    if (n == 0) {
        snprintf(msg, msglen, "%s is empty", what);
        return -KITH_EINVAL;
    }
    if (n >= CONFIG_PATH_MAX) {
        snprintf(msg, msglen, "%s is too long", what);
        return -KITH_EINVAL;
    }
    memcpy(dst, value, n + 1);
    return 0;
}

static int set_data_dir(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_path(c->data_dir, value, "data_dir", msg, msglen);
}

static int set_key_file(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_path(c->key_file, value, "key_file", msg, msglen);
}

static int set_socket(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_path(c->socket_path, value, "socket", msg, msglen);
}

/* A system group name: empty (no group), else printable ASCII without
 * spaces, ':' or ','; the name's existence is checked at start (main.c). */
static int set_control_group(struct config *c, const char *value, char *msg, size_t msglen)
{
    size_t n = strlen(value);

    if (n >= sizeof(c->control_group)) {
        snprintf(msg, msglen, "group is too long (at most %d characters)", CONFIG_GROUP_MAX - 1);
        return -KITH_EINVAL;
    }
    for (const char *p = value; *p != '\0'; p++) {
        if (*p <= ' ' || *p > '~' || *p == ':' || *p == ',') {
            snprintf(msg, msglen, "group must be the name of a system group, not \"%.40s\"", value);
            return -KITH_EINVAL;
        }
    }
    memcpy(c->control_group, value, n + 1);
    return 0;
}

static int set_key_source(struct config *c, const char *value, char *msg, size_t msglen)
{
    if (strcmp(value, "file") == 0) {
        c->key_source = CONFIG_KEY_FILE;
        return 0;
    }
    if (strcmp(value, "passphrase") == 0) {
        c->key_source = CONFIG_KEY_PASSPHRASE;
        return 0;
    }
    snprintf(msg, msglen, "key_source must be file or passphrase, not \"%.40s\"", value);
    return -KITH_EINVAL;
}

static int set_log_level(struct config *c, const char *value, char *msg, size_t msglen)
{
    if (log_parse_level(value, &c->log_level) == 0)
        return 0;
    snprintf(msg, msglen, "log_level must be debug, info, warn or error, not \"%.40s\"", value);
    return -KITH_EINVAL;
}

/* A whole number from min to max into *dst: digits only, since strtoul
 * would take "-1", " 5" and "5min". */
static int set_number(const char *value, const char *name, unsigned long min, unsigned long max,
                      uint32_t *dst, char *msg, size_t msglen)
{
    unsigned long v = 0;
    const char *p = value;

    if (*p == '\0')
        goto bad;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > max)
            goto bad;
    }
    if (v < min)
        goto bad;
    *dst = (uint32_t)v;
    return 0;
bad:
    snprintf(msg, msglen, "%s must be a whole number from %lu to %lu, not \"%.40s\"", name, min,
             max, value);
    return -KITH_EINVAL;
}

static int set_session_idle(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_number(value, "session_idle_minutes", CONFIG_SESSION_IDLE_MIN,
                      CONFIG_SESSION_IDLE_MAX, &c->session_idle_minutes, msg, msglen);
}

static int set_listen(struct config *c, const char *value, char *msg, size_t msglen)
{
    char host[TCP_HOST_MAX];
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    uint16_t port;

    if (strcmp(value, "off") == 0) {
        c->listen[0] = '\0';
        return 0;
    }
    if (strlen(value) >= sizeof(c->listen) ||
        tcp_split_hostport(value, host, sizeof(host), &port) < 0 ||
        (uv_ip4_addr(host, port, &a4) != 0 && uv_ip6_addr(host, port, &a6) != 0)) {
        snprintf(msg, msglen,
                 "listen must be ADDR:PORT with a numeric address (such as 0.0.0.0:7711 or "
                 "[::]:7711) or off, not \"%.40s\"",
                 value);
        return -KITH_EINVAL;
    }
    memcpy(c->listen, value, strlen(value) + 1);
    return 0;
}

static int set_peer(struct config *c, const char *value, char *msg, size_t msglen)
{
    char host[TCP_HOST_MAX];
    uint16_t port = 0;

    if (strlen(value) >= CONFIG_ADDR_MAX ||
        tcp_split_hostport(value, host, sizeof(host), &port) < 0 || port == 0) {
        snprintf(msg, msglen, "peer must be HOST:PORT with a port from 1 to 65535, not \"%.40s\"",
                 value);
        return -KITH_EINVAL;
    }
    if (c->n_peers >= CONFIG_PEERS_MAX) {
        snprintf(msg, msglen, "too many peers (at most %d)", CONFIG_PEERS_MAX);
        return -KITH_EINVAL;
    }
    memcpy(c->peers[c->n_peers++], value, strlen(value) + 1);
    return 0;
}

static int set_discovery(struct config *c, const char *value, char *msg, size_t msglen)
{
    if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
        c->discovery = value[1] == 'n';
        return 0;
    }
    snprintf(msg, msglen, "discovery must be on or off, not \"%.40s\"", value);
    return -KITH_EINVAL;
}

static int set_discovery_port(struct config *c, const char *value, char *msg, size_t msglen)
{
    uint32_t v = 0;
    int r = set_number(value, "discovery_port", 1, 65535, &v, msg, msglen);

    if (r == 0)
        c->discovery_port = (uint16_t)v;
    return r;
}

static int set_beacon_interval(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_number(value, "beacon_interval_seconds", 1, CONFIG_BEACON_INTERVAL_MAX,
                      &c->beacon_interval_seconds, msg, msglen);
}

static int set_max_peers(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_number(value, "max_peers", 1, CONFIG_MAX_PEERS_MAX, &c->max_peers, msg, msglen);
}

static int set_max_syncs(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_number(value, "max_concurrent_syncs", 1, CONFIG_MAX_PEERS_MAX,
                      &c->max_concurrent_syncs, msg, msglen);
}

static int set_idle_timeout(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_number(value, "idle_timeout_seconds", CONFIG_IDLE_TIMEOUT_MIN,
                      CONFIG_IDLE_TIMEOUT_MAX, &c->idle_timeout_seconds, msg, msglen);
}

static int set_handshake_timeout(struct config *c, const char *value, char *msg, size_t msglen)
{
    return set_number(value, "handshake_timeout_seconds", 1, CONFIG_HANDSHAKE_TIMEOUT_MAX,
                      &c->handshake_timeout_seconds, msg, msglen);
}

static int set_web_listen(struct config *c, const char *value, char *msg, size_t msglen)
{
    char host[TCP_HOST_MAX];
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    uint16_t port;

    if (strcmp(value, "off") == 0) {
        c->web_listen[0] = '\0';
        return 0;
    }
    if (strlen(value) >= sizeof(c->web_listen) ||
        tcp_split_hostport(value, host, sizeof(host), &port) < 0 ||
        (uv_ip4_addr(host, port, &a4) != 0 && uv_ip6_addr(host, port, &a6) != 0)) {
        snprintf(msg, msglen,
                 "web listen must be ADDR:PORT with a numeric address (such as 127.0.0.1:7780 "
                 "or 0.0.0.0:7780) or off, not \"%.40s\"",
                 value);
        return -KITH_EINVAL;
    }
    memcpy(c->web_listen, value, strlen(value) + 1);
    return 0;
}

static int set_allow_signup(struct config *c, const char *value, char *msg, size_t msglen)
{
    if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
        c->allow_signup = value[0] == 'y';
        return 0;
    }
    snprintf(msg, msglen, "allow_signup must be yes or no, not \"%.40s\"", value);
    return -KITH_EINVAL;
}

/* [serial]: each device line starts an entry; the others set the newest
 * one (load_handler makes sure a section starts with its device). */
static int set_serial_device(struct config *c, const char *value, char *msg, size_t msglen)
{
    struct config_serial *e;
    size_t n = strlen(value);

    if (n == 0 || n >= SERIAL_PATH_MAX) {
        snprintf(msg, msglen, "device must be a path of 1 to %d characters", SERIAL_PATH_MAX - 1);
        return -KITH_EINVAL;
    }
    if (c->n_serials >= CONFIG_SERIALS_MAX) {
        snprintf(msg, msglen, "too many serial devices (at most %d)", CONFIG_SERIALS_MAX);
        return -KITH_EINVAL;
    }
    e = &c->serials[c->n_serials++];
    memset(e, 0, sizeof(*e));
    memcpy(e->device, value, n + 1);
    e->baud = SERIAL_BAUD_DEFAULT;
    e->flow = SERIAL_FLOW_NONE;
    e->role = SERIAL_ROLE_AUTO;
    return 0;
}

static int set_serial_baud(struct config *c, const char *value, char *msg, size_t msglen)
{
    uint32_t v = 0;
    int r = set_number(value, "baud", 1, 4000000, &v, msg, msglen);

    if (r == 0 && !serial_baud_supported(v)) {
        snprintf(msg, msglen,
                 "baud must be a standard rate (such as 9600, 57600, 115200, 230400, 460800 "
                 "or 921600), not \"%.40s\"",
                 value);
        r = -KITH_EINVAL;
    }
    if (r == 0)
        c->serials[c->n_serials - 1].baud = v;
    return r;
}

static int set_serial_flow(struct config *c, const char *value, char *msg, size_t msglen)
{
    if (serial_parse_flow(value, &c->serials[c->n_serials - 1].flow) == 0)
        return 0;
    snprintf(msg, msglen, "flow must be none or rtscts, not \"%.40s\"", value);
    return -KITH_EINVAL;
}

static int set_serial_role(struct config *c, const char *value, char *msg, size_t msglen)
{
    if (serial_parse_role(value, &c->serials[c->n_serials - 1].role) == 0)
        return 0;
    snprintf(msg, msglen, "role must be auto, initiator or responder, not \"%.40s\"", value);
    return -KITH_EINVAL;
}

/* Every setting the file may hold. [web] joins when it exists. */
static const struct setting settings[] = {
    {"node", "data_dir", set_data_dir, 0},
    {"node", "key_file", set_key_file, 0},
    {"node", "key_source", set_key_source, 0},
    {"node", "log_level", set_log_level, 0},
    {"node", "session_idle_minutes", set_session_idle, 0},
    {"control", "socket", set_socket, 0},
    {"control", "group", set_control_group, 0},
    {"sync", "listen", set_listen, 0},
    {"sync", "peer", set_peer, 1},
    {"sync", "discovery", set_discovery, 0},
    {"sync", "discovery_port", set_discovery_port, 0},
    {"sync", "beacon_interval_seconds", set_beacon_interval, 0},
    {"sync", "max_peers", set_max_peers, 0},
    {"sync", "max_concurrent_syncs", set_max_syncs, 0},
    {"sync", "idle_timeout_seconds", set_idle_timeout, 0},
    {"sync", "handshake_timeout_seconds", set_handshake_timeout, 0},
    {"serial", "device", set_serial_device, 0},
    {"serial", "baud", set_serial_baud, 0},
    {"serial", "flow", set_serial_flow, 0},
    {"serial", "role", set_serial_role, 0},
    {"web", "listen", set_web_listen, 0},
    {"web", "allow_signup", set_allow_signup, 0},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

const char *config_usage(void)
{
    return "usage: kithd [options]\n"
           "Run a Kith node: keeps your groups' posts encrypted and serves the kith command.\n"
           "\n"
           "  --data DIR          where the node keeps its data (default: $KITH_DATA,\n"
           "                      else $XDG_DATA_HOME/kith, else ~/.local/share/kith)\n"
           "  --config FILE       read settings from FILE, then from the *.conf files in\n"
           "                      conf.d beside it (default: DIR/kithd.conf if it exists)\n"
           "  --socket PATH       control socket for kith (default: DIR/kithd.sock)\n"
           "  --log-level LEVEL   debug, info, warn or error (default: info)\n"
           "  --key-file PATH     read the node key from PATH, mode 0600 (default: DIR/node.key)\n"
           "  --passphrase-stdin  unlock the node key with a passphrase read from the first\n"
           "                      line of standard input (or set KITHD_PASSPHRASE)\n"
           "  --listen ADDR:PORT  accept sync connections there (default: [::]:7711, every\n"
           "                      address; port 0 picks a free port; off: do not listen)\n"
           "  --peer HOST:PORT    also sync with this node (may be given several times)\n"
           "  --no-discovery      do not send or listen for LAN beacons\n"
           "  --serial DEVICE[@BAUD]  also sync over this serial device (Bluetooth\n"
           "                      /dev/rfcomm0, a USB serial cable; baud default 115200;\n"
           "                      may be given several times)\n"
           "  --web ADDR:PORT     serve the web page there (default: 127.0.0.1:7780, this\n"
           "                      machine only; 0.0.0.0:7780: the whole LAN; off: no page)\n"
           "  --version           print the version and exit\n"
           "  --help              print this help and exit\n"
           "\n"
           "SIGHUP reads the config again; SIGINT or SIGTERM stops the node.\n";
}

static void init_data_dir(char *dst)
{
    const char *v;

    dst[0] = '\0';
    v = getenv("KITH_DATA");
    if (v != NULL && v[0] != '\0') {
        snprintf(dst, CONFIG_PATH_MAX, "%s", v);
        return;
    }
    /* The XDG spec says to ignore a relative XDG_DATA_HOME. */
    v = getenv("XDG_DATA_HOME");
    if (v != NULL && v[0] == '/') {
        snprintf(dst, CONFIG_PATH_MAX, "%s/kith", v);
        return;
    }
    v = getenv("HOME");
    if (v != NULL && v[0] != '\0')
        snprintf(dst, CONFIG_PATH_MAX, "%s/.local/share/kith", v);
}

void config_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    init_data_dir(c->data_dir);
    c->key_source = CONFIG_KEY_FILE;
    c->log_level = LOG_INFO;
    c->session_idle_minutes = 60;
    snprintf(c->listen, sizeof(c->listen), "%s", CONFIG_LISTEN_DEFAULT);
    c->discovery = 1;
    c->discovery_port = CONFIG_DISCOVERY_PORT_DEFAULT;
    c->beacon_interval_seconds = CONFIG_BEACON_INTERVAL_DEFAULT;
    c->max_peers = CONFIG_MAX_PEERS_DEFAULT;
    c->max_concurrent_syncs = CONFIG_MAX_SYNCS_DEFAULT;
    c->idle_timeout_seconds = CONFIG_IDLE_TIMEOUT_DEFAULT;
    c->handshake_timeout_seconds = CONFIG_HANDSHAKE_TIMEOUT_DEFAULT;
    snprintf(c->web_listen, sizeof(c->web_listen), "%s", CONFIG_WEB_DEFAULT);
    c->allow_signup = -1;
}

/* State shared by the line reader and the handler during one parse. */
struct load_ctx {
    struct config *c;
    const char *pos;  /* next unread byte of the text */
    int line;         /* lines handed to inih so far */
    int section_line; /* the last [section] line */
    int key_line;     /* the line of the last setting handled */
    int err_line;     /* line of the first handler error, 0 if none */
    char msg[CONFIG_ERR_MAX];
    unsigned char seen[N_SETTINGS];
};

/* fgets for a string: the line-length check guarantees a line fits in num. */
static char *load_reader(char *str, int num, void *stream)
{
    struct load_ctx *lc = stream;
    const char *nl;
    size_t n;

    if (*lc->pos == '\0' || num < 2)
        return NULL;
    nl = strchr(lc->pos, '\n');
    n = nl != NULL ? (size_t)(nl - lc->pos) + 1 : strlen(lc->pos);
    if (n > (size_t)num - 1)
        n = (size_t)num - 1;
    memcpy(str, lc->pos, n);
    str[n] = '\0';
    lc->pos += n;
    lc->line++;
    if (str[strspn(str, " \t")] == '[')
        lc->section_line = lc->line;
    return str;
}

static int load_handler(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    char msg[CONFIG_ERR_MAX];
    int known_section = 0;

    if (lc->err_line != 0)
        return 0; /* report only the first error */
    /* inih runs repeated [serial] sections together: a device line starts
     * an entry (and its own set of "given twice" checks), so each section
     * must start with one. */
    if (strcmp(section, "serial") == 0) {
        int first = lc->key_line < lc->section_line;

        if (strcmp(name, "device") == 0) {
            for (size_t i = 0; i < N_SETTINGS; i++) {
                if (strcmp(settings[i].section, "serial") == 0)
                    lc->seen[i] = 0;
            }
        } else if (first || lc->c->n_serials == 0) {
            snprintf(lc->msg, sizeof(lc->msg),
                     "each [serial] section must start with device = PATH (before \"%.60s\")",
                     name);
            goto fail;
        }
    }
    lc->key_line = lc->line;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (strcmp(settings[i].section, section) != 0)
            continue;
        known_section = 1;
        if (strcmp(settings[i].name, name) != 0)
            continue;
        /* A repeat is an error, which also catches inih's multi-line
         * continuation (an indented line repeats the previous name). */
        if (lc->seen[i] && !settings[i].repeatable) {
            snprintf(lc->msg, sizeof(lc->msg), "setting \"%.60s\" in [%s] is given twice", name,
                     section);
            goto fail;
        }
        lc->seen[i] = 1;
        if (settings[i].set(lc->c, value, msg, sizeof(msg)) == 0)
            return 1;
        snprintf(lc->msg, sizeof(lc->msg), "%s", msg);
        goto fail;
    }
    if (section[0] == '\0')
        snprintf(lc->msg, sizeof(lc->msg),
                 "setting \"%.60s\" is outside any section (put it under [node] or [control])",
                 name);
    else if (known_section)
        snprintf(lc->msg, sizeof(lc->msg), "unknown setting \"%.60s\" in [%.60s]", name, section);
    else
        snprintf(lc->msg, sizeof(lc->msg), "unknown section [%.60s]", section);
fail:
    lc->err_line = lc->line;
    return 0;
}

int config_load_string(struct config *c, const char *text, const char *name, char *err,
                       size_t errlen)
{
    struct load_ctx lc;
    const char *p = text;
    int line = 1;
    int r;

    /* Over-long lines first: inih would silently split them. */
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

        if (n > CONFIG_LINE_MAX) {
            snprintf(err, errlen, "%s:%d: line too long (at most %d characters)", name, line,
                     CONFIG_LINE_MAX);
            return -KITH_EINVAL;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
        line++;
    }

    memset(&lc, 0, sizeof(lc));
    lc.c = c;
    lc.pos = text;
    r = ini_parse_stream(load_reader, &lc, load_handler, &lc);
    if (r == 0)
        return 0;
    if (r > 0 && r == lc.err_line)
        snprintf(err, errlen, "%s:%d: %s", name, r, lc.msg);
    else if (r > 0)
        snprintf(err, errlen, "%s:%d: syntax error (expected [section] or name = value)", name, r);
    else
        snprintf(err, errlen, "%s: cannot parse (out of memory)", name);
    return -KITH_EINVAL;
}

/* strerror's text with its capital lowered, to sit mid-line. */
static const char *errno_text(int e, char *buf, size_t len)
{
    snprintf(buf, len, "%s", strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z')
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
    char etext[128];
    char *text = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot read the config file %s: %s", path,
                 errno_text(-r, etext, sizeof(etext)));
        return r;
    }
    text = malloc(CONFIG_FILE_MAX + 1);
    if (text == NULL) {
        r = -ENOMEM;
        snprintf(err, errlen, "cannot read the config file %s: out of memory", path);
        goto out;
    }
    /* Read one byte past the limit to tell "exactly full" from "too big". */
    while (len <= CONFIG_FILE_MAX) {
        n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            snprintf(err, errlen, "cannot read the config file %s: %s", path,
                     errno_text(-r, etext, sizeof(etext)));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > CONFIG_FILE_MAX) {
        r = -KITH_EINVAL;
        snprintf(err, errlen, "%s: too big for a config file (over %d KiB)", path,
                 CONFIG_FILE_MAX / 1024);
        goto out;
    }
    if (memchr(text, '\0', len) != NULL) {
        r = -KITH_EINVAL;
        snprintf(err, errlen, "%s: not a text file", path);
        goto out;
    }
    text[len] = '\0';
    r = config_load_string(c, text, path, err, errlen);
    if (r == 0)
        snprintf(c->config_file, sizeof(c->config_file), "%s", path);
out:
    free(text);
    close(fd);
    return r;
}

/* scandir's filter for conf.d: "*.conf", as a shell glob would match it
 * (no hidden files, so editors' and dpkg's leftovers stay out). */
static int is_dropin(const struct dirent *e)
{
    size_t n = strlen(e->d_name);

    return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
}

/* Byte order, whatever the locale: 10-a.conf before 20-b.conf before a.conf. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int config_load_all(struct config *c, const char *path, char *err, size_t errlen)
{
    char dir[CONFIG_PATH_MAX], file[CONFIG_PATH_MAX], etext[128];
    struct dirent **names = NULL;
    const char *slash;
    int n, r;

    r = config_load_file(c, path, err, errlen);
    if (r < 0)
        return r;
    c->n_dropins = 0;
    /* conf.d beside the file: "DIR/conf.d" for "DIR/kithd.conf", "conf.d"
     * for a bare "kithd.conf". */
    slash = strrchr(path, '/');
    if (slash == NULL)
        r = snprintf(dir, sizeof(dir), "conf.d");
    else
        r = snprintf(dir, sizeof(dir), "%.*s/conf.d", (int)(slash - path), path);
    if (r < 0 || (size_t)r >= sizeof(dir)) {
        snprintf(err, errlen, "the config file path %.200s is too long", path);
        return -KITH_EINVAL;
    }
    n = scandir(dir, &names, is_dropin, by_name);
    if (n < 0) {
        r = -errno;
        if (r == -ENOENT)
            return 0; /* no conf.d: only the one file */
        snprintf(err, errlen, "cannot read the config directory %s: %s", dir,
                 errno_text(-r, etext, sizeof(etext)));
        return r;
    }
    r = 0;
    if (n > CONFIG_DROPINS_MAX) {
        snprintf(err, errlen, "too many files in %s (at most %d)", dir, CONFIG_DROPINS_MAX);
        r = -KITH_EINVAL;
    }
    for (int i = 0; r == 0 && i < n; i++) {
        if (snprintf(file, sizeof(file), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(file)) {
            snprintf(err, errlen, "the config file path %.200s is too long", dir);
            r = -KITH_EINVAL;
            break;
        }
        r = config_load_file(c, file, err, errlen);
        if (r == 0)
            c->n_dropins++;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    /* config_load_file names each file it read: the main file is the one
     * the log shows. */
    snprintf(c->config_file, sizeof(c->config_file), "%s", path);
    return r;
}

/* The options that take a value, and where the value goes. */
static const char **arg_slot(struct config_args *a, const char *opt)
{
    if (strcmp(opt, "data") == 0)
        return &a->data_dir;
    if (strcmp(opt, "config") == 0)
        return &a->config_file;
    if (strcmp(opt, "socket") == 0)
        return &a->socket_path;
    if (strcmp(opt, "log-level") == 0)
        return &a->log_level;
    if (strcmp(opt, "key-file") == 0)
        return &a->key_file;
    if (strcmp(opt, "listen") == 0)
        return &a->listen;
    if (strcmp(opt, "web") == 0)
        return &a->web;
    if (strcmp(opt, "peer") == 0)
        return a->n_peers < CONFIG_PEERS_MAX ? &a->peers[a->n_peers] : NULL;
    if (strcmp(opt, "serial") == 0)
        return a->n_serials < CONFIG_SERIALS_MAX ? &a->serials[a->n_serials] : NULL;
    return NULL;
}

int config_parse_args(int argc, const char *const argv[], struct config_args *out, char *err,
                      size_t errlen)
{
    memset(out, 0, sizeof(*out));
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char opt[32];
        const char *eq, *value = NULL;
        const char **slot;
        size_t n;

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            snprintf(err, errlen, "unexpected argument \"%.60s\" (see kithd --help)", arg);
            return -KITH_EINVAL;
        }
        eq = strchr(arg + 2, '=');
        n = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (n >= sizeof(opt))
            goto unknown;
        memcpy(opt, arg + 2, n);
        opt[n] = '\0';
        if (eq != NULL)
            value = eq + 1;

        slot = arg_slot(out, opt);
        if (slot == NULL && strcmp(opt, "peer") == 0) {
            snprintf(err, errlen, "too many --peer options (at most %d)", CONFIG_PEERS_MAX);
            return -KITH_EINVAL;
        }
        if (slot == NULL && strcmp(opt, "serial") == 0) {
            snprintf(err, errlen, "too many --serial options (at most %d)", CONFIG_SERIALS_MAX);
            return -KITH_EINVAL;
        }
        if (slot != NULL) {
            if (value == NULL) {
                if (i + 1 >= argc) {
                    snprintf(err, errlen, "--%s needs a value (see kithd --help)", opt);
                    return -KITH_EINVAL;
                }
                value = argv[++i];
            }
            *slot = value;
            if (strcmp(opt, "peer") == 0)
                out->n_peers++;
            if (strcmp(opt, "serial") == 0)
                out->n_serials++;
            continue;
        }
        if (value != NULL && (strcmp(opt, "passphrase-stdin") == 0 || strcmp(opt, "version") == 0 ||
                              strcmp(opt, "help") == 0 || strcmp(opt, "no-discovery") == 0)) {
            snprintf(err, errlen, "--%s takes no value", opt);
            return -KITH_EINVAL;
        }
        if (strcmp(opt, "passphrase-stdin") == 0)
            out->passphrase_stdin = 1;
        else if (strcmp(opt, "version") == 0)
            out->version = 1;
        else if (strcmp(opt, "help") == 0)
            out->help = 1;
        else if (strcmp(opt, "no-discovery") == 0)
            out->no_discovery = 1;
        else
            goto unknown;
        continue;
    unknown:
        snprintf(err, errlen, "unknown option \"%.60s\" (see kithd --help)", arg);
        return -KITH_EINVAL;
    }
    if (out->key_file != NULL && out->passphrase_stdin) {
        snprintf(err, errlen, "--key-file and --passphrase-stdin cannot be used together");
        return -KITH_EINVAL;
    }
    return 0;
}

static int arg_path(char *dst, const char *value, const char *opt, char *err, size_t errlen)
{
    char msg[CONFIG_ERR_MAX];

    if (set_path(dst, value, opt, msg, sizeof(msg)) == 0)
        return 0;
    snprintf(err, errlen, "--%s", msg);
    return -KITH_EINVAL;
}

int config_from_args(struct config *c, const struct config_args *a, char *err, size_t errlen)
{
    char msg[CONFIG_ERR_MAX];

    if (a->data_dir != NULL && arg_path(c->data_dir, a->data_dir, "data", err, errlen) < 0)
        return -KITH_EINVAL;
    if (a->socket_path != NULL &&
        arg_path(c->socket_path, a->socket_path, "socket", err, errlen) < 0)
        return -KITH_EINVAL;
    if (a->key_file != NULL) {
        if (arg_path(c->key_file, a->key_file, "key-file", err, errlen) < 0)
            return -KITH_EINVAL;
        c->key_source = CONFIG_KEY_FILE;
    }
    if (a->passphrase_stdin)
        c->key_source = CONFIG_KEY_PASSPHRASE;
    if (a->log_level != NULL && log_parse_level(a->log_level, &c->log_level) < 0) {
        snprintf(err, errlen, "--log-level must be debug, info, warn or error, not \"%.40s\"",
                 a->log_level);
        return -KITH_EINVAL;
    }
    if (a->listen != NULL && set_listen(c, a->listen, msg, sizeof(msg)) < 0)
        goto bad;
    if (a->web != NULL && set_web_listen(c, a->web, msg, sizeof(msg)) < 0)
        goto bad;
    for (size_t i = 0; i < a->n_peers; i++) {
        if (c->n_peers >= CONFIG_PEERS_MAX) {
            snprintf(err, errlen, "too many peers in the config file and --peer (at most %d)",
                     CONFIG_PEERS_MAX);
            return -KITH_EINVAL;
        }
        if (set_peer(c, a->peers[i], msg, sizeof(msg)) < 0)
            goto bad;
    }
    for (size_t i = 0; i < a->n_serials; i++) {
        struct config_serial *e;
        char dev[SERIAL_PATH_MAX];
        uint32_t baud;

        if (c->n_serials >= CONFIG_SERIALS_MAX) {
            snprintf(err, errlen,
                     "too many serial devices in the config file and --serial (at most %d)",
                     CONFIG_SERIALS_MAX);
            return -KITH_EINVAL;
        }
        if (serial_parse_spec(a->serials[i], dev, sizeof(dev), &baud) < 0) {
            snprintf(err, errlen,
                     "--serial must be DEVICE or DEVICE@BAUD with a standard baud rate (such as "
                     "/dev/rfcomm0@115200), not \"%.60s\"",
                     a->serials[i]);
            return -KITH_EINVAL;
        }
        e = &c->serials[c->n_serials++];
        memset(e, 0, sizeof(*e));
        memcpy(e->device, dev, sizeof(dev));
        e->baud = baud;
    }
    if (a->no_discovery)
        c->discovery = 0;
    return 0;
bad:
    snprintf(err, errlen, "--%s", msg);
    return -KITH_EINVAL;
}

int config_resolve(struct config *c, char *err, size_t errlen)
{
    struct sockaddr_un sun;

    if (c->data_dir[0] == '\0') {
        snprintf(err, errlen, "no data directory: pass --data DIR, or set KITH_DATA or HOME");
        return -KITH_EINVAL;
    }
    /* Absolute, so the log and status say where the node really is. */
    if (c->data_dir[0] != '/') {
        char cwd[CONFIG_PATH_MAX], abs[CONFIG_PATH_MAX];

        if (getcwd(cwd, sizeof(cwd)) == NULL ||
            snprintf(abs, sizeof(abs), "%s/%s", cwd, c->data_dir) >= (int)sizeof(abs))
            goto too_long;
        memcpy(c->data_dir, abs, sizeof(abs));
    }
    if (c->key_file[0] == '\0' && snprintf(c->key_file, sizeof(c->key_file), "%s/node.key",
                                           c->data_dir) >= (int)sizeof(c->key_file))
        goto too_long;
    if (c->socket_path[0] == '\0' &&
        snprintf(c->socket_path, sizeof(c->socket_path), "%s/kithd.sock", c->data_dir) >=
            (int)sizeof(c->socket_path))
        goto too_long;
    if (strlen(c->socket_path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen,
                 "the control socket path %.200s is too long (at most %zu characters); "
                 "choose a shorter one with --socket",
                 c->socket_path, sizeof(sun.sun_path) - 1);
        return -KITH_EINVAL;
    }
    if (c->max_concurrent_syncs > c->max_peers)
        c->max_concurrent_syncs = c->max_peers;
    /* Open sign-up only where the page is this machine's alone. */
    if (c->allow_signup < 0)
        c->allow_signup = strncmp(c->web_listen, "127.", 4) == 0 ||
                          strncmp(c->web_listen, "[::1]:", 6) == 0 || c->web_listen[0] == '\0';
    return 0;
too_long:
    snprintf(err, errlen, "the data directory path is too long");
    return -KITH_EINVAL;
}
