/*
 * vault: the node key and every seal made with it or with a member's
 * passphrase. It owns the 32-byte node key (in sodium_malloc'd, locked
 * memory) and wipes it on close.
 *
 * The node key comes either from a key file (32 random bytes, mode 0600,
 * created on first start: for unattended Pis) or from a passphrase stretched
 * with Argon2id (salt in the store's meta database). Either way the meta
 * database holds a check blob sealed under the key, so a wrong passphrase or
 * a wrong key file is refused with -KITH_EPASSPHRASE / -KITH_ENOKEY before
 * anything is written.
 *
 * Blob formats (all XChaCha20-Poly1305-IETF):
 *   node seal:       nonce[24] | ciphertext+tag            (AD = caller's context)
 *   passphrase seal: version u8 (1) | opslimit u32 BE | memlimit u32 BE (KiB)
 *                    | salt[16] | nonce[24] | ciphertext+tag
 *                    (AD = the 25 bytes before the nonce, so the limits and
 *                    salt cannot be changed; key = Argon2id(pass, salt, limits))
 *
 * The node key itself seals nothing: crypto_kdf derives a seal key and an
 * index key from it (context "kithnode", subkeys 1 and 2).
 */
#ifndef KITH_VAULT_H
#define KITH_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define VAULT_KEY_BYTES 32
#define VAULT_SEAL_OVERHEAD (24 + 16)
#define VAULT_PW_SEAL_OVERHEAD (1 + 4 + 4 + 16 + 24 + 16)

struct vault;

/*
 * Load the node key from keyfile, creating it (mode 0600, fsynced) if it does
 * not exist and the store has no node key yet. An existing key file on a
 * store with no node key yet is adopted. Returns 0, -KITH_EKEYFILE (file
 * readable by group or others), -KITH_ENOKEY (missing while the store has a
 * key, wrong size, not a regular file, not the key this store was made with,
 * or the store was made with a passphrase), -KITH_ESTORE (damaged node-key
 * entries), -KITH_ENOSPC, or -errno. Nothing is written unless the store had
 * no node key. On success *out is the caller's: vault_close().
 */
int vault_open_keyfile(struct store *st, const char *keyfile, struct vault **out);

/*
 * Derive the node key from a passphrase (Argon2id with libsodium's
 * INTERACTIVE limits, 64 MiB: MODERATE's 256 MiB is too much for a Pi 3; the
 * limits and salt are kept in meta). On a new store this sets the passphrase.
 * Returns 0, -KITH_EINVAL (empty passphrase), -KITH_EPASSPHRASE,
 * -KITH_ENOKEY (the store was made with a key file), -KITH_ESTORE (damaged
 * node-key entries), or -errno / -KITH_ENOSPC.
 */
int vault_open_passphrase(struct store *st, const char *pass, size_t pass_len, struct vault **out);

/* Wipe the key and free. NULL is fine. */
void vault_close(struct vault *v);

/*
 * Seal plain under the node key (a random 24-byte nonce each time), binding ad (e.g. "group" |
 * group id) so a blob cannot be moved to another record. out needs len + VAULT_SEAL_OVERHEAD.
 * Returns 0 or -KITH_EBUFSIZE.
 */
int vault_seal(const struct vault *v, const uint8_t *plain, size_t len, const uint8_t *ad,
               size_t ad_len, uint8_t *out, size_t out_cap, size_t *out_len);

/* Open a node seal. Returns 0, -KITH_EDECRYPT, -KITH_ETRUNCATED or
 * -KITH_EBUFSIZE. On error out is wiped. */
int vault_unseal(const struct vault *v, const uint8_t *in, size_t len, const uint8_t *ad,
                 size_t ad_len, uint8_t *out, size_t out_cap, size_t *out_len)
    __attribute__((warn_unused_result));

/* A keyed hash (BLAKE2b-256 under a subkey of the node key) of data under a
 * label, for lookup keys that must not reveal what they index (account names). */
void vault_index_key(const struct vault *v, const char *label, const void *data, size_t len,
                     uint8_t out[32]);

/*
 * Seal plain under a key derived from a member's passphrase (Argon2id,
 * interactive limits, random salt). out needs len + VAULT_PW_SEAL_OVERHEAD.
 * Slow on purpose (tenths of a second). Returns 0, -KITH_EBUFSIZE or -ENOMEM.
 */
int vault_pw_seal(const char *pass, size_t pass_len, const uint8_t *plain, size_t len, uint8_t *out,
                  size_t out_cap, size_t *out_len);

/* Open a passphrase seal. Returns 0, -KITH_EPASSPHRASE, -KITH_EVERSION,
 * -KITH_ETRUNCATED, -KITH_EBUFSIZE or -ENOMEM. On error out is wiped. */
int vault_pw_unseal(const char *pass, size_t pass_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len) __attribute__((warn_unused_result));

#endif
