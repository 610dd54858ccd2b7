/*
 * beacon: the UDP discovery beacon a node multicasts on its LAN.
 *
 *   magic "KITH" | version u8 (=1) | flags u8 (=0) | node_key[32]
 *   | tcp_port u16 BE | count u8 | count x (group_tag[16] | summary[16])
 *
 * node_key is the X25519 static public key of the node's Noise identity (a
 * peer checks it in the handshake). tcp_port is where the node accepts sync
 * connections (1-65535). Each pair is for one group the node syncs: the tag
 * lets only members recognise the group and changes over time, the summary
 * lets two members see that their sets already agree and skip connecting
 * (kith_tag_make and kith_summary_make of kith/proof.h; the beacon carries
 * no time window: receivers try the windows around their own clock, as
 * kith_tag_check does; here they are opaque 16-byte values). A
 * stranger learns a node key and a port, nothing about any group.
 *
 * At most KITH_BEACON_GROUPS_MAX pairs, so a beacon (KITH_BEACON_MAX bytes at
 * most) fits one unfragmented datagram on any IPv6 link (1280-byte minimum
 * MTU). A node in more groups sends a different subset in each beacon.
 *
 * Pure: encode and decode only.
 */
#ifndef KITH_BEACON_H
#define KITH_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"

#define KITH_BEACON_MAGIC "KITH"
#define KITH_BEACON_VERSION 1 /* bump when the layout changes */
#define KITH_BEACON_KEY_BYTES 32
#define KITH_BEACON_TAG_BYTES 16
#define KITH_BEACON_SUMMARY_BYTES 16
#define KITH_BEACON_GROUPS_MAX 32
#define KITH_BEACON_FIXED 41 /* bytes before the pairs */
#define KITH_BEACON_PAIR (KITH_BEACON_TAG_BYTES + KITH_BEACON_SUMMARY_BYTES)
#define KITH_BEACON_MAX (KITH_BEACON_FIXED + KITH_BEACON_GROUPS_MAX * KITH_BEACON_PAIR)

struct kith_beacon_group {
    uint8_t tag[KITH_BEACON_TAG_BYTES];
    uint8_t summary[KITH_BEACON_SUMMARY_BYTES];
};

struct kith_beacon {
    uint8_t node_key[KITH_BEACON_KEY_BYTES];
    uint16_t tcp_port;
    uint8_t n_groups;
    struct kith_beacon_group groups[KITH_BEACON_GROUPS_MAX];
};

/*
 * Encode b into out (capacity cap; KITH_BEACON_MAX is always enough); *out_len
 * is the beacon's size, KITH_BEACON_FIXED + n_groups * KITH_BEACON_PAIR.
 * Returns 0, -KITH_EINVAL (tcp_port 0), -KITH_ETOOBIG (n_groups over
 * KITH_BEACON_GROUPS_MAX) or -KITH_EBUFSIZE. On error out is unchanged.
 */
int kith_beacon_encode(const struct kith_beacon *b, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Decode a received datagram of len bytes into *b.
 * Returns 0, -KITH_ETRUNCATED (shorter than its count says), -KITH_EENCODING
 * (wrong magic, a flag set, or port 0), -KITH_EVERSION (another version),
 * -KITH_ETOOBIG (count over KITH_BEACON_GROUPS_MAX) or -KITH_ETRAILING (bytes
 * after the last pair). On error *b is zeroed.
 */
int kith_beacon_decode(const uint8_t *in, size_t len, struct kith_beacon *b)
    __attribute__((warn_unused_result));

#endif
