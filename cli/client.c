/*
 * client: the control-socket conversation (see client.h). It owns the socket
 * descriptor and the bytes read past a response's newline. Writes use
 * MSG_NOSIGNAL so a node that vanishes gives -EPIPE, never a SIGPIPE.
 */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "kith/error.h"

struct client {
    char *path;
    int fd; /* -1 when not connected */
    json_int_t next_id;
    char *buf; /* bytes read but not yet consumed */
    size_t len, cap;
};

/* There, or there but out of reach (the system node's directory is open to
 * its group only): worth pointing kith at, so an error names it. */
static int socket_there(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 || errno == EACCES;
}

int client_default_socket_at(const char *system_path, char *buf, size_t cap)
{
    const char *s = getenv("KITH_SOCKET");
    const char *data = getenv("KITH_DATA");
    const char *v;
    int n = -1, per_user = 1;

    if (s && *s) {
        n = snprintf(buf, cap, "%s", s);
        per_user = 0;
    } else if (data && *data) {
        n = snprintf(buf, cap, "%s/kithd.sock", data);
        per_user = 0;
    } else if ((v = getenv("XDG_DATA_HOME")) && *v == '/') { /* XDG: ignore a relative one */
        n = snprintf(buf, cap, "%s/kith/kithd.sock", v);
    } else if ((v = getenv("HOME")) && *v) {
        n = snprintf(buf, cap, "%s/.local/share/kith/kithd.sock", v);
    }
    if (n >= 0 && (size_t)n >= cap)
        return -ENAMETOOLONG;
    /* No node of this user's own, but the packaged system node runs. */
    if (per_user && (n < 0 || !socket_there(buf)) && system_path != NULL &&
        socket_there(system_path))
        n = snprintf(buf, cap, "%s", system_path);
    if (n < 0)
        return -ENOENT;
    if ((size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

int client_default_socket(char *buf, size_t cap)
{
    return client_default_socket_at(CLIENT_SYSTEM_SOCKET, buf, cap);
}

int client_new(const char *path, struct client **out)
{
    struct client *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->path = strdup(path);
    if (!c->path) {
        free(c);
        return -ENOMEM;
    }
    c->fd = -1;
    c->next_id = 1;
    *out = c;
    return 0;
}

static void disconnect(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

void client_free(struct client *c)
{
    if (!c)
        return;
    disconnect(c);
    free(c->buf);
    free(c->path);
    free(c);
}

static int do_connect(struct client *c)
{
    struct sockaddr_un sa;
    size_t n = strlen(c->path);
    int fd, e;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, c->path, n + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno == EINTR)
            continue;
        e = errno;
        close(fd);
        return -e;
    }
    c->fd = fd;
    c->len = 0;
    return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until a newline is in the buffer; *line_len is its offset. */
static int read_line(struct client *c, size_t *line_len)
{
    size_t scanned = 0;
    int64_t deadline = now_ms() + CLIENT_TIMEOUT_MS;

    for (;;) {
        char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
        if (nl) {
            *line_len = (size_t)(nl - c->buf);
            return 0;
        }
        scanned = c->len;
        if (c->len >= CLIENT_RESPONSE_MAX)
            return -EMSGSIZE;
        if (c->cap - c->len < 4096) {
            size_t ncap = c->cap ? c->cap * 2 : 65536;
            char *nb = realloc(c->buf, ncap);
            if (!nb)
                return -ENOMEM;
            c->buf = nb;
            c->cap = ncap;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (pr == 0)
            return -ETIMEDOUT;
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ECONNRESET; /* the node closed before a whole answer */
        c->len += (size_t)r;
    }
}

static void set_err(struct client_error *err, int code)
{
    memset(err, 0, sizeof(*err));
    err->code = code;
}

/* Check a response object and pull out its result or error. */
static int take_response(json_t *resp, const json_t *id, json_t **result, struct client_error *err)
{
    json_t *ok = json_object_get(resp, "ok");
    json_t *rid = json_object_get(resp, "id");

    if (!json_is_object(resp) || !json_is_boolean(ok))
        return -EPROTO;
    if (json_is_true(ok)) {
        if (!rid || !json_equal(rid, id))
            return -EPROTO;
        json_t *r = json_object_get(resp, "result");
        if (r && !json_is_object(r))
            return -EPROTO;
        *result = r ? json_incref(r) : json_object();
        return *result ? 0 : -ENOMEM;
    }
    /* id null: the node could not read our line at all; still its error. */
    if (!rid || !(json_is_null(rid) || json_equal(rid, id)))
        return -EPROTO;
    json_t *e = json_object_get(resp, "error");
    json_t *code = json_object_get(e, "code");
    if (!json_is_object(e) || !json_is_integer(code) || json_integer_value(code) >= 0 ||
        json_integer_value(code) < -1000000)
        return -EPROTO;
    err->code = (int)json_integer_value(code);
    err->from_node = 1;
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    snprintf(err->name, sizeof(err->name), "%s", name ? name : "");
    snprintf(err->message, sizeof(err->message), "%s", msg ? msg : "");
    return err->code;
}

int client_call(struct client *c, json_t *request, json_t **result, struct client_error *err)
{
    json_t *id;
    char *line = NULL;
    size_t n = 0, line_len = 0;
    json_t *resp = NULL;
    int r;

    *result = NULL;
    set_err(err, 0);
    /* A caller may choose its own request id; otherwise number them. */
    id = json_object_get(request, "id");
    if (!id) {
        if (json_object_set_new(request, "id", json_integer(c->next_id++)) < 0) {
            r = -ENOMEM;
            goto fail;
        }
        id = json_object_get(request, "id");
    }
    /* Compact, one line: jansson escapes newlines inside strings. Dumped
     * into our own buffer (not json_dumps) so it is ours to wipe and free
     * whatever allocator jansson was given. */
    n = json_dumpb(request, NULL, 0, JSON_COMPACT);
    if (n == 0 || !(line = malloc(n + 1))) {
        r = -ENOMEM;
        goto fail;
    }
    if (json_dumpb(request, line, n, JSON_COMPACT) != n) {
        r = -ENOMEM;
        goto fail;
    }
    line[n] = '\0';
    if (c->fd < 0 && (r = do_connect(c)) < 0)
        goto fail;
    line[n] = '\n'; /* overwrite the NUL; length is known */
    r = send_all(c->fd, line, n + 1);
    line[n] = '\0';
    if (r < 0)
        goto fail_conn;
    if ((r = read_line(c, &line_len)) < 0)
        goto fail_conn;
    json_error_t jerr;
    resp = json_loadb(c->buf, line_len, 0, &jerr);
    memmove(c->buf, c->buf + line_len + 1, c->len - line_len - 1);
    c->len -= line_len + 1;
    if (!resp) {
        r = -EPROTO;
        goto fail;
    }
    r = take_response(resp, id, result, err);
    if (r < 0 && !err->from_node)
        goto fail;
    /* The request may carry a passphrase: wipe our copy of the line. */
    sodium_memzero(line, n + 1);
    free(line);
    json_decref(resp);
    return r;

fail_conn:
    disconnect(c);
fail:
    if (line) {
        sodium_memzero(line, n);
        free(line);
    }
    json_decref(resp);
    set_err(err, r);
    return r;
}

static void explain_node(const struct client_error *err, const struct client_what *what, char *buf,
                         size_t cap)
{
    const char *group = what ? what->group : NULL;
    const char *post = what ? what->post : NULL;
    const char *account = what ? what->account : NULL;

    switch (-err->code) {
    case KITH_EPASSPHRASE:
        /* The node answers the same for a name it does not know, so that
         * nobody can find out which accounts exist: say both. */
        if (account)
            snprintf(buf, cap, "wrong passphrase, or no account called \"%s\"", account);
        else
            snprintf(buf, cap, "wrong passphrase");
        return;
    case KITH_ELOCKED:
        snprintf(buf, cap, "no account is unlocked (run: kith unlock NAME)");
        return;
    case KITH_ENOTYOURS:
        snprintf(buf, cap, "that post is not yours");
        return;
    case KITH_EDELETED:
        snprintf(buf, cap, "that post was deleted by its author");
        return;
    case KITH_ENOTFOUND:
        if (post)
            snprintf(buf, cap, "no post has an id starting with \"%s\"", post);
        else if (group)
            snprintf(buf, cap, "unknown group \"%s\"", group);
        else if (account)
            snprintf(buf, cap, "there is no account called \"%s\" on this node", account);
        else
            break;
        return;
    case KITH_EAMBIGUOUS:
        if (post)
            snprintf(buf, cap,
                     "more than one post has an id starting with \"%s\" (type more of the id)",
                     post);
        else if (group)
            snprintf(buf, cap, "more than one group matches \"%s\" (type more of its id)", group);
        else
            break;
        return;
    case KITH_EEXIST:
        if (account)
            snprintf(buf, cap, "there is already an account called \"%s\"", account);
        else if (group)
            snprintf(buf, cap, "you already have a group called \"%s\"", group);
        else
            break;
        return;
    case KITH_ENOTMEMBER:
        if (group)
            snprintf(buf, cap, "you are not in the group \"%s\"", group);
        else
            snprintf(buf, cap, "you are not in that post's group");
        return;
    case KITH_EINVITE:
        snprintf(buf, cap, "that invite code is not valid (check that it was copied in full)");
        return;
    case KITH_ETOOBIG:
        snprintf(buf, cap, "the text is too long for one post (the limit is 64 KiB)");
        return;
    case KITH_ENOSPC:
        snprintf(buf, cap, "the node's disk is full, so nothing was saved");
        return;
    case KITH_ERATELIMIT:
        snprintf(buf, cap, "too many wrong tries; wait a minute and try again");
        return;
    case KITH_EUNKNOWNCMD:
    case KITH_EREQUEST:
        snprintf(buf, cap,
                 "the node did not understand the request (%s); is kith the same "
                 "version as kithd?",
                 err->message[0] ? err->message : err->name);
        return;
    default:
        break;
    }
    if (err->message[0])
        snprintf(buf, cap, "%s", err->message);
    else
        snprintf(buf, cap, "%s", kith_strerror(err->code));
}

void client_explain(const struct client_error *err, const struct client_what *what,
                    const char *socket_path, char *buf, size_t cap)
{
    const char *p = socket_path ? socket_path : "(unknown)";

    if (err->from_node) {
        explain_node(err, what, buf, cap);
        return;
    }
    switch (-err->code) {
    case ENOENT:
    case ENOTDIR:
        snprintf(buf, cap, "the node is not running (no socket at %s)", p);
        break;
    case ECONNREFUSED:
        snprintf(buf, cap, "the node is not running (nothing is listening at %s)", p);
        break;
    case EACCES:
    case EPERM:
        if (strcmp(p, CLIENT_SYSTEM_SOCKET) == 0)
            snprintf(buf, cap,
                     "you may not use the system node's socket at %s (ask whoever runs this "
                     "machine to add you to the kith group, then log in again)",
                     p);
        else
            snprintf(buf, cap,
                     "you may not use the node's socket at %s (it belongs to another user)", p);
        break;
    case ENAMETOOLONG:
        snprintf(buf, cap, "the socket path is too long (at most 107 bytes): %s", p);
        break;
    case EPIPE:
    case ECONNRESET:
        snprintf(buf, cap,
                 "the node stopped before it answered (run kith status to see if it is back)");
        break;
    case ETIMEDOUT:
        snprintf(buf, cap, "the node did not answer within %d seconds", CLIENT_TIMEOUT_MS / 1000);
        break;
    case EPROTO:
        snprintf(buf, cap,
                 "the node sent an answer kith does not understand (is kith the same version "
                 "as kithd?)");
        break;
    case EMSGSIZE:
        snprintf(buf, cap, "the node's answer is too long for kith to read");
        break;
    default:
        snprintf(buf, cap, "cannot talk to the node at %s: %s", p, kith_strerror(err->code));
        break;
    }
}
