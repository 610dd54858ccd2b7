/*
 * control: the control socket (node/CONTROL.md). A libuv Unix-domain stream
 * server, mode 0600 from the moment it exists (0660 and owned by a chosen
 * group once that group is set, for [control] group), that reads newline-delimited
 * JSON requests, hands each line to rpc_handle and writes the response back
 * followed by a newline, in order.
 *
 * It owns the listening socket, every client connection, their line buffers,
 * idle timers and queued writes, and the socket file (removed on stop). Every
 * handle is freed in its close callback; the struct control itself is freed
 * once the last of them has closed, so after control_stop the caller just
 * lets the loop run until it is empty.
 *
 * The line splitting is the pure control_linebuf_* below, so tests and the
 * fuzzer drive it without sockets.
 */
#ifndef KITH_CONTROL_H
#define KITH_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

struct service;
struct control;

#define CONTROL_MAX_CLIENTS 64
#define CONTROL_IDLE_MS 600000 /* 10 minutes */
/* Stop reading from a client that does not read its responses once this much
 * is queued for it; resume when the queue drains. */
#define CONTROL_WRITE_HIGH 4194304 /* 4 MiB */
/* control_start's group for "owner only" (mode 0600). */
#define CONTROL_NO_GROUP ((gid_t)-1)

/* ---- line buffer (pure) ---- */

struct control_linebuf {
    char *buf;  /* the unfinished line so far (malloc'd, grows) */
    size_t len; /* bytes in buf */
    size_t cap; /* bytes allocated */
    size_t max; /* longest line accepted, newline excluded */
};

/* Called for each complete line (without "\n" and a "\r" before it; not
 * NUL-terminated; valid only during the call). Empty lines are skipped.
 * Return 0 to go on, non-zero to stop feeding (that value is returned). */
typedef int (*control_line_fn)(const char *line, size_t len, void *arg);

/* Start an empty buffer for lines of at most max bytes. Never fails. */
void control_linebuf_init(struct control_linebuf *lb, size_t max);

/* Free the buffer (the struct is the caller's). */
void control_linebuf_free(struct control_linebuf *lb);

/*
 * Feed n bytes read from the peer: call fn for every line they complete, and
 * keep an unfinished tail for the next call. Returns 0; fn's non-zero value
 * (the bytes after that line are dropped); -KITH_ETOOBIG when a line grows
 * past max (the buffer is then emptied; the caller should drop the peer); or
 * -ENOMEM.
 */
int control_linebuf_feed(struct control_linebuf *lb, const char *data, size_t n, control_line_fn fn,
                         void *arg);

/* ---- server ---- */

/*
 * Is someone serving path? Connects to it: returns -EADDRINUSE if a server
 * answers, -ENOTSOCK if path exists and is not a socket (left alone), or 0
 * when no one serves it (a stale socket file is removed). Other -errno on
 * failure. Blocking; call before the loop runs.
 */
int control_probe(const char *path);

/*
 * The id of the system group called name (for [control] group). Returns 0
 * with *out set, -ENOENT (no such group) or another -errno from the group
 * database.
 */
int control_group_id(const char *name, gid_t *out);

/*
 * Listen on path (which must not exist: see control_probe), answering with
 * svc (the caller's; it must outlive the control). With group
 * CONTROL_NO_GROUP the socket file is mode 0600; with a group id it is
 * created 0600, given to that group, then opened to mode 0660, so that only
 * the owner and the group's members can ever connect. Returns 0 or -errno
 * (-ENAMETOOLONG; -EPERM when the process may not give the file to group;
 * or from libuv: -EADDRINUSE, -EACCES, ...). On error no socket file is
 * left, and the listening handle is already closing: it is freed on the
 * loop's next run, so run the loop (uv_run) before uv_loop_close. On
 * success *out is freed by control_stop.
 */
int control_start(uv_loop_t *loop, const char *path, gid_t group, struct service *svc,
                  struct control **out);

/* Number of connected clients (for tests and status). */
unsigned control_clients(const struct control *ctl);

/* Close connections idle for ms (default CONTROL_IDLE_MS); applies to idle
 * periods that start after the call. */
void control_set_idle_ms(struct control *ctl, uint64_t ms);

/*
 * Stop accepting, close every connection (dropping queued writes), remove
 * the socket file. Handles close on the next loop iterations; the control
 * frees itself when the last one has closed. NULL is fine; call once.
 */
void control_stop(struct control *ctl);

#endif
