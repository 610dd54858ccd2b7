/*
 * vault: the node key and the seals made with it or with a member's
 * passphrase (formats in vault.h). It owns the key material, kept in one
 * sodium_malloc'd, locked region and wiped on close, and the node-key entries
 * of the store's meta database:
 *
 *   node.mode   "file" or "passphrase": how this store's key is obtained
 *   node.check  a node seal of CHECK_PLAIN (AD CHECK_AD): proves a key right
 *   node.salt   16-byte Argon2id salt (passphrase mode)
 *   node.kdf    opslimit u32 BE | memlimit u32 BE in KiB (passphrase mode)
 *
 * The node key is never used directly: a seal key and an index key are
 * derived from it with crypto_kdf, so a seal and an index hash never share a
 * key.
 *
 * Argon2id uses libsodium's INTERACTIVE limits (2 passes, 64 MiB) for the
 * node passphrase and for members' passphrases alike. MODERATE (256 MiB,
 * about 1 s on a desktop) would take several seconds and a quarter of the
 * RAM of a Raspberry Pi 3, where nodes often run. The limits a blob was made
 * with are stored beside it, so they can be raised later without breaking
 * old blobs.
 */
#include "vault.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kith/error.h"

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SALT_BYTES crypto_pwhash_SALTBYTES
#define PW_HDR_BYTES (1 + 4 + 4 + SALT_BYTES) /* the part bound as AD */
#define PW_VERSION 1
/* Limits accepted from a stored blob: enough for MODERATE, and not so much
 * that a tampered header makes a Pi allocate a gigabyte. */
#define PW_OPS_MAX 16u
#define PW_MEM_KIB_MAX (256u * 1024)

#define CHECK_PLAIN "kith node key check v1"
#define CHECK_AD "kith/node.check"
#define CHECK_LEN (sizeof CHECK_PLAIN - 1)
#define KDF_CONTEXT "kithnode"
#define KDF_SEAL 1
#define KDF_INDEX 2

_Static_assert(VAULT_SEAL_OVERHEAD == NONCE_BYTES + TAG_BYTES, "seal overhead");
_Static_assert(VAULT_PW_SEAL_OVERHEAD == PW_HDR_BYTES + NONCE_BYTES + TAG_BYTES,
               "passphrase seal overhead");
_Static_assert(VAULT_KEY_BYTES == crypto_kdf_KEYBYTES, "node key size");

struct vault {
    /* master[32] | seal key[32] | index key[32]; master is wiped once the
     * other two are derived. */
    uint8_t *keys;
};

#define KEYS_BYTES ((size_t)3 * 32)
#define SEAL_KEY(v) ((v)->keys + 32)
#define INDEX_KEY(v) ((v)->keys + 64)

/* What the store's meta database says about the node key. */
struct node_meta {
    int has_check;
    char mode[16];
    uint8_t check[CHECK_LEN + VAULT_SEAL_OVERHEAD];
    int has_pw;
    uint8_t salt[SALT_BYTES];
    uint32_t ops, mem_kib;
};

static void put_be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24);
    p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int pw_limits_ok(uint32_t ops, uint32_t mem_kib)
{
    return ops >= crypto_pwhash_OPSLIMIT_MIN && ops <= PW_OPS_MAX &&
           mem_kib >= crypto_pwhash_MEMLIMIT_MIN / 1024 && mem_kib <= PW_MEM_KIB_MAX;
}

/* ---- key material ---- */

static struct vault *vault_alloc(void)
{
    struct vault *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->keys = sodium_malloc(KEYS_BYTES);
    if (!v->keys) {
        free(v);
        return NULL;
    }
    sodium_mlock(v->keys, KEYS_BYTES); /* best effort: RLIMIT_MEMLOCK may be 0 */
    return v;
}

void vault_close(struct vault *v)
{
    if (!v)
        return;
    sodium_memzero(v->keys, KEYS_BYTES);
    sodium_munlock(v->keys, KEYS_BYTES);
    sodium_free(v->keys);
    free(v);
}

/* Turn the master key in keys[0..32) into the working keys and wipe it. */
static void vault_derive(struct vault *v)
{
    crypto_kdf_derive_from_key(SEAL_KEY(v), 32, KDF_SEAL, KDF_CONTEXT, v->keys);
    crypto_kdf_derive_from_key(INDEX_KEY(v), 32, KDF_INDEX, KDF_CONTEXT, v->keys);
    sodium_memzero(v->keys, 32);
}

/* ---- the store's node-key entries ---- */

static int copy_meta(struct store_txn *txn, const char *name, void *dst, size_t want, size_t *got)
{
    const void *val;
    size_t len;
    int rc = store_get(txn, STORE_DB_META, name, strlen(name), &val, &len);
    if (rc < 0)
        return rc;
    if (len > want)
        return -KITH_ESTORE;
    memcpy(dst, val, len);
    *got = len;
    return 0;
}

static int read_node_meta(struct store *st, struct node_meta *m)
{
    struct store_txn *txn;
    uint8_t kdf[8];
    size_t len;
    int rc;

    memset(m, 0, sizeof *m);
    if ((rc = store_read_begin(st, &txn)) < 0)
        return rc;
    rc = copy_meta(txn, "node.check", m->check, sizeof m->check, &len);
    if (rc == -KITH_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc < 0 || len != sizeof m->check)
        goto corrupt;
    m->has_check = 1;
    rc = copy_meta(txn, "node.mode", m->mode, sizeof m->mode - 1, &len);
    if (rc < 0)
        goto corrupt;
    if (strcmp(m->mode, "passphrase") == 0) {
        if (copy_meta(txn, "node.salt", m->salt, sizeof m->salt, &len) < 0 ||
            len != sizeof m->salt || copy_meta(txn, "node.kdf", kdf, sizeof kdf, &len) < 0 ||
            len != sizeof kdf)
            goto corrupt;
        m->ops = get_be32(kdf);
        m->mem_kib = get_be32(kdf + 4);
        if (!pw_limits_ok(m->ops, m->mem_kib))
            goto corrupt;
        m->has_pw = 1;
    }
out:
    store_txn_end(txn);
    return rc;
corrupt:
    store_txn_end(txn);
    return -KITH_ESTORE;
}

/* Does this vault open the store's check blob? */
static int check_matches(const struct vault *v, const struct node_meta *m)
{
    uint8_t plain[CHECK_LEN];
    size_t len;
    int ok = vault_unseal(v, m->check, sizeof m->check, (const uint8_t *)CHECK_AD,
                          sizeof CHECK_AD - 1, plain, sizeof plain, &len) == 0 &&
             len == CHECK_LEN && sodium_memcmp(plain, CHECK_PLAIN, CHECK_LEN) == 0;
    sodium_memzero(plain, sizeof plain);
    return ok;
}

struct new_key {
    const struct vault *v;
    const char *mode;
    const uint8_t *salt; /* passphrase mode only */
    uint32_t ops, mem_kib;
};

static int put_meta(struct store_txn *txn, const char *name, const void *val, size_t len)
{
    return store_put(txn, STORE_DB_META, name, strlen(name), val, len);
}

static int write_new_key(struct store_txn *txn, void *arg)
{
    const struct new_key *nk = arg;
    uint8_t check[CHECK_LEN + VAULT_SEAL_OVERHEAD], kdf[8];
    size_t len;
    int rc = vault_seal(nk->v, (const uint8_t *)CHECK_PLAIN, CHECK_LEN, (const uint8_t *)CHECK_AD,
                        sizeof CHECK_AD - 1, check, sizeof check, &len);
    if (rc < 0)
        return rc;
    if ((rc = put_meta(txn, "node.check", check, len)) < 0 ||
        (rc = put_meta(txn, "node.mode", nk->mode, strlen(nk->mode))) < 0)
        return rc;
    if (nk->salt) {
        put_be32(kdf, nk->ops);
        put_be32(kdf + 4, nk->mem_kib);
        if ((rc = put_meta(txn, "node.salt", nk->salt, SALT_BYTES)) < 0 ||
            (rc = put_meta(txn, "node.kdf", kdf, sizeof kdf)) < 0)
            return rc;
    }
    return 0;
}

/* ---- key file ---- */

static int fsync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir)
        return -ENAMETOOLONG;
    if (slash && n == 0)
        n = 1; /* "/key" */
    memcpy(dir, slash ? path : ".", slash ? n : 1);
    dir[slash ? n : 1] = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static int create_keyfile(const char *path, uint8_t key[VAULT_KEY_BYTES])
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0)
        return -errno;
    randombytes_buf(key, VAULT_KEY_BYTES);
    for (size_t done = 0; done < VAULT_KEY_BYTES && rc == 0;) {
        ssize_t n = write(fd, key + done, VAULT_KEY_BYTES - done);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0 && errno != EINTR)
            rc = -errno;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0)
        rc = fsync_parent(path);
    if (rc < 0)
        unlink(path);
    return rc == -ENOSPC ? -KITH_ENOSPC : rc;
}

/* Read the key file into key. Returns 0, 1 (missing), -KITH_EKEYFILE,
 * -KITH_ENOKEY or -errno. */
static int read_keyfile(const char *path, uint8_t key[VAULT_KEY_BYTES])
{
    struct stat sb;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -errno;
    if (fstat(fd, &sb) != 0) {
        rc = -errno;
    } else if (!S_ISREG(sb.st_mode) || sb.st_size != VAULT_KEY_BYTES) {
        rc = -KITH_ENOKEY;
    } else if (sb.st_mode & 077) {
        rc = -KITH_EKEYFILE;
    } else {
        for (size_t done = 0; done < VAULT_KEY_BYTES && rc == 0;) {
            ssize_t n = read(fd, key + done, VAULT_KEY_BYTES - done);
            if (n > 0)
                done += (size_t)n;
            else if (n == 0)
                rc = -KITH_ENOKEY; /* shrank under us */
            else if (errno != EINTR)
                rc = -errno;
        }
    }
    close(fd);
    if (rc < 0)
        sodium_memzero(key, VAULT_KEY_BYTES);
    return rc;
}

int vault_open_keyfile(struct store *st, const char *keyfile, struct vault **out)
{
    struct node_meta m;
    struct vault *v;
    int rc;

    *out = NULL;
    if ((rc = read_node_meta(st, &m)) < 0)
        return rc;
    if (m.has_check && strcmp(m.mode, "file") != 0)
        return -KITH_ENOKEY;
    if (!(v = vault_alloc()))
        return -ENOMEM;
    rc = read_keyfile(keyfile, v->keys);
    if (rc == 1)
        rc = m.has_check ? -KITH_ENOKEY : create_keyfile(keyfile, v->keys);
    if (rc < 0)
        goto fail;
    vault_derive(v);
    if (m.has_check) {
        rc = check_matches(v, &m) ? 0 : -KITH_ENOKEY;
    } else {
        /* A key file made by hand (or left by a start that died before
         * this write) is adopted as the store's key. */
        struct new_key nk = {v, "file", NULL, 0, 0};
        rc = store_write(st, write_new_key, &nk);
    }
    if (rc < 0)
        goto fail;
    *out = v;
    return 0;
fail:
    vault_close(v);
    return rc;
}

/* ---- passphrase ---- */

int vault_open_passphrase(struct store *st, const char *pass, size_t pass_len, struct vault **out)
{
    struct node_meta m;
    struct vault *v;
    int rc;

    *out = NULL;
    if (pass_len == 0)
        return -KITH_EINVAL;
    if ((rc = read_node_meta(st, &m)) < 0)
        return rc;
    if (m.has_check && !m.has_pw)
        return -KITH_ENOKEY;
    if (!m.has_check) {
        randombytes_buf(m.salt, sizeof m.salt);
        m.ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        m.mem_kib = crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024;
    }
    if (!(v = vault_alloc()))
        return -ENOMEM;
    if (crypto_pwhash(v->keys, VAULT_KEY_BYTES, pass, pass_len, m.salt, m.ops,
                      (size_t)m.mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        rc = -ENOMEM;
        goto fail;
    }
    vault_derive(v);
    if (m.has_check) {
        rc = check_matches(v, &m) ? 0 : -KITH_EPASSPHRASE;
    } else {
        struct new_key nk = {v, "passphrase", m.salt, m.ops, m.mem_kib};
        rc = store_write(st, write_new_key, &nk);
    }
    if (rc < 0)
        goto fail;
    *out = v;
    return 0;
fail:
    vault_close(v);
    return rc;
}

/* ---- node seals ---- */

int vault_seal(const struct vault *v, const uint8_t *plain, size_t len, const uint8_t *ad,
               size_t ad_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    unsigned long long clen;
    *out_len = 0;
    if (len > SIZE_MAX - VAULT_SEAL_OVERHEAD || out_cap < len + VAULT_SEAL_OVERHEAD)
        return -KITH_EBUFSIZE;
    randombytes_buf(out, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, &clen, plain, len, ad, ad_len,
                                               NULL, out, SEAL_KEY(v));
    *out_len = NONCE_BYTES + (size_t)clen;
    return 0;
}

int vault_unseal(const struct vault *v, const uint8_t *in, size_t len, const uint8_t *ad,
                 size_t ad_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    unsigned long long mlen;
    int rc = 0;
    *out_len = 0;
    if (len < VAULT_SEAL_OVERHEAD)
        rc = -KITH_ETRUNCATED;
    else if (out_cap < len - VAULT_SEAL_OVERHEAD)
        rc = -KITH_EBUFSIZE;
    else if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, in + NONCE_BYTES,
                                                        len - NONCE_BYTES, ad, ad_len, in,
                                                        SEAL_KEY(v)) != 0)
        rc = -KITH_EDECRYPT;
    if (rc < 0) {
        sodium_memzero(out, out_cap);
        return rc;
    }
    *out_len = (size_t)mlen;
    return 0;
}

void vault_index_key(const struct vault *v, const char *label, const void *data, size_t len,
                     uint8_t out[32])
{
    crypto_generichash_state s;
    uint8_t label_len[4];
    size_t n = strlen(label);
    /* The label's length goes first so ("ab", "c") and ("a", "bc") differ. */
    put_be32(label_len, (uint32_t)n);
    crypto_generichash_init(&s, INDEX_KEY(v), 32, 32);
    crypto_generichash_update(&s, label_len, sizeof label_len);
    crypto_generichash_update(&s, (const uint8_t *)label, n);
    crypto_generichash_update(&s, data, len);
    crypto_generichash_final(&s, out, 32);
    sodium_memzero(&s, sizeof s);
}

/* ---- passphrase seals ---- */

static int pw_key(uint8_t *key, const char *pass, size_t pass_len, const uint8_t *hdr)
{
    return crypto_pwhash(key, 32, pass, pass_len, hdr + 9, get_be32(hdr + 1),
                         (size_t)get_be32(hdr + 5) * 1024, crypto_pwhash_ALG_ARGON2ID13) == 0
               ? 0
               : -ENOMEM;
}

int vault_pw_seal(const char *pass, size_t pass_len, const uint8_t *plain, size_t len, uint8_t *out,
                  size_t out_cap, size_t *out_len)
{
    uint8_t *key;
    unsigned long long clen;
    int rc;

    *out_len = 0;
    if (len > SIZE_MAX - VAULT_PW_SEAL_OVERHEAD || out_cap < len + VAULT_PW_SEAL_OVERHEAD)
        return -KITH_EBUFSIZE;
    out[0] = PW_VERSION;
    put_be32(out + 1, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    put_be32(out + 5, crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024);
    randombytes_buf(out + 9, SALT_BYTES);
    randombytes_buf(out + PW_HDR_BYTES, NONCE_BYTES);
    if (!(key = sodium_malloc(32)))
        return -ENOMEM;
    rc = pw_key(key, pass, pass_len, out);
    if (rc == 0) {
        crypto_aead_xchacha20poly1305_ietf_encrypt(out + PW_HDR_BYTES + NONCE_BYTES, &clen, plain,
                                                   len, out, PW_HDR_BYTES, NULL, out + PW_HDR_BYTES,
                                                   key);
        *out_len = PW_HDR_BYTES + NONCE_BYTES + (size_t)clen;
    }
    sodium_memzero(key, 32);
    sodium_free(key);
    return rc;
}

/* Derive the key a passphrase seal names and open it into out. */
static int pw_open(const char *pass, size_t pass_len, const uint8_t *in, size_t len, uint8_t *out,
                   unsigned long long *mlen)
{
    uint8_t *key;
    int rc;
    /* A damaged header cannot belong to the right passphrase's blob, and
     * absurd limits must not make us allocate gigabytes. */
    if (!pw_limits_ok(get_be32(in + 1), get_be32(in + 5)))
        return -KITH_EPASSPHRASE;
    if (!(key = sodium_malloc(32)))
        return -ENOMEM;
    rc = pw_key(key, pass, pass_len, in);
    if (rc == 0 &&
        crypto_aead_xchacha20poly1305_ietf_decrypt(out, mlen, NULL, in + PW_HDR_BYTES + NONCE_BYTES,
                                                   len - PW_HDR_BYTES - NONCE_BYTES, in,
                                                   PW_HDR_BYTES, in + PW_HDR_BYTES, key) != 0)
        rc = -KITH_EPASSPHRASE;
    sodium_memzero(key, 32);
    sodium_free(key);
    return rc;
}

int vault_pw_unseal(const char *pass, size_t pass_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len)
{
    unsigned long long mlen = 0;
    int rc;

    *out_len = 0;
    if (len < VAULT_PW_SEAL_OVERHEAD)
        rc = -KITH_ETRUNCATED;
    else if (in[0] != PW_VERSION)
        rc = -KITH_EVERSION;
    else if (out_cap < len - VAULT_PW_SEAL_OVERHEAD)
        rc = -KITH_EBUFSIZE;
    else
        rc = pw_open(pass, pass_len, in, len, out, &mlen);
    if (rc < 0) {
        sodium_memzero(out, out_cap);
        return rc;
    }
    *out_len = (size_t)mlen;
    return 0;
}
