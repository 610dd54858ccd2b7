/*
 * peers: the known-peers table. Every node this one knows how to reach or
 * has talked to: the peers named in the config (host and port), those heard
 * in discovery beacons (node key and address), and those that connected to
 * us. For each it keeps when it was last seen, when to try it next (backoff
 * with jitter after failures: about 1 s, doubling, at most 5 minutes), and
 * when it last synced and what was exchanged, for `kith peers`.
 *
 * The table is plain data with an injected clock and random source, so the
 * schedule is testable; it does no I/O. The peer session and main.c call it
 * from the loop thread.
 *
 * Entries are owned by the table. A struct peer_info pointer stays valid
 * until peers_free, except that a discovered entry may be evicted to make
 * room when it is neither dialing nor connected (see peers_heard): hold a
 * pointer only across peers_attempt .. peers_disconnected.
 */
#ifndef KITH_PEERS_H
#define KITH_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#define PEERS_MAX 256
#define PEERS_KEY_BYTES 32
#define PEERS_HOST_MAX 256
#define PEERS_BACKOFF_MIN_MS 1000u
#define PEERS_BACKOFF_MAX_MS 300000u

enum peer_source {
    PEER_CONFIGURED = 1, /* named in the config or on the command line */
    PEER_DISCOVERED = 2, /* heard in a beacon */
    PEER_INBOUND = 4     /* connected to us */
};

struct peer_info {
    uint8_t node_key[PEERS_KEY_BYTES]; /* the Noise static key, once known */
    int has_key;
    char host[PEERS_HOST_MAX];    /* configured peers: the host as written; else "" */
    uint16_t port;                /* configured peers: the port as written */
    struct sockaddr_storage addr; /* discovered/inbound: last address, with the TCP port */
    int has_addr;
    unsigned sources; /* enum peer_source bits */

    uint64_t last_seen_ms;    /* last beacon, connection or frame; 0 never */
    uint64_t last_attempt_ms; /* last dial; 0 never */
    uint64_t next_attempt_ms; /* do not dial before this; 0 = now */
    uint32_t failures;        /* dials or sessions failed in a row */
    int severe;               /* the last failure was the peer's fault (a forged post...) */
    int dialing;              /* a dial is in flight */
    uint32_t connected;       /* open sessions with it */

    uint64_t last_sync_ms; /* last completed sync; 0 never */
    uint32_t syncs;
    uint64_t posts_in, posts_out, bytes_in, bytes_out; /* totals since start */
};

struct peers;

struct peers_config {
    uint64_t (*now_ms)(void *arg); /* NULL: the system clock (ms since 1970) */
    void *now_arg;
    /* A uniform random number in [0, upper); NULL: randombytes_uniform. */
    uint32_t (*random)(void *arg, uint32_t upper);
    void *random_arg;
};

/* A new, empty table. cfg may be NULL (system clock and randomness). Returns
 * 0 or -ENOMEM. *out is the caller's: peers_free(). */
int peers_new(const struct peers_config *cfg, struct peers **out);

/* Free the table and every entry. NULL is fine. */
void peers_free(struct peers *p);

size_t peers_count(const struct peers *p);

/* The i-th entry (i < peers_count), in the order added. */
struct peer_info *peers_at(const struct peers *p, size_t i);

/*
 * Add a configured peer (host 1..PEERS_HOST_MAX-1 bytes, port 1-65535). Due
 * at once. Returns 0, -EEXIST (the same host and port are already there;
 * *out is that entry), -KITH_EINVAL, -ENOSPC (PEERS_MAX entries, none
 * evictable) or -ENOMEM.
 */
int peers_add_configured(struct peers *p, const char *host, uint16_t port, struct peer_info **out);

/*
 * A beacon from the node with key came from addr (port = its TCP port).
 * Finds the entry with that key or adds one (evicting, when the table is
 * full, the discovered-only entry seen longest ago that is neither dialing
 * nor connected), and records the address and the time.
 * Returns 1 (a node not known before), 0 (known) or -ENOSPC / -ENOMEM /
 * -KITH_EINVAL (addr not IPv4/IPv6).
 */
int peers_heard(struct peers *p, const uint8_t key[PEERS_KEY_BYTES], const struct sockaddr *addr,
                struct peer_info **out);

/* The configured entry for host and port, or NULL. */
struct peer_info *peers_find_configured(const struct peers *p, const char *host, uint16_t port);

/*
 * e is no longer a configured peer (a config reload dropped it). If nothing
 * else made it known and it is neither dialing nor connected, it is removed
 * and freed at once (e is then invalid); otherwise it stays, is no longer
 * dialed as a configured peer, and forgets its host when discovery or an
 * inbound connection gave it an address (so it is dialed there). Sets
 * *removed to 1 when e was freed, else 0.
 */
void peers_unconfigure(struct peers *p, struct peer_info *e, int *removed);

/* Remove and free every entry that nothing makes known any more (see
 * peers_unconfigure) and that is neither dialing nor connected. Returns how
 * many were removed. Pointers to other entries stay valid. */
size_t peers_prune(struct peers *p);

/* The entry with this node key, or NULL. */
struct peer_info *peers_find_key(const struct peers *p, const uint8_t key[PEERS_KEY_BYTES]);

/*
 * An inbound connection completed its handshake as key from addr: finds or
 * adds the entry (as peers_heard), marks it connected and seen.
 * Returns 0, -ENOSPC, -ENOMEM or -KITH_EINVAL.
 */
int peers_inbound(struct peers *p, const uint8_t key[PEERS_KEY_BYTES], const struct sockaddr *addr,
                  struct peer_info **out);

/* Learn the key of a configured peer from its handshake. */
void peers_set_key(struct peers *p, struct peer_info *e, const uint8_t key[PEERS_KEY_BYTES]);

/* Whether e may be dialed now: an address or host known, not dialing, not
 * connected, and its backoff has passed. */
int peers_is_due(const struct peers *p, const struct peer_info *e);

/* 1 if e's last session failed by its own fault (severe) and the backoff has
 * not run out: a session it opens to us is refused until then (else a node
 * that sent forged posts could come straight back). A node whose connection
 * merely dropped may reconnect at once. 0 otherwise. */
int peers_backed_off(const struct peers *p, const struct peer_info *e);

/* The time (ms, the table's clock) when the next entry that is not dialing
 * or connected becomes due; 0 if one is due now; UINT64_MAX if none. */
uint64_t peers_next_due_ms(const struct peers *p);

/* A dial to e starts. */
void peers_attempt(struct peers *p, struct peer_info *e);

/*
 * The dial or the session with e failed (refused, timed out, bad handshake,
 * or the peer misbehaved). Backs e off: the n-th failure in a row waits
 * min(PEERS_BACKOFF_MIN_MS * 2^(n-1), PEERS_BACKOFF_MAX_MS), less a random
 * 0-25 % so that nodes do not retry in step. severe (forged data, a broken
 * protocol) goes straight to the longest wait. Clears dialing; a connected
 * session counted by peers_connected is ended with peers_disconnected.
 */
void peers_failed(struct peers *p, struct peer_info *e, int severe);

/* The dial to e succeeded and the handshake passed: clears dialing, counts
 * the session, marks e seen, and resets the backoff. */
void peers_connected(struct peers *p, struct peer_info *e);

/* A session with e ended (any reason; a failure also calls peers_failed). */
void peers_disconnected(struct peers *p, struct peer_info *e);

/* A sync with e completed, with what went each way. */
void peers_synced(struct peers *p, struct peer_info *e, uint64_t posts_in, uint64_t posts_out,
                  uint64_t bytes_in, uint64_t bytes_out);

/*
 * The table for `kith peers`: *out = {"peers": [{"node": hex key or null,
 * "address": "HOST:PORT" or null, "sources": ["configured", ...],
 * "connected": bool, "last_seen_ms", "last_sync_ms", "next_attempt_ms"
 * (0 = never / now), "failures", "syncs", "posts_in", "posts_out",
 * "bytes_in", "bytes_out"}]}. Returns 0 or -ENOMEM.
 */
int peers_json(const struct peers *p, json_t **out);

#endif
