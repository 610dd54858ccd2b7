/*
 * tcp: the LAN transport. A libuv TCP listener (IPv4 and IPv6) and outgoing
 * connections, each a struct transport (transport.h) that carries
 * u16-length-prefixed frames (kith/frame.h).
 *
 * It enforces the limits that do not need to know what the frames mean: at
 * most max_peers connections at once in both directions (a connection over
 * the limit is accepted and closed at once, so the backlog never fills), a
 * handshake timeout (a connection that has not been marked ready within
 * handshake_timeout of connecting is closed: half-open and silent peers), an
 * idle timeout (no frame for idle_timeout after ready), and a cap on queued
 * output (TRANSPORT_QUEUE_MAX).
 *
 * A struct tcp owns its listener and every connection it made or accepted.
 * Handles are freed only in their close callbacks: after tcp_stop, run the
 * loop until it is empty.
 */
#ifndef KITH_TCP_H
#define KITH_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "transport.h"

#define TCP_DEFAULT_PORT 7711
#define TCP_DEFAULT_LISTEN "[::]:7711" /* every address, IPv4 and IPv6 */
#define TCP_MAX_PEERS_DEFAULT 16
#define TCP_HANDSHAKE_TIMEOUT_DEFAULT_MS 10000
#define TCP_IDLE_TIMEOUT_DEFAULT_MS 120000
#define TCP_LINGER_MS 5000 /* how long transport_close waits for queued frames */
#define TCP_HOST_MAX 256   /* a host name or address with its NUL */
/* "[" address "%" interface "]:" port and a NUL */
#define TCP_ADDR_STR_MAX (INET6_ADDRSTRLEN + 16 + 10)

struct tcp;

/* A new inbound connection. Set t->on_frame, t->on_close (and optionally
 * on_drain, data) before returning. */
typedef void (*tcp_accept_cb)(struct tcp *tcp, struct transport *t, void *arg);

/* An outgoing connection is up (status 0, t set: set its callbacks as for
 * accept) or failed (t NULL, status: -ETIMEDOUT, -ECONNREFUSED, -ENXIO (the
 * host name did not resolve), -ECANCELED (tcp_stop), another -errno). */
typedef void (*tcp_dial_cb)(struct tcp *tcp, struct transport *t, int status, void *arg);

struct tcp_config {
    const char *listen;            /* "ADDR:PORT" (port 0: any free port); NULL: no listener */
    uint32_t max_peers;            /* 0 = TCP_MAX_PEERS_DEFAULT */
    uint32_t handshake_timeout_ms; /* 0 = TCP_HANDSHAKE_TIMEOUT_DEFAULT_MS */
    uint32_t idle_timeout_ms;      /* 0 = TCP_IDLE_TIMEOUT_DEFAULT_MS */
    tcp_accept_cb on_accept;       /* required when listen is set */
    void *arg;                     /* passed to on_accept */
};

/*
 * Start: bind and listen on cfg->listen if set. The listen address is a
 * numeric IPv4 or IPv6 address ("0.0.0.0:7711", "[::1]:0",
 * "[fe80::1%eth0]:7711"); "[::]" accepts IPv4 too, and falls back to
 * 0.0.0.0 on a system without IPv6.
 * Returns 0, -KITH_EINVAL (listen is not ADDR:PORT with a numeric address,
 * or no on_accept), -EADDRINUSE, -EACCES, -EADDRNOTAVAIL, -ENOMEM or another
 * -errno. On error *out is NULL and nothing is left but a closing handle
 * that the loop frees. On success *out is the caller's: tcp_stop().
 */
int tcp_start(uv_loop_t *loop, const struct tcp_config *cfg, struct tcp **out);

/*
 * Close the listener and every connection (their on_close fires with
 * -ECANCELED, pending dial callbacks with -ECANCELED, all from the loop) and
 * free tcp once the last handle has closed. tcp must not be used after this.
 * NULL is fine.
 */
void tcp_stop(struct tcp *tcp);

/* The port the listener is bound to (the real one when 0 was asked for),
 * or 0 when not listening. */
uint16_t tcp_port(const struct tcp *tcp);

/* The bound listen address as "ADDR:PORT" ("" when not listening); lives as
 * long as tcp. */
const char *tcp_address(const struct tcp *tcp);

/* Connections open or opening, both directions. */
size_t tcp_count(const struct tcp *tcp);

/*
 * Connect to addr (AF_INET or AF_INET6, with its port). cb fires exactly
 * once, from the loop, unless this returns an error. The handshake timeout
 * covers the connect too.
 * Returns 0, -EBUSY (max_peers connections already), -ECANCELED (tcp is
 * stopping), -KITH_EINVAL (not an IP address), -ENOMEM or another -errno.
 */
int tcp_dial(struct tcp *tcp, const struct sockaddr *addr, tcp_dial_cb cb, void *arg);

/*
 * Resolve host (a name or a numeric address) on the threadpool, then dial
 * its first address on port (1-65535). cb fires exactly once, from the loop,
 * unless this returns an error. Returns 0, -KITH_EINVAL (empty host, port
 * 0), -ECANCELED, -ENOMEM or another -errno.
 */
int tcp_dial_host(struct tcp *tcp, const char *host, uint16_t port, tcp_dial_cb cb, void *arg);

/* The far end of a TCP transport. Returns 0, or -KITH_EINVAL if t is not a
 * TCP transport. */
int tcp_peer_address(const struct transport *t, struct sockaddr_storage *out);

/*
 * Split "HOST:PORT" or "[IPV6]:PORT" into host (capacity hostcap, NUL
 * ended, brackets removed) and port (decimal digits, 0-65535). The host may
 * not be empty nor hold ':' outside brackets, whitespace, or control
 * characters. Returns 0 or -KITH_EINVAL; on error host and port are
 * unchanged.
 */
int tcp_split_hostport(const char *s, char *host, size_t hostcap, uint16_t *port);

/* Write addr as "1.2.3.4:7711" or "[fe80::1%eth0]:7711" (an IPv4-mapped IPv6
 * address is written as IPv4) into buf (TCP_ADDR_STR_MAX is enough). Returns
 * 0, -KITH_EINVAL (not IPv4/IPv6) or -KITH_EBUFSIZE. */
int tcp_format_address(const struct sockaddr *addr, char *buf, size_t len);

#endif
