/*
 * service_pw: account create, unlock and passphrase change split in three
 * steps so the Argon2id work can run off the loop thread (see service.h,
 * "Passphrase work off the loop thread"). It owns each job: guarded memory
 * holding passphrases, the member key and the sealed key, wiped when freed.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "log.h"
#include "record.h"
#include "service.h"
#include "service_internal.h"

enum pw_kind { PW_UNLOCK, PW_CREATE, PW_CHANGE };

struct service_pw_job {
    enum pw_kind kind;
    char name[RECORD_NAME_MAX + 1];
    uint8_t key[32]; /* the account's store key */
    uint8_t pk[KITH_PUBKEY_BYTES];
    uint8_t sk[KITH_SECKEY_BYTES];
    uint8_t sealed[RECORD_SEALED_SK_BYTES]; /* unlock/change: the old seal; create: the new */
    size_t sealed_len;
    uint8_t resealed[RECORD_SEALED_SK_BYTES]; /* change: the new seal */
    size_t resealed_len;
    int known;  /* unlock: the name has an account */
    int result; /* of service_pw_run */
    uint64_t begun_ms;
    char pass[SERVICE_PASS_MAX];
    size_t pass_len;
    char new_pass[SERVICE_PASS_MAX];
    size_t new_len;
};

void service_pw_free(struct service_pw_job *job)
{
    if (job != NULL)
        sodium_free(job); /* sodium_free wipes */
}

static int job_new(enum pw_kind kind, const char *pass, size_t pass_len,
                   struct service_pw_job **out)
{
    struct service_pw_job *j;

    *out = NULL;
    if (pass_len > SERVICE_PASS_MAX)
        return -KITH_ETOOBIG;
    j = sodium_malloc(sizeof(*j));
    if (j == NULL)
        return -ENOMEM;
    memset(j, 0, sizeof(*j));
    j->kind = kind;
    if (pass_len > 0)
        memcpy(j->pass, pass, pass_len);
    j->pass_len = pass_len;
    *out = j;
    return 0;
}

/* Load the account stored under key into the job (its sealed key and
 * public key). */
static int job_load_account(struct service *svc, struct service_pw_job *j)
{
    struct record_account rec;
    struct store_txn *txn;
    int r = store_read_begin(svc->st, &txn);

    if (r < 0)
        return r;
    r = record_account_load(txn, svc->v, j->key, &rec);
    store_txn_end(txn);
    if (r < 0)
        return r;
    memcpy(j->name, rec.name, sizeof(j->name));
    memcpy(j->pk, rec.public_key, sizeof(j->pk));
    memcpy(j->sealed, rec.sealed_sk, rec.sealed_sk_len);
    j->sealed_len = rec.sealed_sk_len;
    record_account_free(&rec);
    return 0;
}

int service_pw_unlock_begin(struct service *svc, const char *name, const char *pass,
                            size_t pass_len, struct service_pw_job **out)
{
    char clean[RECORD_NAME_MAX + 1];
    struct service_pw_job *j;
    int r;

    *out = NULL;
    r = record_name_clean(name, clean);
    if (r < 0)
        return r;
    r = job_new(PW_UNLOCK, pass, pass_len, &j);
    if (r < 0)
        return r;
    j->begun_ms = svc_now(svc);
    record_account_key(svc->v, clean, j->key);
    r = svc_limit_check(svc, j->key, j->begun_ms);
    if (r == 0) {
        r = job_load_account(svc, j);
        j->known = r == 0;
        if (r == -KITH_ENOTFOUND) {
            /* Same work as a wrong passphrase: the decoy never opens. */
            memcpy(j->sealed, svc->dummy_seal, sizeof(svc->dummy_seal));
            j->sealed_len = sizeof(svc->dummy_seal);
            r = 0;
        }
    }
    if (r < 0) {
        service_pw_free(j);
        return r;
    }
    *out = j;
    return 0;
}

int service_pw_create_begin(struct service *svc, const char *name, const char *pass,
                            size_t pass_len, struct service_pw_job **out)
{
    char clean[RECORD_NAME_MAX + 1];
    struct service_pw_job *j;
    int r;

    *out = NULL;
    r = record_name_clean(name, clean);
    if (r < 0)
        return r;
    r = job_new(PW_CREATE, pass, pass_len, &j);
    if (r < 0)
        return r;
    memcpy(j->name, clean, sizeof(clean));
    record_account_key(svc->v, clean, j->key);
    /* Fail fast before the slow seal; checked again when storing. */
    r = svc_account_exists(svc, j->key);
    if (r == 0 && crypto_sign_keypair(j->pk, j->sk) != 0)
        r = -KITH_EINVAL;
    if (r < 0) {
        service_pw_free(j);
        return r;
    }
    *out = j;
    return 0;
}

int service_pw_change_begin(struct service *svc, struct service_session *sess, const char *old_pass,
                            size_t old_len, const char *new_pass, size_t new_len,
                            struct service_pw_job **out)
{
    struct service_pw_job *j;
    int r;

    *out = NULL;
    if (new_len > SERVICE_PASS_MAX)
        return -KITH_ETOOBIG;
    r = job_new(PW_CHANGE, old_pass, old_len, &j);
    if (r < 0)
        return r;
    memcpy(j->key, sess->account_key, sizeof(j->key));
    r = job_load_account(svc, j);
    if (r == -KITH_ENOTFOUND || (r == 0 && sodium_memcmp(j->pk, sess->pk, KITH_PUBKEY_BYTES) != 0))
        r = -KITH_ELOCKED;
    if (r < 0) {
        service_pw_free(j);
        return r;
    }
    if (new_len > 0)
        memcpy(j->new_pass, new_pass, new_len);
    j->new_len = new_len;
    *out = j;
    return 0;
}

/* Open the job's seal with pass into sk and check it against pk. */
static int open_seal(struct service_pw_job *j)
{
    uint8_t pk[KITH_PUBKEY_BYTES];
    size_t sk_len = 0;
    int r = vault_pw_unseal(j->pass, j->pass_len, j->sealed, j->sealed_len, j->sk, sizeof(j->sk),
                            &sk_len);

    if (r < 0)
        return r;
    crypto_sign_ed25519_sk_to_pk(pk, j->sk);
    if (sk_len != KITH_SECKEY_BYTES || sodium_memcmp(pk, j->pk, sizeof(pk)) != 0) {
        sodium_memzero(j->sk, sizeof(j->sk));
        return -KITH_ESTORE;
    }
    return 0;
}

void service_pw_run(struct service_pw_job *j)
{
    switch (j->kind) {
    case PW_UNLOCK:
        j->result = open_seal(j);
        if (!j->known)
            j->result = -KITH_EPASSPHRASE;
        break;
    case PW_CREATE:
        j->result = vault_pw_seal(j->pass, j->pass_len, j->sk, sizeof(j->sk), j->sealed,
                                  sizeof(j->sealed), &j->sealed_len);
        break;
    case PW_CHANGE:
        j->result = open_seal(j);
        if (j->result == 0)
            j->result = vault_pw_seal(j->new_pass, j->new_len, j->sk, sizeof(j->sk), j->resealed,
                                      sizeof(j->resealed), &j->resealed_len);
        break;
    }
    /* The passphrases are not needed after this. */
    sodium_memzero(j->pass, sizeof(j->pass));
    sodium_memzero(j->new_pass, sizeof(j->new_pass));
}

struct put_arg {
    struct service *svc;
    struct service_pw_job *j;
};

/* Store a new account (create) or a new seal of the same account (change),
 * in one write. */
static int put_cb(struct store_txn *txn, void *arg)
{
    struct put_arg *pa = arg;
    struct service_pw_job *j = pa->j;
    struct record_account rec;
    const void *val;
    size_t vlen;
    int r;

    memset(&rec, 0, sizeof(rec));
    if (j->kind == PW_CREATE) {
        r = store_get(txn, STORE_DB_ACCOUNTS, j->key, 32, &val, &vlen);
        if (r == 0)
            return -KITH_EEXIST;
        if (r != -KITH_ENOTFOUND)
            return r;
        memcpy(rec.name, j->name, sizeof(rec.name));
        memcpy(rec.public_key, j->pk, sizeof(rec.public_key));
        memcpy(rec.sealed_sk, j->sealed, j->sealed_len);
        rec.sealed_sk_len = j->sealed_len;
        return record_account_save(txn, pa->svc->v, j->key, &rec);
    }
    /* Change: only over the seal the old passphrase opened, so a change
     * made meanwhile (another browser) is not silently undone. */
    r = record_account_load(txn, pa->svc->v, j->key, &rec);
    if (r == -KITH_ENOTFOUND)
        return -KITH_ELOCKED;
    if (r < 0)
        return r;
    if (rec.sealed_sk_len != j->sealed_len ||
        sodium_memcmp(rec.sealed_sk, j->sealed, j->sealed_len) != 0 ||
        sodium_memcmp(rec.public_key, j->pk, sizeof(j->pk)) != 0) {
        record_account_free(&rec);
        return -KITH_ELOCKED;
    }
    memcpy(rec.sealed_sk, j->resealed, j->resealed_len);
    rec.sealed_sk_len = j->resealed_len;
    r = record_account_save(txn, pa->svc->v, j->key, &rec);
    record_account_free(&rec);
    return r;
}

static struct service_session *session_start(struct service *svc, struct service_pw_job *j)
{
    struct service_session *s = svc_session_new(svc, j->name, j->key);

    if (s == NULL)
        return NULL;
    memcpy(s->pk, j->pk, sizeof(s->pk));
    memcpy(s->sk, j->sk, sizeof(s->sk));
    svc_session_add(svc, s);
    return s;
}

int service_pw_finish(struct service *svc, struct service_pw_job *j, struct service_session **out)
{
    struct put_arg pa = {svc, j};
    struct service_session *s = NULL;
    int r = j->result;

    if (out != NULL)
        *out = NULL;
    switch (j->kind) {
    case PW_UNLOCK:
        if (r == -KITH_EPASSPHRASE)
            svc_limit_fail(svc, j->key, j->begun_ms);
        if (r < 0)
            break;
        s = session_start(svc, j);
        if (s == NULL) {
            r = -ENOMEM;
            break;
        }
        svc_limit_clear(svc, j->key);
        log_info("account.unlocked", "sessions=%zu", svc->n_sessions);
        break;
    case PW_CREATE:
        if (r == 0)
            r = store_write(svc->st, put_cb, &pa);
        if (r < 0)
            break;
        /* Real seals' Argon2 limits for the unknown-name decoy. */
        memcpy(svc->dummy_seal, j->sealed, 9);
        s = session_start(svc, j);
        if (s == NULL) {
            r = -ENOMEM;
            break;
        }
        log_info("account.created", "sessions=%zu", svc->n_sessions);
        break;
    case PW_CHANGE:
        if (r == 0)
            r = store_write(svc->st, put_cb, &pa);
        if (r == 0)
            log_info("account.passphrase_changed", "sessions=%zu", svc->n_sessions);
        break;
    }
    service_pw_free(j);
    if (out != NULL)
        *out = s;
    return r;
}
