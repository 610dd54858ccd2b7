/*
 * store: the node's LMDB database (see store.h for the named databases and
 * their key layouts). This file owns the LMDB environment, the schema version
 * and its migrations, the growth of the memory map, and the rules that keep
 * the post indexes in step with the posts.
 *
 * Durability: the environment is opened with LMDB's default sync mode, so a
 * commit has reached the disk (fdatasync) when store_write() returns 0. A
 * kill -9 or a power cut loses no committed batch.
 *
 * Map growth: LMDB may only remap while no transaction of this process is
 * open. Read transactions may come from several threads (MDB_NOTLS ties their
 * reader slots to the transaction, not the thread), so a counter of open
 * readers under a mutex lets a grow wait for them to finish and keeps new
 * ones out meanwhile. A thread must therefore not hold a read transaction
 * while it calls store_write(): if the map has to grow, the write waits
 * STORE_GROW_WAIT_S for the readers and then gives up with -EBUSY.
 *
 * The store logs nothing; it returns codes only.
 */
#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "kith/error.h"

#define STORE_DEFAULT_MAP (64u << 20)
#define STORE_GROW_WAIT_S 5
/* A short write when less than this is free is taken for a full disk:
 * LMDB reports a short pwrite() as EIO. */
#define STORE_LOW_SPACE (1u << 20)
#define STORE_MAX_RETRIES 40
#define IDX_KEY_BYTES (32 + 8 + 32)

static const char *const db_names[STORE_DB_COUNT] = {
    [STORE_DB_POSTS] = "posts",       [STORE_DB_BYGROUP] = "bygroup", [STORE_DB_THREAD] = "thread",
    [STORE_DB_ACCOUNTS] = "accounts", [STORE_DB_GROUPS] = "groups",   [STORE_DB_META] = "meta",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_DB_COUNT];
    size_t max_map;
    uint64_t grows;
    int broken; /* a remap failed and could not be undone: refuse everything */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned readers;
    int growing;
};

struct store_txn {
    struct store *st;
    MDB_txn *txn;
    int write;
    int map_full; /* an operation hit MDB_MAP_FULL: store_write grows and retries */
};

/* ---- error mapping ---- */

static int map_err(struct store_txn *t, int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return -KITH_ENOTFOUND;
    case MDB_KEYEXIST:
        return -KITH_EEXIST;
    case MDB_MAP_FULL:
        if (t)
            t->map_full = 1;
        return -KITH_ENOSPC;
    case MDB_BAD_VALSIZE:
        return -KITH_EINVAL;
    case ENOSPC:
    case EDQUOT:
        return -KITH_ENOSPC;
    default:
        return rc > 0 ? -rc : -KITH_ESTORE;
    }
}

/* ---- schema and migrations ---- */

/*
 * Migrations: migrations[n] takes a store from schema n to n + 1 inside the
 * opening write transaction. A store without a "schema" entry is schema 0
 * (brand new), so creating the databases is itself migration 0 -> 1. To
 * change the layout: bump STORE_SCHEMA_VERSION, append a function here, and
 * add a test that opens a store of the old version.
 */
typedef int (*store_migrate_fn)(MDB_txn *txn);

static int migrate_0_to_1(MDB_txn *txn)
{
    for (int i = 0; i < STORE_DB_COUNT; i++) {
        MDB_dbi dbi;
        int rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &dbi);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const store_migrate_fn migrations[STORE_SCHEMA_VERSION] = {migrate_0_to_1};

static int schema_setup(struct store *st)
{
    MDB_txn *txn;
    MDB_dbi meta;
    MDB_val k = {6, "schema"}, v;
    uint8_t be[4];
    uint32_t ver = 0;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != 0)
        return map_err(NULL, rc);
    rc = mdb_dbi_open(txn, db_names[STORE_DB_META], MDB_CREATE, &meta);
    if (rc != 0)
        goto fail;
    rc = mdb_get(txn, meta, &k, &v);
    if (rc == 0) {
        if (v.mv_size != 4) {
            rc = MDB_CORRUPTED;
            goto fail;
        }
        memcpy(be, v.mv_data, 4);
        ver = (uint32_t)be[0] << 24 | (uint32_t)be[1] << 16 | (uint32_t)be[2] << 8 | be[3];
    } else if (rc != MDB_NOTFOUND) {
        goto fail;
    }
    if (ver > STORE_SCHEMA_VERSION) {
        mdb_txn_abort(txn);
        return -KITH_ESCHEMA;
    }
    for (uint32_t n = ver; n < STORE_SCHEMA_VERSION; n++) {
        rc = migrations[n](txn);
        if (rc != 0)
            goto fail;
    }
    for (int i = 0; i < STORE_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], 0, &st->dbi[i]);
        if (rc != 0)
            goto fail;
    }
    if (ver != STORE_SCHEMA_VERSION) {
        be[0] = STORE_SCHEMA_VERSION >> 24;
        be[1] = (STORE_SCHEMA_VERSION >> 16) & 0xff;
        be[2] = (STORE_SCHEMA_VERSION >> 8) & 0xff;
        be[3] = STORE_SCHEMA_VERSION & 0xff;
        v.mv_size = 4;
        v.mv_data = be;
        rc = mdb_put(txn, meta, &k, &v, 0);
        if (rc != 0)
            goto fail;
    }
    /* Commit even when nothing changed: the database handles opened here
     * only outlive a committed transaction. An unchanged one writes nothing. */
    return map_err(NULL, mdb_txn_commit(txn));
fail:
    mdb_txn_abort(txn);
    return map_err(NULL, rc);
}

/* ---- open and close ---- */

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int store_open_ex(const char *dir, size_t map_bytes, struct store **out)
{
    char path[4096], data[4200];
    struct stat sb;
    struct store *st;
    MDB_envinfo info;
    int dead, rc;

    *out = NULL;
    if (map_bytes == 0)
        map_bytes = STORE_DEFAULT_MAP;
    rc = make_dir(dir);
    if (rc < 0)
        return rc;
    if (snprintf(path, sizeof path, "%s/store", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    rc = make_dir(path);
    if (rc < 0)
        return rc;
    snprintf(data, sizeof data, "%s/data.mdb", path);
    int fresh = stat(data, &sb) != 0;

    st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    /* 1 GiB of address space is what a 32-bit Pi can spare for the map. */
    st->max_map = sizeof(size_t) == 4 ? (size_t)1 << 30 : (size_t)1 << 40;
    pthread_mutex_init(&st->lock, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&st->cond, &ca);
        pthread_condattr_destroy(&ca);
    }

    rc = mdb_env_create(&st->env);
    if (rc != 0) {
        st->env = NULL;
        goto fail;
    }
    if ((rc = mdb_env_set_maxdbs(st->env, STORE_DB_COUNT + 2)) != 0)
        goto fail;
    /* An existing store keeps the map it last grew to (LMDB adopts the size
     * recorded in the file when none is set); it is only raised below. */
    if (fresh && (rc = mdb_env_set_mapsize(st->env, map_bytes)) != 0)
        goto fail;
    if ((rc = mdb_env_open(st->env, path, MDB_NOTLS, 0600)) != 0)
        goto fail;
    /* Reader slots left by a process killed with -9. */
    mdb_reader_check(st->env, &dead);
    if ((rc = mdb_env_info(st->env, &info)) != 0)
        goto fail;
    if (info.me_mapsize < map_bytes && (rc = mdb_env_set_mapsize(st->env, map_bytes)) != 0)
        goto fail;
    rc = schema_setup(st);
    if (rc < 0)
        goto fail_mapped;
    *out = st;
    return 0;
fail:
    rc = map_err(NULL, rc);
fail_mapped:
    store_close(st);
    return rc;
}

int store_open(const char *dir, struct store **out)
{
    return store_open_ex(dir, 0, out);
}

void store_close(struct store *st)
{
    if (!st)
        return;
    if (st->env)
        mdb_env_close(st->env);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* ---- map growth ---- */

/*
 * Remap to new_size (0: adopt the size another process set). Waits for this
 * process's readers to finish. Returns 0, -EBUSY (readers stayed open),
 * -KITH_ENOSPC (already at the largest map) or a store error.
 */
static int remap(struct store *st, size_t new_size)
{
    struct timespec until;
    MDB_envinfo info;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += STORE_GROW_WAIT_S;
    pthread_mutex_lock(&st->lock);
    while (st->growing)
        pthread_cond_wait(&st->cond, &st->lock);
    st->growing = 1;
    while (st->readers > 0 && rc == 0)
        rc = pthread_cond_timedwait(&st->cond, &st->lock, &until);
    if (rc != 0) {
        rc = -EBUSY;
        goto out;
    }
    mdb_env_info(st->env, &info);
    rc = mdb_env_set_mapsize(st->env, new_size);
    if (rc != 0) {
        /* LMDB unmapped the old map before failing to make the new one. */
        if (mdb_env_set_mapsize(st->env, info.me_mapsize) != 0)
            st->broken = 1;
        rc = map_err(NULL, rc);
        if (rc == -ENOMEM)
            rc = -KITH_ENOSPC; /* out of address space: the map cannot grow */
        goto out;
    }
    if (new_size != 0)
        st->grows++;
out:
    st->growing = 0;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static int grow(struct store *st)
{
    MDB_envinfo info;
    int rc = mdb_env_info(st->env, &info);
    if (rc != 0)
        return map_err(NULL, rc);
    if (info.me_mapsize >= st->max_map)
        return -KITH_ENOSPC;
    size_t next = info.me_mapsize * 2;
    if (next > st->max_map || next < info.me_mapsize)
        next = st->max_map;
    return remap(st, next);
}

/* LMDB turns a short write into EIO; call it a full disk when it is one. */
static int commit_err(struct store *st, int rc)
{
    int fd;
    struct statvfs vfs;
    if (rc == EIO && mdb_env_get_fd(st->env, &fd) == 0 && fstatvfs(fd, &vfs) == 0 &&
        (uint64_t)vfs.f_bavail * vfs.f_frsize < STORE_LOW_SPACE)
        return -KITH_ENOSPC;
    return map_err(NULL, rc);
}

/* ---- transactions ---- */

int store_write(struct store *st, store_write_fn fn, void *arg)
{
    for (int attempt = 0; attempt < STORE_MAX_RETRIES; attempt++) {
        struct store_txn t = {.st = st, .write = 1};
        int rc;
        if (st->broken)
            return -KITH_ESTORE;
        rc = mdb_txn_begin(st->env, NULL, 0, &t.txn);
        if (rc == MDB_MAP_RESIZED) {
            if ((rc = remap(st, 0)) < 0)
                return rc;
            continue;
        }
        if (rc != 0)
            return map_err(NULL, rc);
        rc = fn(&t, arg);
        if (t.map_full) {
            mdb_txn_abort(t.txn);
            if ((rc = grow(st)) < 0)
                return rc;
            continue;
        }
        if (rc != 0) {
            mdb_txn_abort(t.txn);
            return rc;
        }
        rc = mdb_txn_commit(t.txn); /* frees the transaction, even on failure */
        if (rc == MDB_MAP_FULL) {
            if ((rc = grow(st)) < 0)
                return rc;
            continue;
        }
        return rc == 0 ? 0 : commit_err(st, rc);
    }
    return -KITH_ESTORE;
}

int store_read_begin(struct store *st, struct store_txn **out)
{
    struct store_txn *t;
    int rc;

    *out = NULL;
    t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->st = st;
    for (;;) {
        if (st->broken) {
            rc = -KITH_ESTORE;
            break;
        }
        pthread_mutex_lock(&st->lock);
        while (st->growing)
            pthread_cond_wait(&st->cond, &st->lock);
        st->readers++;
        pthread_mutex_unlock(&st->lock);
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t->txn);
        if (rc == 0) {
            *out = t;
            return 0;
        }
        pthread_mutex_lock(&st->lock);
        st->readers--;
        pthread_cond_broadcast(&st->cond);
        pthread_mutex_unlock(&st->lock);
        if (rc != MDB_MAP_RESIZED) {
            rc = map_err(NULL, rc);
            break;
        }
        if ((rc = remap(st, 0)) < 0)
            break;
    }
    free(t);
    return rc;
}

void store_txn_end(struct store_txn *txn)
{
    struct store *st;
    if (!txn)
        return;
    st = txn->st;
    mdb_txn_abort(txn->txn);
    free(txn);
    pthread_mutex_lock(&st->lock);
    st->readers--;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

/* ---- generic key/value ---- */

static MDB_dbi dbi_of(struct store_txn *t, enum store_db db)
{
    return t->st->dbi[db];
}

int store_get(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
              const void **val, size_t *vlen)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn->txn, dbi_of(txn, db), &k, &v);
    if (rc != 0)
        return map_err(txn, rc);
    *val = v.mv_data;
    *vlen = v.mv_size;
    return 0;
}

int store_put(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    if (!txn->write)
        return -KITH_EINVAL;
    return map_err(txn, mdb_put(txn->txn, dbi_of(txn, db), &k, &v, 0));
}

int store_del(struct store_txn *txn, enum store_db db, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    if (!txn->write)
        return -KITH_EINVAL;
    return map_err(txn, mdb_del(txn->txn, dbi_of(txn, db), &k, NULL));
}

int store_each(struct store_txn *txn, enum store_db db, store_kv_fn fn, void *arg)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn->txn, dbi_of(txn, db), &c);
    if (rc != 0)
        return map_err(txn, rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        int stop = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
        if (stop != 0) {
            mdb_cursor_close(c);
            return stop;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : map_err(txn, rc);
}

/* ---- posts ---- */

static void index_key(uint8_t key[IDX_KEY_BYTES], const uint8_t prefix[32], uint64_t ms,
                      const uint8_t id[32])
{
    memcpy(key, prefix, 32);
    for (int i = 0; i < 8; i++)
        key[32 + i] = (uint8_t)(ms >> (56 - 8 * i));
    memcpy(key + 40, id, 32);
}

static uint64_t index_ms(const uint8_t *key)
{
    uint64_t ms = 0;
    for (int i = 0; i < 8; i++)
        ms = ms << 8 | key[32 + i];
    return ms;
}

int store_post_put(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES],
                   const uint8_t *sealed, size_t len, const struct store_post_meta *meta)
{
    uint8_t ikey[IDX_KEY_BYTES];
    MDB_val k = {KITH_POST_ID_BYTES, (void *)id}, v, empty = {0, NULL};
    int rc;

    if (!txn->write)
        return -KITH_EINVAL;
    rc = mdb_get(txn->txn, dbi_of(txn, STORE_DB_POSTS), &k, &v);
    if (rc == 0)
        return v.mv_size > 0 && ((const uint8_t *)v.mv_data)[0] == 'T' ? -KITH_EDELETED
                                                                       : -KITH_EEXIST;
    if (rc != MDB_NOTFOUND)
        return map_err(txn, rc);
    v.mv_size = len + 1;
    rc = mdb_put(txn->txn, dbi_of(txn, STORE_DB_POSTS), &k, &v, MDB_RESERVE);
    if (rc != 0)
        return map_err(txn, rc);
    ((uint8_t *)v.mv_data)[0] = 'P';
    memcpy((uint8_t *)v.mv_data + 1, sealed, len);

    index_key(ikey, meta->group_id, meta->created_ms, id);
    k.mv_size = sizeof ikey;
    k.mv_data = ikey;
    rc = mdb_put(txn->txn, dbi_of(txn, STORE_DB_BYGROUP), &k, &empty, 0);
    if (rc != 0)
        return map_err(txn, rc);
    if (meta->has_root) {
        index_key(ikey, meta->root_id, meta->created_ms, id);
        rc = mdb_put(txn->txn, dbi_of(txn, STORE_DB_THREAD), &k, &empty, 0);
        if (rc != 0)
            return map_err(txn, rc);
    }
    return 0;
}

int store_post_get(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES],
                   const uint8_t **sealed, size_t *len)
{
    MDB_val k = {KITH_POST_ID_BYTES, (void *)id}, v;
    int rc = mdb_get(txn->txn, dbi_of(txn, STORE_DB_POSTS), &k, &v);
    *sealed = NULL;
    *len = 0;
    if (rc != 0)
        return map_err(txn, rc);
    const uint8_t *p = v.mv_data;
    if (v.mv_size == 1 && p[0] == 'T')
        return -KITH_EDELETED;
    if (v.mv_size < 1 || p[0] != 'P')
        return -KITH_ESTORE;
    *sealed = p + 1;
    *len = v.mv_size - 1;
    return 0;
}

int store_post_tombstone(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES])
{
    MDB_val k = {KITH_POST_ID_BYTES, (void *)id}, v;
    int rc;
    if (!txn->write)
        return -KITH_EINVAL;
    rc = mdb_get(txn->txn, dbi_of(txn, STORE_DB_POSTS), &k, &v);
    if (rc != 0)
        return map_err(txn, rc);
    if (v.mv_size == 1 && ((const uint8_t *)v.mv_data)[0] == 'T')
        return 0;
    v.mv_size = 1;
    v.mv_data = "T";
    return map_err(txn, mdb_put(txn->txn, dbi_of(txn, STORE_DB_POSTS), &k, &v, 0));
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Does id start with the n nibbles of want? */
static int nibbles_match(const uint8_t *id, const uint8_t *want, size_t n)
{
    if (memcmp(id, want, n / 2) != 0)
        return 0;
    return n % 2 == 0 || (id[n / 2] >> 4) == (want[n / 2] >> 4);
}

int store_post_find_prefix(struct store_txn *txn, const char *hex, uint8_t id[KITH_POST_ID_BYTES])
{
    uint8_t lo[KITH_POST_ID_BYTES] = {0};
    size_t n = strlen(hex);
    MDB_cursor *c;
    MDB_val k = {sizeof lo, lo}, v;
    int rc;

    if (n == 0 || n > (size_t)2 * KITH_POST_ID_BYTES)
        return -KITH_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int x = hex_nibble(hex[i]);
        if (x < 0)
            return -KITH_EINVAL;
        lo[i / 2] |= (uint8_t)(i % 2 ? x : x << 4);
    }
    rc = mdb_cursor_open(txn->txn, dbi_of(txn, STORE_DB_POSTS), &c);
    if (rc != 0)
        return map_err(txn, rc);
    /* lo is the smallest id with this prefix: the first key at or after it
     * is the match, and a second match right after it makes it ambiguous. */
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && (k.mv_size != KITH_POST_ID_BYTES || !nibbles_match(k.mv_data, lo, n)))
        rc = MDB_NOTFOUND;
    if (rc == 0) {
        memcpy(id, k.mv_data, KITH_POST_ID_BYTES);
        int next = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        if (next == 0 && k.mv_size == KITH_POST_ID_BYTES && nibbles_match(k.mv_data, lo, n))
            rc = -KITH_EAMBIGUOUS;
        else if (next != 0 && next != MDB_NOTFOUND)
            rc = next;
    }
    mdb_cursor_close(c);
    return rc == -KITH_EAMBIGUOUS ? rc : map_err(txn, rc);
}

/* Walk the index entries under prefix: oldest first, or newest first. */
static int index_walk(struct store_txn *txn, enum store_db db, const uint8_t prefix[32],
                      int newest_first, store_post_fn fn, void *arg)
{
    uint8_t edge[IDX_KEY_BYTES];
    MDB_cursor *c;
    MDB_val k = {sizeof edge, edge}, v;
    MDB_cursor_op step = newest_first ? MDB_PREV : MDB_NEXT;
    int rc;

    memcpy(edge, prefix, 32);
    memset(edge + 32, newest_first ? 0xff : 0x00, sizeof edge - 32);
    rc = mdb_cursor_open(txn->txn, dbi_of(txn, db), &c);
    if (rc != 0)
        return map_err(txn, rc);
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (newest_first) {
        /* edge is the largest possible key of the range: step back from the
         * first key after it (or from the very end). */
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
        else if (rc == 0 && (k.mv_size != sizeof edge || memcmp(k.mv_data, edge, sizeof edge) != 0))
            rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, step)) {
        const uint8_t *key = k.mv_data;
        if (k.mv_size != IDX_KEY_BYTES || memcmp(key, prefix, 32) != 0)
            break;
        int stop = fn(key + 40, index_ms(key), arg);
        if (stop != 0) {
            mdb_cursor_close(c);
            return stop;
        }
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_err(txn, rc);
}

int store_group_posts(struct store_txn *txn, const uint8_t group_id[KITH_GROUP_ID_BYTES],
                      store_post_fn fn, void *arg)
{
    return index_walk(txn, STORE_DB_BYGROUP, group_id, 1, fn, arg);
}

int store_thread_posts(struct store_txn *txn, const uint8_t root_id[KITH_POST_ID_BYTES],
                       store_post_fn fn, void *arg)
{
    return index_walk(txn, STORE_DB_THREAD, root_id, 0, fn, arg);
}

/* ---- stats ---- */

static int count_tombstone(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    if (vlen == 1 && ((const uint8_t *)val)[0] == 'T')
        ++*(uint64_t *)arg;
    return 0;
}

int store_stats(struct store_txn *txn, struct store_stats *out)
{
    MDB_stat ms;
    MDB_envinfo info;
    int rc;

    memset(out, 0, sizeof *out);
    static const enum store_db counted[] = {STORE_DB_POSTS, STORE_DB_ACCOUNTS, STORE_DB_GROUPS};
    uint64_t *dst[] = {&out->posts, &out->accounts, &out->groups};
    for (size_t i = 0; i < sizeof counted / sizeof counted[0]; i++) {
        rc = mdb_stat(txn->txn, dbi_of(txn, counted[i]), &ms);
        if (rc != 0)
            return map_err(txn, rc);
        *dst[i] = ms.ms_entries;
    }
    rc = store_each(txn, STORE_DB_POSTS, count_tombstone, &out->tombstones);
    if (rc != 0)
        return rc;
    if ((rc = mdb_env_info(txn->st->env, &info)) != 0 ||
        (rc = mdb_env_stat(txn->st->env, &ms)) != 0)
        return map_err(txn, rc);
    out->map_size = info.me_mapsize;
    out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
    out->map_grows = txn->st->grows;
    return 0;
}
