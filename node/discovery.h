/*
 * discovery: finding other Kith nodes on the LAN with UDP multicast beacons
 * (kith/beacon.h).
 *
 * Groups and port (documented in README and kithd.conf.example):
 *   IPv4  239.255.77.11  (organisation-local scope, TTL 1: never routed)
 *   IPv6  ff02::7711     (link-local scope, hop limit 1)
 *   UDP port DISCOVERY_PORT_DEFAULT (7711) on both, shared with SO_REUSEADDR
 *   so that several nodes on one machine all hear every beacon.
 *
 * A beacon goes out on every LAN interface that is up and can multicast
 * (IPv4 if it has an IPv4 address, IPv6 if it has a link-local one) when
 * discovery starts, then every interval +-25 % at random, and again soon
 * (within DISCOVERY_SOON_MS, at most once a second) after a node is heard
 * that was not heard in the last three intervals, so that a newcomer is
 * answered quickly. Interfaces are looked at again before each beacon (a Pi's
 * Wi-Fi comes up late). When no interface can multicast (a machine with no
 * LAN), beacons go over IPv4 on the loopback interface, so that nodes on one
 * machine still find each other. Multicast loop is on, so nodes on the same
 * machine hear each other over a LAN interface too.
 *
 * Beacons carrying our own node key are ignored; others are decoded and
 * reported through on_beacon with the sender's address and its TCP port.
 * Malformed datagrams are dropped quietly (a debug log line).
 *
 * A struct discovery owns its two UDP sockets and two timers; they are freed
 * in their close callbacks after discovery_stop.
 */
#ifndef KITH_DISCOVERY_H
#define KITH_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "kith/beacon.h"

#define DISCOVERY_PORT_DEFAULT 7711
#define DISCOVERY_GROUP_V4 "239.255.77.11"
#define DISCOVERY_GROUP_V6 "ff02::7711"
#define DISCOVERY_INTERVAL_DEFAULT_MS 30000
#define DISCOVERY_SOON_MS 250 /* answer a new node within this (plus the 1 s gap) */
#define DISCOVERY_IFACES_MAX 32
#define DISCOVERY_HEARD_MAX 64 /* nodes remembered for "new node" detection */

struct discovery;

/* A beacon from another node. from: the sender's address with the port set
 * to the beacon's TCP port (IPv6 link-local addresses carry their scope).
 * b and from are valid only during the call. */
typedef void (*discovery_beacon_cb)(struct discovery *d, const struct kith_beacon *b,
                                    const struct sockaddr *from, void *arg);

struct discovery_config {
    uint8_t node_key[KITH_BEACON_KEY_BYTES]; /* ours: sent, and used to ignore our own */
    uint16_t tcp_port;                       /* where we accept sync connections (1-65535) */
    uint16_t port;                           /* UDP port; 0 = DISCOVERY_PORT_DEFAULT */
    uint32_t interval_ms;                    /* 0 = DISCOVERY_INTERVAL_DEFAULT_MS */
    /* Interface names to use, comma-separated ("eth0,wlan0", "lo"); NULL or
     * "" = every interface that can multicast (see above). Named interfaces
     * are used even without the MULTICAST flag (tests use "lo"). */
    const char *interfaces;
    discovery_beacon_cb on_beacon; /* required */
    void *arg;
};

/*
 * Open the sockets, join the groups and send the first beacon. IPv4 and IPv6
 * are each optional: discovery runs if either socket opens.
 * Returns 0, -KITH_EINVAL (tcp_port 0, no on_beacon, an interfaces list too
 * long), -ENOMEM or the -errno of the IPv4 socket when neither opens. On
 * error *out is NULL and only closing handles are left (the loop frees
 * them). On success *out is the caller's: discovery_stop().
 */
int discovery_start(uv_loop_t *loop, const struct discovery_config *cfg, struct discovery **out);

/* Stop sending and listening; the handles close and the struct is freed
 * from the loop. NULL is fine. on_beacon never fires after this. */
void discovery_stop(struct discovery *d);

/*
 * Set the groups the next beacons carry (copied; n at most
 * KITH_BEACON_GROUPS_MAX, the rest are left out). Takes effect at the next
 * beacon; discovery_announce sends one soon.
 */
void discovery_set_groups(struct discovery *d, const struct kith_beacon_group *groups, size_t n);

/* Send a beacon soon (at most one a second): our groups or sets changed. */
void discovery_announce(struct discovery *d);

/* Beacons sent so far (each interface and family counts one), for tests and
 * status. */
uint64_t discovery_sent(const struct discovery *d);

#endif
