/*
 * identity: the node's Noise static key pair, made on first start and kept
 * sealed under the node key in the meta database (see identity.h). Owns the
 * struct identity it hands out (sodium_malloc'd).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "identity.h"
#include "kith/error.h"
#include "log.h"

#define BLOB_PLAIN (1 + KITH_NOISE_DHLEN)
#define BLOB_SEALED (BLOB_PLAIN + VAULT_SEAL_OVERHEAD)
#define AD IDENTITY_META_KEY
#define AD_LEN (sizeof(IDENTITY_META_KEY) - 1)

struct put_ctx {
    const uint8_t *blob;
    size_t len;
};

static int put_cb(struct store_txn *txn, void *arg)
{
    struct put_ctx *c = arg;

    return store_put(txn, STORE_DB_META, IDENTITY_META_KEY, AD_LEN, c->blob, c->len);
}

static int derive_pk(struct identity *id)
{
    return crypto_scalarmult_base(id->pk, id->sk) == 0 ? 0 : -KITH_ESTORE;
}

/* 1 loaded, 0 no blob, or an error. */
static int load(struct store *st, const struct vault *v, struct identity *id)
{
    struct store_txn *txn;
    const void *val;
    size_t vlen, plen = 0;
    uint8_t sealed[BLOB_SEALED], plain[BLOB_PLAIN];
    int r = store_read_begin(st, &txn);

    if (r < 0)
        return r;
    r = store_get(txn, STORE_DB_META, IDENTITY_META_KEY, AD_LEN, &val, &vlen);
    if (r == 0 && vlen != BLOB_SEALED)
        r = -KITH_ESTORE;
    if (r == 0)
        memcpy(sealed, val, vlen);
    store_txn_end(txn);
    if (r == -KITH_ENOTFOUND)
        return 0;
    if (r < 0)
        return r;
    r = vault_unseal(v, sealed, sizeof(sealed), (const uint8_t *)AD, AD_LEN, plain, sizeof(plain),
                     &plen);
    if (r == 0 && (plen != BLOB_PLAIN || plain[0] != IDENTITY_VERSION))
        r = -KITH_ESTORE;
    if (r == 0) {
        memcpy(id->sk, plain + 1, KITH_NOISE_DHLEN);
        r = derive_pk(id);
    }
    sodium_memzero(plain, sizeof(plain));
    return r < 0 ? r : 1;
}

static int create(struct store *st, const struct vault *v, struct identity *id)
{
    uint8_t plain[BLOB_PLAIN], sealed[BLOB_SEALED];
    size_t slen = 0;
    struct put_ctx c = {sealed, 0};
    int r;

    plain[0] = IDENTITY_VERSION;
    /* X25519 clamps any 32 bytes into a valid scalar. */
    randombytes_buf(plain + 1, KITH_NOISE_DHLEN);
    memcpy(id->sk, plain + 1, KITH_NOISE_DHLEN);
    r = vault_seal(v, plain, sizeof(plain), (const uint8_t *)AD, AD_LEN, sealed, sizeof(sealed),
                   &slen);
    sodium_memzero(plain, sizeof(plain));
    if (r == 0)
        r = derive_pk(id);
    c.len = slen;
    if (r == 0)
        r = store_write(st, put_cb, &c);
    return r;
}

int identity_open(struct store *st, const struct vault *v, struct identity **out)
{
    struct identity *id;
    int r;

    *out = NULL;
    id = sodium_malloc(sizeof(*id));
    if (id == NULL)
        return -ENOMEM;
    r = load(st, v, id);
    if (r == 0) {
        r = create(st, v, id);
        if (r == 0)
            log_info("identity.created", "node=%02x%02x%02x%02x", id->pk[0], id->pk[1], id->pk[2],
                     id->pk[3]);
    }
    if (r < 0) {
        identity_close(id);
        return r;
    }
    *out = id;
    return 0;
}

void identity_close(struct identity *id)
{
    if (id != NULL) {
        sodium_memzero(id, sizeof(*id));
        sodium_free(id);
    }
}
