/*
 * service: lifecycle, sessions, accounts and status (see service.h). Groups
 * live in service_group.c; the rules for storing posts and accepting them
 * from sync in service_post.c; writing posts in service_thread.c; reading
 * threads and the export in service_read.c. All share struct service
 * through service_internal.h.
 *
 * It owns the unlocked sessions (each in sodium_malloc'd memory holding the
 * member's secret key), the failed-unlock counters, and the per-group caches
 * of display names and counts (freed here, filled by service_post.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "hlc.h"
#include "kith/error.h"
#include "kith/invite.h"
#include "log.h"
#include "record.h"
#include "service.h"
#include "service_internal.h"

#ifndef KITH_VERSION
#define KITH_VERSION "0.1.0"
#endif

static uint64_t mono_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t svc_now(struct service *svc)
{
    return svc->now_ms != NULL ? svc->now_ms(svc->now_arg) : hlc_wall_ms();
}

void svc_hex(const uint8_t *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

json_t *svc_jstr(const char *s, size_t len)
{
    return json_stringn(s != NULL ? s : "", s != NULL ? len : 0);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* A passphrase seal of random bytes in the vault's format with the same
 * Argon2id limits as real ones: unlocking an unknown name costs what a wrong
 * passphrase costs, so timing does not tell which names exist. */
static void dummy_seal_init(struct service *svc)
{
    uint8_t *d = svc->dummy_seal;
    uint32_t ops = (uint32_t)crypto_pwhash_OPSLIMIT_INTERACTIVE;
    uint32_t kib = (uint32_t)(crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024);

    randombytes_buf(d, sizeof(svc->dummy_seal));
    d[0] = 1;
    d[1] = (uint8_t)(ops >> 24);
    d[2] = (uint8_t)(ops >> 16);
    d[3] = (uint8_t)(ops >> 8);
    d[4] = (uint8_t)ops;
    d[5] = (uint8_t)(kib >> 24);
    d[6] = (uint8_t)(kib >> 16);
    d[7] = (uint8_t)(kib >> 8);
    d[8] = (uint8_t)kib;
}

int service_open(struct store *st, struct vault *v, const struct service_config *cfg,
                 struct service **out)
{
    struct service *svc = calloc(1, sizeof(*svc));

    *out = NULL;
    if (svc == NULL)
        return -ENOMEM;
    svc->st = st;
    svc->v = v;
    svc->idle_s = cfg->session_idle_s != 0 ? cfg->session_idle_s : SERVICE_IDLE_DEFAULT_S;
    svc->now_ms = cfg->now_ms;
    svc->now_arg = cfg->now_arg;
    svc->content_dir = dup_or_null(cfg->content_dir);
    svc->data_dir = dup_or_null(cfg->data_dir);
    svc->socket_path = dup_or_null(cfg->socket_path);
    if ((cfg->content_dir != NULL && svc->content_dir == NULL) ||
        (cfg->data_dir != NULL && svc->data_dir == NULL) ||
        (cfg->socket_path != NULL && svc->socket_path == NULL) ||
        vcache_new(SERVICE_VERIFIED_LOG2, &svc->verified) < 0) {
        service_close(svc);
        return -ENOMEM;
    }
    svc->started_mono_ms = mono_ms();
    dummy_seal_init(svc);
    *out = svc;
    return 0;
}

static void session_end(struct service *svc, size_t i)
{
    sodium_free(svc->sessions[i]); /* sodium_free wipes before freeing */
    svc->sessions[i] = svc->sessions[--svc->n_sessions];
    svc->sessions[svc->n_sessions] = NULL;
}

void service_close(struct service *svc)
{
    if (svc == NULL)
        return;
    while (svc->n_sessions > 0)
        session_end(svc, svc->n_sessions - 1);
    svc_close_caches(svc);
    vcache_free(svc->verified);
    for (size_t i = 0; i < SVC_VIEW_SLOTS; i++)
        json_decref(svc->views[i].json);
    free(svc->content_dir);
    free(svc->data_dir);
    free(svc->socket_path);
    sodium_memzero(svc, sizeof(*svc));
    free(svc);
}

static int session_expired(const struct service *svc, const struct service_session *s, uint64_t now)
{
    /* A clock that went backwards does not end sessions early. */
    return now > s->last_ms && now - s->last_ms >= (uint64_t)svc->idle_s * 1000u;
}

void service_tick(struct service *svc)
{
    uint64_t now = svc_now(svc);
    size_t ended = 0;

    for (size_t i = svc->n_sessions; i-- > 0;) {
        if (session_expired(svc, svc->sessions[i], now)) {
            session_end(svc, i);
            ended++;
        }
    }
    if (ended > 0)
        log_info("session.expired", "count=%zu open=%zu", ended, svc->n_sessions);
}

/* A fresh session in guarded memory, not yet listed. */
static struct service_session *session_new(struct service *svc, const char *name,
                                           const uint8_t account_key[32])
{
    struct service_session *s = sodium_malloc(sizeof(*s));

    if (s == NULL)
        return NULL;
    memset(s, 0, sizeof(*s));
    randombytes_buf(s->token, sizeof(s->token));
    svc_hex(s->token, sizeof(s->token), s->token_hex);
    memcpy(s->name, name, strlen(name) + 1);
    memcpy(s->account_key, account_key, 32);
    s->last_ms = svc_now(svc);
    return s;
}

/* List s, evicting the least recently used session when full. */
static void session_add(struct service *svc, struct service_session *s)
{
    if (svc->n_sessions == SERVICE_SESSIONS_MAX) {
        size_t old = 0;
        for (size_t i = 1; i < svc->n_sessions; i++) {
            if (svc->sessions[i]->last_ms < svc->sessions[old]->last_ms)
                old = i;
        }
        session_end(svc, old);
        log_warn("session.evicted", "max=%d", SERVICE_SESSIONS_MAX);
    }
    svc->sessions[svc->n_sessions++] = s;
}

int service_session_find(struct service *svc, const char *token, struct service_session **out)
{
    uint8_t raw[32];
    size_t n = 0;
    uint64_t now = svc_now(svc);

    *out = NULL;
    if (token == NULL || strlen(token) != SERVICE_TOKEN_HEX ||
        sodium_hex2bin(raw, sizeof(raw), token, SERVICE_TOKEN_HEX, NULL, &n, NULL) != 0 ||
        n != sizeof(raw))
        return -KITH_ELOCKED;
    for (size_t i = 0; i < svc->n_sessions; i++) {
        struct service_session *s = svc->sessions[i];
        if (sodium_memcmp(s->token, raw, sizeof(raw)) != 0)
            continue;
        if (session_expired(svc, s, now)) {
            session_end(svc, i);
            return -KITH_ELOCKED;
        }
        if (now > s->last_ms)
            s->last_ms = now;
        *out = s;
        return 0;
    }
    return -KITH_ELOCKED;
}

const char *service_session_token(const struct service_session *sess)
{
    return sess->token_hex;
}

const char *service_session_name(const struct service_session *sess)
{
    return sess->name;
}

const uint8_t *service_session_public_key(const struct service_session *sess)
{
    return sess->pk;
}

void service_account_lock(struct service *svc, const struct service_session *sess)
{
    for (size_t i = 0; i < svc->n_sessions; i++) {
        if (svc->sessions[i] == sess) {
            session_end(svc, i);
            return;
        }
    }
}

/* ---- failed-unlock limits ---- */

static struct svc_limit *limit_find(struct service *svc, const uint8_t key[32])
{
    for (size_t i = 0; i < svc->n_limits; i++) {
        if (memcmp(svc->limits[i].key, key, 32) == 0)
            return &svc->limits[i];
    }
    return NULL;
}

static int limit_check(struct service *svc, const uint8_t key[32], uint64_t now)
{
    struct svc_limit *l = limit_find(svc, key);

    if (l != NULL && l->failures >= SERVICE_UNLOCK_FREE_TRIES && now < l->until_ms)
        return -KITH_ERATELIMIT;
    return 0;
}

static void limit_fail(struct service *svc, const uint8_t key[32], uint64_t now)
{
    struct svc_limit *l = limit_find(svc, key);

    if (l == NULL) {
        if (svc->n_limits < SVC_LIMITS_MAX) {
            l = &svc->limits[svc->n_limits++];
        } else {
            /* Full: forget the name least recently tried. */
            l = &svc->limits[0];
            for (size_t i = 1; i < svc->n_limits; i++) {
                if (svc->limits[i].last_ms < l->last_ms)
                    l = &svc->limits[i];
            }
        }
        memset(l, 0, sizeof(*l));
        memcpy(l->key, key, 32);
    }
    l->failures++;
    l->last_ms = now;
    if (l->failures >= SERVICE_UNLOCK_FREE_TRIES) {
        uint32_t shift = l->failures - SERVICE_UNLOCK_FREE_TRIES;
        uint64_t delay = 1000u << (shift > 10 ? 10 : shift);
        if (delay > (uint64_t)SERVICE_UNLOCK_DELAY_MAX_S * 1000u)
            delay = (uint64_t)SERVICE_UNLOCK_DELAY_MAX_S * 1000u;
        l->until_ms = now + delay;
        log_warn("account.unlock_limited", "failures=%u delay_ms=%llu", l->failures,
                 (unsigned long long)delay);
    }
}

static void limit_clear(struct service *svc, const uint8_t key[32])
{
    struct svc_limit *l = limit_find(svc, key);

    if (l != NULL)
        *l = svc->limits[--svc->n_limits];
}

/* ---- accounts ---- */

struct account_put {
    const struct vault *v;
    const uint8_t *key;
    const struct record_account *rec;
};

static int account_put_cb(struct store_txn *txn, void *arg)
{
    struct account_put *ap = arg;
    const void *val;
    size_t vlen;
    int r = store_get(txn, STORE_DB_ACCOUNTS, ap->key, 32, &val, &vlen);

    if (r == 0)
        return -KITH_EEXIST;
    if (r != -KITH_ENOTFOUND)
        return r;
    return record_account_save(txn, ap->v, ap->key, ap->rec);
}

static int account_exists(struct service *svc, const uint8_t key[32])
{
    struct store_txn *txn;
    const void *val;
    size_t vlen;
    int r = store_read_begin(svc->st, &txn);

    if (r < 0)
        return r;
    r = store_get(txn, STORE_DB_ACCOUNTS, key, 32, &val, &vlen);
    store_txn_end(txn);
    return r == 0 ? -KITH_EEXIST : (r == -KITH_ENOTFOUND ? 0 : r);
}

int service_account_create(struct service *svc, const char *name, const char *pass, size_t pass_len,
                           struct service_session **out)
{
    char clean[RECORD_NAME_MAX + 1];
    uint8_t key[32];
    struct record_account rec;
    struct service_session *s = NULL;
    struct account_put ap;
    int r;

    *out = NULL;
    memset(&rec, 0, sizeof(rec));
    r = record_name_clean(name, clean);
    if (r < 0)
        return r;
    record_account_key(svc->v, clean, key);
    /* Fail fast before the slow passphrase seal; checked again in the write. */
    r = account_exists(svc, key);
    if (r < 0)
        return r;
    s = session_new(svc, clean, key);
    if (s == NULL)
        return -ENOMEM;
    if (crypto_sign_keypair(s->pk, s->sk) != 0) {
        r = -KITH_EINVAL;
        goto fail;
    }
    memcpy(rec.name, clean, sizeof(clean));
    memcpy(rec.public_key, s->pk, KITH_PUBKEY_BYTES);
    r = vault_pw_seal(pass, pass_len, s->sk, KITH_SECKEY_BYTES, rec.sealed_sk,
                      sizeof(rec.sealed_sk), &rec.sealed_sk_len);
    if (r < 0)
        goto fail;
    /* Real seals' Argon2 limits for the unknown-name decoy. */
    memcpy(svc->dummy_seal, rec.sealed_sk, 9);
    ap.v = svc->v;
    ap.key = key;
    ap.rec = &rec;
    r = store_write(svc->st, account_put_cb, &ap);
    if (r < 0)
        goto fail;
    record_account_free(&rec);
    session_add(svc, s);
    log_info("account.created", "sessions=%zu", svc->n_sessions);
    *out = s;
    return 0;
fail:
    record_account_free(&rec);
    sodium_free(s);
    return r;
}

int service_account_unlock(struct service *svc, const char *name, const char *pass, size_t pass_len,
                           struct service_session **out)
{
    char clean[RECORD_NAME_MAX + 1];
    uint8_t key[32], pk[KITH_PUBKEY_BYTES], sink[KITH_SECKEY_BYTES];
    struct record_account rec;
    struct service_session *s = NULL;
    struct store_txn *txn;
    uint64_t now = svc_now(svc);
    size_t sk_len = 0;
    int r;

    *out = NULL;
    r = record_name_clean(name, clean);
    if (r < 0)
        return r;
    record_account_key(svc->v, clean, key);
    r = limit_check(svc, key, now);
    if (r < 0)
        return r;
    r = store_read_begin(svc->st, &txn);
    if (r < 0)
        return r;
    r = record_account_load(txn, svc->v, key, &rec);
    store_txn_end(txn);
    if (r == -KITH_ENOTFOUND) {
        /* Same work as a wrong passphrase; the decoy never opens. */
        if (vault_pw_unseal(pass, pass_len, svc->dummy_seal, sizeof(svc->dummy_seal), sink,
                            sizeof(sink), &sk_len) == 0)
            sodium_memzero(sink, sizeof(sink));
        limit_fail(svc, key, now);
        return -KITH_EPASSPHRASE;
    }
    if (r < 0)
        return r;
    s = session_new(svc, rec.name, key);
    if (s == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    r = vault_pw_unseal(pass, pass_len, rec.sealed_sk, rec.sealed_sk_len, s->sk, sizeof(s->sk),
                        &sk_len);
    if (r == -KITH_EPASSPHRASE) {
        limit_fail(svc, key, now);
        goto fail;
    }
    if (r < 0)
        goto fail;
    crypto_sign_ed25519_sk_to_pk(pk, s->sk);
    if (sk_len != KITH_SECKEY_BYTES || sodium_memcmp(pk, rec.public_key, sizeof(pk)) != 0) {
        r = -KITH_ESTORE;
        goto fail;
    }
    memcpy(s->pk, pk, sizeof(pk));
    limit_clear(svc, key);
    record_account_free(&rec);
    session_add(svc, s);
    log_info("account.unlocked", "sessions=%zu", svc->n_sessions);
    *out = s;
    return 0;
fail:
    record_account_free(&rec);
    sodium_free(s);
    return r;
}

int svc_account(struct service *svc, struct service_session *sess, struct store_txn *txn,
                struct record_account *a)
{
    int r = record_account_load(txn, svc->v, sess->account_key, a);

    if (r == 0 && sodium_memcmp(a->public_key, sess->pk, KITH_PUBKEY_BYTES) != 0) {
        record_account_free(a);
        r = -KITH_ENOTFOUND;
    }
    if (r == -KITH_ENOTFOUND)
        return -KITH_ELOCKED;
    sess->last_ms = svc_now(svc) > sess->last_ms ? svc_now(svc) : sess->last_ms;
    return r;
}

/* Open a read transaction and load the session's account. */
int svc_begin_account(struct service *svc, struct service_session *sess, struct store_txn **txn,
                      struct record_account *a)
{
    int r = store_read_begin(svc->st, txn);

    if (r < 0)
        return r;
    r = svc_account(svc, sess, *txn, a);
    if (r < 0) {
        store_txn_end(*txn);
        *txn = NULL;
    }
    return r;
}

/* ---- node ---- */

int service_status(struct service *svc, json_t **out)
{
    struct store_txn *txn;
    struct store_stats stats;
    int r;

    *out = NULL;
    r = store_read_begin(svc->st, &txn);
    if (r < 0)
        return r;
    r = store_stats(txn, &stats);
    store_txn_end(txn);
    if (r < 0)
        return r;
    *out = json_pack("{s:s,s:s?,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "version", KITH_VERSION,
                     "data_dir", svc->data_dir, "socket", svc->socket_path, "posts",
                     (json_int_t)stats.posts, "tombstones", (json_int_t)stats.tombstones, "groups",
                     (json_int_t)stats.groups, "accounts", (json_int_t)stats.accounts, "sessions",
                     (json_int_t)svc->n_sessions, "uptime_s",
                     (json_int_t)((mono_ms() - svc->started_mono_ms) / 1000u), "store_bytes",
                     (json_int_t)stats.used_bytes, "map_bytes", (json_int_t)stats.map_size);
    return *out != NULL ? 0 : -ENOMEM;
}

/* ---- for the passphrase jobs (service_pw.c) ---- */

struct service_session *svc_session_new(struct service *svc, const char *name,
                                        const uint8_t account_key[32])
{
    return session_new(svc, name, account_key);
}

void svc_session_add(struct service *svc, struct service_session *s)
{
    session_add(svc, s);
}

int svc_limit_check(struct service *svc, const uint8_t key[32], uint64_t now)
{
    return limit_check(svc, key, now);
}

void svc_limit_fail(struct service *svc, const uint8_t key[32], uint64_t now)
{
    limit_fail(svc, key, now);
}

void svc_limit_clear(struct service *svc, const uint8_t key[32])
{
    limit_clear(svc, key);
}

int svc_account_exists(struct service *svc, const uint8_t key[32])
{
    return account_exists(svc, key);
}
