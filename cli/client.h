/*
 * client: the `kith` end of the control socket (node/CONTROL.md). Finds the
 * socket, connects, sends one request line and reads one response line, and
 * turns a failure (from the node, or from the connection) into one line a
 * person can act on. Plain blocking sockets: kith does one thing and exits.
 */
#ifndef KITH_CLI_CLIENT_H
#define KITH_CLI_CLIENT_H

#include <stddef.h>

#include <jansson.h>

/* Longest response line kith accepts (an export of many posts is one line). */
#define CLIENT_RESPONSE_MAX ((size_t)256 * 1024 * 1024)
/* How long to wait for an answer. Unlocking runs Argon2id, which takes a
 * second or two on a Raspberry Pi; a minute means the node is stuck. */
#define CLIENT_TIMEOUT_MS 120000

struct client;

/* Why a call failed. code is the negative Kith code or -errno; for errors
 * from the node name and message are what it sent (message may be empty). */
struct client_error {
    int code;
    int from_node; /* 1: the node answered with an error; 0: no usable answer */
    char name[48];
    char message[512];
};

/* What the failed request was about, so the message can name it. Any field
 * may be NULL. */
struct client_what {
    const char *group;   /* a group name or id prefix the user typed */
    const char *post;    /* a post id prefix the user typed */
    const char *account; /* an account name */
};

/* The control socket of the packaged system node (kithd.service). */
#define CLIENT_SYSTEM_SOCKET "/run/kith/kithd.sock"

/*
 * The socket path kith uses when --socket is not given: $KITH_SOCKET, else
 * DATA/kithd.sock where DATA is $KITH_DATA, else $XDG_DATA_HOME/kith (when
 * absolute, as the XDG spec says), else $HOME/.local/share/kith: the same
 * default data directory as kithd's. When neither KITH_SOCKET nor KITH_DATA
 * is set and that per-user socket does not exist (or HOME is not set
 * either), but CLIENT_SYSTEM_SOCKET does (or exists out of this user's
 * reach), the system socket is used instead. Writes a NUL-terminated path
 * into buf. Returns 0, -ENAMETOOLONG (does not fit in cap) or -ENOENT (none
 * of the variables is set and there is no system socket).
 */
int client_default_socket(char *buf, size_t cap);

/* client_default_socket with another system socket path (NULL: none), for
 * tests. */
int client_default_socket_at(const char *system_path, char *buf, size_t cap);

/* A client for the socket at path (copied). Connects on first call. Returns
 * 0 or -ENOMEM; *out is the caller's: client_free(). */
int client_new(const char *path, struct client **out);

/* Close and free. NULL is fine. */
void client_free(struct client *c);

/*
 * Send request (a JSON object, sent as given; an "id" member is added when
 * it has none) and wait for its response, which must echo the same id. On success returns 0 and
 * *result holds a new reference to the response's "result" (the caller decrefs). On failure returns
 * a negative code, *result is NULL and err says why:
 *   - the node's error code (-KITH_E* or -errno) with from_node = 1;
 *   - -ENOENT / -ECONNREFUSED / -EACCES / -ENAMETOOLONG: could not connect;
 *   - -EPIPE / -ECONNRESET: the node went away while we wrote or read;
 *   - -ETIMEDOUT: no answer within CLIENT_TIMEOUT_MS;
 *   - -EPROTO: the answer was not a valid response (or answered another id);
 *   - -EMSGSIZE: the answer was longer than CLIENT_RESPONSE_MAX.
 * After a connection error the client reconnects on the next call.
 */
int client_call(struct client *c, json_t *request, json_t **result, struct client_error *err);

/*
 * One line, without the "kith: " prefix, that says what went wrong in plain
 * words, naming what (may be NULL) where that helps: `unknown group "x"`,
 * `wrong passphrase`, `the node is not running (no socket at PATH)`.
 * socket_path is for connection errors. Writes into buf (capacity cap,
 * always NUL-terminated, truncated if needed).
 */
void client_explain(const struct client_error *err, const struct client_what *what,
                    const char *socket_path, char *buf, size_t cap);

#endif
