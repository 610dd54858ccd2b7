/*
 * sync: the sync manager. It owns the TCP listener and outgoing dials
 * (tcp.c), discovery (discovery.c), the known-peers table (peers.c), the
 * serial links (serial.c, kept in sync_serial.c) and every peer session
 * (peer.c), TCP or serial alike; it decides whom to dial (configured peers
 * when their backoff allows, discovered ones whose beacon shows a group in
 * common and a set that differs), keeps the limits (max peers, max
 * concurrent syncs), fans new posts out to the open sessions of their
 * group, keeps the beacon's tags and set summaries current, and answers the
 * control commands `peers`, `sync`, `sync.status` and `sync.sets`
 * (node/CONTROL.md).
 *
 * Everything runs on the loop thread. sync_stop ends every session (BYE)
 * and closes every handle; the struct frees itself from the loop once the
 * last session and handle are gone, so run the loop until it is empty.
 */
#ifndef KITH_SYNC_H
#define KITH_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "identity.h"
#include "serial.h"
#include "service.h"
#include "store.h"
#include "vault.h"

#define SYNC_JOBS_MAX 16       /* `sync` runs remembered for sync.status */
#define SYNC_JOB_ERRORS_MAX 16 /* errors kept per run */
#define SYNC_TICK_MS 1000
#define SYNC_LINKS_MAX 16 /* serial links, configured and one-off together */

struct sync;

struct sync_config {
    const char *listen;       /* "ADDR:PORT"; NULL or "" = no listener */
    const char *const *peers; /* configured "HOST:PORT" */
    size_t n_peers;
    int discovery;                 /* 1 = send and hear beacons */
    uint16_t discovery_port;       /* 0 = DISCOVERY_PORT_DEFAULT */
    uint32_t beacon_interval_ms;   /* 0 = DISCOVERY_INTERVAL_DEFAULT_MS */
    const char *interfaces;        /* discovery interfaces; NULL = all */
    uint32_t max_peers;            /* connections; 0 = TCP_MAX_PEERS_DEFAULT */
    uint32_t max_syncs;            /* sessions not yet live at once; 0 = 4 */
    uint32_t idle_timeout_ms;      /* 0 = TCP_IDLE_TIMEOUT_DEFAULT_MS */
    uint32_t handshake_timeout_ms; /* 0 = TCP_HANDSHAKE_TIMEOUT_DEFAULT_MS */
    /* Serial devices to keep a link on (device, baud, flow, role; the
     * callbacks and timeouts are the sync's own). At most SYNC_LINKS_MAX. */
    const struct serial_config *serials;
    size_t n_serials;
};

/*
 * Start syncing: load the groups this node holds, listen, start discovery,
 * start a link on each serial device, and dial the configured peers. svc, st, v and id are borrowed
 * and must outlive the sync (until the loop has freed it). Sets the service's post hook and sync
 * pointer. Returns 0, -KITH_EINVAL (a bad listen address, peer or serial device or baud, more than
 * SYNC_LINKS_MAX devices), -EADDRINUSE, -ENOMEM, or a store or socket error. On error nothing is
 * left but closing handles and *out is NULL.
 */
int sync_start(uv_loop_t *loop, struct service *svc, struct store *st, const struct vault *v,
               const struct identity *id, const struct sync_config *cfg, struct sync **out);

/* Stop (see above). NULL is fine. */
void sync_stop(struct sync *s);

/*
 * Change the configured peers while running (a config reload). add: a
 * "HOST:PORT" to sync with from now on, dialed on the next tick; returns 0,
 * -EEXIST (already configured), -KITH_EINVAL (not HOST:PORT with a port),
 * -ENOSPC (the peers table is full) or -ENOMEM. remove: stop dialing that
 * configured peer (a session with it runs to its end); returns 0 or
 * -KITH_ENOTFOUND. On error nothing changes.
 */
int sync_add_peer(struct sync *s, const char *peer);
int sync_remove_peer(struct sync *s, const char *peer);

/* Change how many peers sync at once (1 or more; a reload). Sessions over
 * the new limit finish; no new one starts until below it. */
void sync_set_max_syncs(struct sync *s, uint32_t max_syncs);

/* The TCP port listened on, 0 if none. */
uint16_t sync_port(const struct sync *s);

/* The control commands; each builds its CONTROL.md result in *out (a new
 * reference). Returns 0, -ENOMEM, and: sync_now -KITH_EINVAL (peer not
 * HOST:PORT); sync_job_json -KITH_ENOTFOUND; sync_sets_json a store error. */
int sync_peers_json(struct sync *s, json_t **out);
int sync_now(struct sync *s, const char *peer, json_t **out);
/* A `sync` over one serial device (baud 0 = SERIAL_BAUD_DEFAULT): the link
 * already on that device, or a one-off link started for this run and
 * stopped when it ends. Returns 0, -ENOMEM, -KITH_EINVAL (bad path or
 * baud) or -ENOSPC (SYNC_LINKS_MAX links running). */
int sync_now_serial(struct sync *s, const char *device, uint32_t baud, json_t **out);
int sync_job_json(struct sync *s, int64_t job, json_t **out);
int sync_sets_json(struct sync *s, json_t **out);
/* Add "sync" to a status object. */
int sync_status_add(struct sync *s, json_t *status);

/* Sessions open (any state), for tests. */
size_t sync_sessions(const struct sync *s);

#endif
