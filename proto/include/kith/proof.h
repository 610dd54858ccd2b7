/*
 * proof: group membership proofs for the sync session and group tags for
 * discovery beacons (proto/PROTOCOL.md, "Session protocol (sync)").
 *
 * A proof is a MAC under a key derived from a group key (one epoch of it)
 * over the session's Noise handshake hash and the sender's role, so it is
 * worthless on any other session and cannot be reflected back to its sender.
 * A tag is a short MAC under another key derived from the group key over a
 * time window number and the beacon sender's node key, so that members
 * recognise each other's beacons and nobody else can link beacons across
 * windows or tell which nodes share a group. A summary, under the same key,
 * lets members whose sets already agree see so without connecting.
 *
 * Pure: no clock (the caller passes the time window), no allocation. Derived
 * keys live on the stack and are wiped before returning.
 */
#ifndef KITH_PROOF_H
#define KITH_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"
#include "kith/noise.h"
#include "kith/post.h"

#define KITH_PROOF_BYTES 32
#define KITH_PROOF_HH_BYTES KITH_NOISE_HASHLEN /* the handshake hash, 64 bytes */
#define KITH_TAG_BYTES 16
#define KITH_TAG_NODE_KEY_BYTES 32 /* the beacon sender's Noise static public key */
#define KITH_SUMMARY_BYTES 16
#define KITH_SUMMARY_SET_BYTES 16 /* a Negentropy fingerprint */
/* One tag window: an hour. */
#define KITH_TAG_WINDOW_MS 3600000ull

/* Roles, as in the Noise handshake. */
#define KITH_PROOF_INITIATOR 0
#define KITH_PROOF_RESPONDER 1

/*
 * The proof that the side with role (KITH_PROOF_INITIATOR or
 * KITH_PROOF_RESPONDER) holds group_key at epoch, for the session whose
 * handshake hash is hh:
 *   proof_key = BLAKE2b-256(key = group_key, "kith-proof-key-v1" | epoch u32)
 *   proof     = BLAKE2b-256(key = proof_key, "kith-proof-v1" | hh | role u8)
 * Returns 0, or -KITH_EINVAL for another role (proof is then untouched).
 */
int kith_proof_make(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                    const uint8_t hh[KITH_PROOF_HH_BYTES], int role,
                    uint8_t proof[KITH_PROOF_BYTES]);

/*
 * Check a proof received from the side with role, against one key we hold.
 * Constant time in the proof's bytes. Returns 0 if it matches,
 * -KITH_ENOTFOUND if it does not (the peer did not prove this key), or
 * -KITH_EINVAL for a bad role.
 */
int kith_proof_check(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                     const uint8_t hh[KITH_PROOF_HH_BYTES], int role,
                     const uint8_t proof[KITH_PROOF_BYTES]) __attribute__((warn_unused_result));

/*
 * Match one received proof against the n proofs we expect (n x
 * KITH_PROOF_BYTES at expected: kith_proof_make of each key we hold, with the
 * peer's role). Every entry is compared, in constant time each, whatever
 * matches. Returns 0 with *index set to the first match, or -KITH_ENOTFOUND.
 */
int kith_proof_find(const uint8_t *expected, size_t n, const uint8_t proof[KITH_PROOF_BYTES],
                    size_t *index) __attribute__((warn_unused_result));

/* The tag window a time falls in: unix_ms / KITH_TAG_WINDOW_MS. */
uint64_t kith_tag_window(uint64_t unix_ms);

/*
 * The beacon tag of group_key at epoch, in a node's beacon, for a window:
 *   tag_key = BLAKE2b-256(key = group_key, "kith-beacon-key-v1" | epoch u32)
 *   tag     = first 16 bytes of BLAKE2b-256(key = tag_key,
 *               "kith-beacon-v1" | window u64 | node_key[32])
 * node_key is the beacon's sender's static public key (the beacon carries
 * it), so two nodes of one group send different tags: a stranger cannot
 * tell which nodes share a group, nor link a node's tags across windows.
 */
void kith_tag_make(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch, uint64_t window,
                   const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES], uint8_t tag[KITH_TAG_BYTES]);

/*
 * Does tag, from the beacon of node_key, belong to group_key at epoch?
 * Accepts the tags of windows window - 1, window and window + 1 (clocks up
 * to an hour apart), comparing all three in constant time. Returns 0 with
 * *matched (if not NULL) set to the window that matched, for
 * kith_summary_check; or -KITH_ENOTFOUND.
 */
int kith_tag_check(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch, uint64_t window,
                   const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES],
                   const uint8_t tag[KITH_TAG_BYTES], uint64_t *matched)
    __attribute__((warn_unused_result));

/*
 * The beacon summary of a node's set of one group: lets a member see that
 * its set and the sender's agree (and skip connecting) while a stranger sees
 * a value that changes with each window and each node:
 *   summary = first 16 bytes of BLAKE2b-256(key = tag_key,
 *               "kith-summary-v1" | window u64 | node_key[32] | set_fp[16])
 * set_fp is the Negentropy fingerprint of the whole set of the group
 * (kith_recon_fingerprint over the sum of every id and the count).
 */
void kith_summary_make(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                       uint64_t window, const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES],
                       const uint8_t set_fp[KITH_SUMMARY_SET_BYTES],
                       uint8_t summary[KITH_SUMMARY_BYTES]);

/*
 * Compare a received summary (from node_key's beacon, window as returned by
 * kith_tag_check) with our own set's fingerprint our_fp. Constant time.
 * Returns 0 if the sets agree, -KITH_ENOTFOUND if they differ.
 */
int kith_summary_check(const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint32_t epoch,
                       uint64_t window, const uint8_t node_key[KITH_TAG_NODE_KEY_BYTES],
                       const uint8_t our_fp[KITH_SUMMARY_SET_BYTES],
                       const uint8_t summary[KITH_SUMMARY_BYTES])
    __attribute__((warn_unused_result));

#endif
