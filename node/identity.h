/*
 * identity: the node's Noise static key pair (X25519), the key a node is
 * known by to its peers (in the handshake and in discovery beacons). It is
 * made once, on the first start, from randombytes_buf, and kept in the
 * store's meta database sealed under the node key (vault_seal, meta
 * "node.identity"), so it stays the same across restarts and is as safe at
 * rest as the group keys.
 *
 * A struct identity lives in sodium_malloc'd memory (guarded, locked)
 * because it holds the private key; identity_close wipes and frees it.
 */
#ifndef KITH_IDENTITY_H
#define KITH_IDENTITY_H

#include <stdint.h>

#include "kith/noise.h"
#include "store.h"
#include "vault.h"

#define IDENTITY_META_KEY "node.identity"
#define IDENTITY_VERSION 1

struct identity {
    uint8_t sk[KITH_NOISE_DHLEN]; /* X25519 private key: secret */
    uint8_t pk[KITH_NOISE_DHLEN]; /* X25519 public key: the node key */
};

/*
 * Load the node identity from the store, or make and store a new one when
 * there is none. Blob: version u8 (1) | sk[32], sealed with vault_seal under
 * AD "node.identity".
 * Returns 0, -KITH_EDECRYPT (the blob does not open under this node key),
 * -KITH_ESTORE (a blob of the wrong size or version), -KITH_ENOSPC, -ENOMEM
 * or a store error. On error nothing was written and *out is NULL. On
 * success *out is the caller's: identity_close().
 */
int identity_open(struct store *st, const struct vault *v, struct identity **out);

/* Wipe and free. NULL is fine. */
void identity_close(struct identity *id);

#endif
