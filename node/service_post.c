/*
 * service_post: the rules about posts (see service.h): building and storing
 * them, accepting them from sync, tombstones, and the per-group cache of
 * display names and counts. A member's writes (create, reply, delete) are
 * in service_thread.c, reading (threads, export) in service_read.c.
 *
 * Every post taken from the store is opened AND verified before anything in
 * it is used. Decisions that depend on what the store holds (is the target
 * by the same author? did a delete arrive first?) are made inside the write
 * transaction that stores the post, so they cannot go stale.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hlc.h"
#include "kith/wire.h"
#include "kith/error.h"
#include "log.h"
#include "service.h"
#include "service_internal.h"

/* ---- id lists ---- */

static int idlist_cb(const uint8_t id[KITH_POST_ID_BYTES], uint64_t created_ms, void *arg)
{
    struct svc_idlist *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 32;
        struct svc_entry *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    memcpy(l->v[l->n].id, id, KITH_POST_ID_BYTES);
    l->v[l->n].ms = created_ms;
    l->n++;
    return 0;
}

int svc_idlist_group(struct store_txn *txn, const uint8_t gid[32], struct svc_idlist *l)
{
    int r = store_group_posts(txn, gid, idlist_cb, l);

    return r < 0 ? r : 0;
}

int svc_idlist_thread(struct store_txn *txn, const uint8_t root[32], struct svc_idlist *l)
{
    int r = store_thread_posts(txn, root, idlist_cb, l);

    return r < 0 ? r : 0;
}

void svc_idlist_free(struct svc_idlist *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* ---- opening stored posts ---- */

uint8_t *svc_plain_new(void)
{
    return malloc(KITH_POST_PLAIN_MAX);
}

void svc_plain_free(uint8_t *plain)
{
    if (plain != NULL)
        sodium_memzero(plain, KITH_POST_PLAIN_MAX);
    free(plain);
}

int svc_post_load(struct service *svc, struct store_txn *txn, const struct record_group *g,
                  const uint8_t id[KITH_POST_ID_BYTES], uint8_t *plain, struct kith_post *p)
{
    const uint8_t *sealed;
    uint8_t hash[KITH_POST_ID_BYTES];
    size_t len;
    int r = store_post_get(txn, id, &sealed, &len);

    if (r < 0)
        return r;
    r = kith_post_open(sealed, len, g->key, plain, KITH_POST_PLAIN_MAX, p);
    if (r < 0)
        return r;
    if (memcmp(p->outer.group_id, g->id, KITH_GROUP_ID_BYTES) != 0)
        return -KITH_EDECRYPT;
    /* The id is the hash of the bytes: hashing what was read (cheap next to
     * a signature check) ties the cached verdict to exactly these bytes. */
    kith_post_id(sealed, len, hash);
    if (svc->verified != NULL && vcache_has(svc->verified, hash))
        return 0;
    r = kith_post_verify(p);
    if (r == 0 && svc->verified != NULL)
        vcache_add(svc->verified, hash);
    return r;
}

int svc_post_group(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES],
                   uint8_t gid[KITH_GROUP_ID_BYTES])
{
    const uint8_t *sealed;
    size_t len;
    struct kith_post_outer outer;
    int r = store_post_get(txn, id, &sealed, &len);

    if (r < 0)
        return r;
    r = kith_post_decode_outer(sealed, len, &outer);
    if (r < 0)
        return r;
    memcpy(gid, outer.group_id, KITH_GROUP_ID_BYTES);
    return 0;
}

struct root_of {
    const uint8_t *id;
    uint8_t *root;
};

static int root_of_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    struct root_of *ro = arg;
    const uint8_t *k = key;

    /* thread key: root id[32] | created_ms BE[8] | post id[32] (store.h) */
    if (klen != 2 * KITH_POST_ID_BYTES + 8 || memcmp(k + 40, ro->id, KITH_POST_ID_BYTES) != 0)
        return 0;
    memcpy(ro->root, k, KITH_POST_ID_BYTES);
    return 1;
}

/* Replace id by the root it hangs under in the thread index, if any. The
 * index has no reverse lookup, so this walks it: only used when a parent
 * chain meets a deleted post, whose parent link is gone with its body. */
static void thread_root_of(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES],
                           uint8_t root[KITH_POST_ID_BYTES])
{
    uint8_t copy[KITH_POST_ID_BYTES];
    struct root_of ro = {copy, root};

    memcpy(copy, id, sizeof(copy));
    store_each(txn, STORE_DB_THREAD, root_of_cb, &ro);
}

int svc_find_root(struct service *svc, struct store_txn *txn, const struct record_group *g,
                  const uint8_t parent[KITH_POST_ID_BYTES], uint8_t *plain,
                  uint8_t root[KITH_POST_ID_BYTES])
{
    uint8_t cur[KITH_POST_ID_BYTES], gid[KITH_GROUP_ID_BYTES];
    struct kith_post p = {0};

    memcpy(cur, parent, sizeof(cur));
    for (int depth = 0; depth < SVC_THREAD_DEPTH_MAX; depth++) {
        int r = svc_post_group(txn, cur, gid);
        if (r == -KITH_EDELETED) {
            /* A deleted reply still sits in the thread index under its
             * root; a deleted root does not, and is the root. */
            thread_root_of(txn, cur, cur);
            break;
        }
        if (r == -KITH_ENOTFOUND)
            break; /* not here yet: hang under it */
        if (r == 0 && memcmp(gid, g->id, sizeof(gid)) != 0)
            r = -KITH_EPARENT;
        if (r == 0)
            r = svc_post_load(svc, txn, g, cur, plain, &p);
        if (r == 0 && p.kind == KITH_POST_KIND_POST)
            break;
        if (r == 0 && p.kind == KITH_POST_KIND_REPLY && p.has_parent) {
            memcpy(cur, p.parent, sizeof(cur));
            continue;
        }
        /* Not a post or reply of this group that we can read: a reply may
         * not hang under it directly; further up, it is the best root known. */
        if (depth == 0)
            return -KITH_EPARENT;
        break;
    }
    memcpy(root, cur, sizeof(cur));
    return 0;
}

/* ---- group cache ---- */

static struct svc_gcache *gcache_find(struct service *svc, const uint8_t gid[32])
{
    for (size_t i = 0; i < svc->n_gcache; i++) {
        if (memcmp(svc->gcache[i].id, gid, 32) == 0)
            return &svc->gcache[i];
    }
    return NULL;
}

static struct svc_gcache *gcache_get(struct service *svc, const uint8_t gid[32])
{
    struct svc_gcache *c = gcache_find(svc, gid), *v;

    if (c != NULL)
        return c;
    v = realloc(svc->gcache, (svc->n_gcache + 1) * sizeof(*v));
    if (v == NULL)
        return NULL;
    svc->gcache = v;
    c = &v[svc->n_gcache++];
    memset(c, 0, sizeof(*c));
    memcpy(c->id, gid, 32);
    return c;
}

void svc_gcache_drop(struct service *svc, const uint8_t gid[KITH_GROUP_ID_BYTES])
{
    struct svc_gcache *c = gcache_find(svc, gid);

    if (c != NULL) {
        free(c->authors);
        c->authors = NULL;
        c->n_authors = c->cap = 0;
        c->n_posts = 0;
        c->scanned = 0;
    }
}

void svc_close_caches(struct service *svc)
{
    for (size_t i = 0; i < svc->n_gcache; i++)
        free(svc->gcache[i].authors);
    free(svc->gcache);
    svc->gcache = NULL;
    svc->n_gcache = 0;
}

/* Keep the newest profile name per author. */
static void gcache_author(struct svc_gcache *c, const struct kith_post *p)
{
    struct svc_author *a = NULL;

    for (size_t i = 0; i < c->n_authors; i++) {
        if (memcmp(c->authors[i].key, p->author, KITH_PUBKEY_BYTES) == 0) {
            a = &c->authors[i];
            break;
        }
    }
    if (a == NULL) {
        if (c->n_authors == c->cap) {
            size_t cap = c->cap != 0 ? c->cap * 2 : 8;
            struct svc_author *v = realloc(c->authors, cap * sizeof(*v));
            if (v == NULL)
                return; /* the name falls back to the key's hex */
            c->authors = v;
            c->cap = cap;
        }
        a = &c->authors[c->n_authors++];
        memset(a, 0, sizeof(*a));
        memcpy(a->key, p->author, KITH_PUBKEY_BYTES);
    } else if (a->ms > p->outer.created_ms) {
        return;
    }
    a->ms = p->outer.created_ms;
    memcpy(a->name, p->title, p->title_len);
    a->name[p->title_len] = '\0';
}

int svc_group_scan(struct service *svc, struct store_txn *txn, const struct record_group *g,
                   struct svc_idlist *out)
{
    struct svc_idlist local = {0};
    struct svc_idlist *l = out != NULL ? out : &local;
    struct svc_gcache *c;
    struct kith_post p = {0};
    uint8_t *plain;
    int r;

    c = gcache_get(svc, g->id);
    plain = svc_plain_new();
    if (c == NULL || plain == NULL) {
        free(plain);
        return -ENOMEM;
    }
    r = svc_idlist_group(txn, g->id, l);
    if (r < 0)
        goto done;
    svc_gcache_drop(svc, g->id);
    for (size_t i = 0; i < l->n; i++) {
        struct svc_entry *e = &l->v[i];
        int o = svc_post_load(svc, txn, g, e->id, plain, &p);
        if (o == -KITH_EDELETED) {
            e->kind = SVC_KIND_TOMBSTONE;
            continue;
        }
        if (o < 0) {
            e->kind = SVC_KIND_UNREADABLE;
            continue;
        }
        e->kind = p.kind;
        memcpy(e->author, p.author, KITH_PUBKEY_BYTES);
        e->topic_len = p.topic_len;
        memcpy(e->topic, p.topic, p.topic_len);
        if (p.kind == KITH_POST_KIND_POST || p.kind == KITH_POST_KIND_REPLY)
            c->n_posts++;
        else if (p.kind == KITH_POST_KIND_PROFILE)
            gcache_author(c, &p);
    }
    c->scanned = 1;
done:
    svc_plain_free(plain);
    svc_idlist_free(&local);
    return r;
}

static struct svc_gcache *gcache_ready(struct service *svc, struct store_txn *txn,
                                       const struct record_group *g)
{
    struct svc_gcache *c = gcache_find(svc, g->id);

    if (c != NULL && c->scanned)
        return c;
    if (svc_group_scan(svc, txn, g, NULL) < 0)
        return NULL;
    return gcache_find(svc, g->id);
}

void svc_author_name(struct service *svc, struct store_txn *txn, const struct record_group *g,
                     const uint8_t key[KITH_PUBKEY_BYTES], char out[KITH_POST_TITLE_MAX + 1])
{
    struct svc_gcache *c = gcache_ready(svc, txn, g);

    if (c != NULL) {
        for (size_t i = 0; i < c->n_authors; i++) {
            if (memcmp(c->authors[i].key, key, KITH_PUBKEY_BYTES) == 0 &&
                c->authors[i].name[0] != '\0') {
                memcpy(out, c->authors[i].name, sizeof(c->authors[i].name));
                return;
            }
        }
    }
    svc_hex(key, 4, out);
}

json_t *svc_group_json(struct service *svc, struct store_txn *txn, const struct record_group *g)
{
    struct svc_gcache *c = gcache_ready(svc, txn, g);
    json_t *topics = json_array(), *o;
    char hex[2 * KITH_GROUP_ID_BYTES + 1];

    if (c == NULL || topics == NULL) {
        json_decref(topics);
        return NULL;
    }
    for (size_t i = 0; i < g->n_topics; i++) {
        if (json_array_append_new(topics, json_string(g->topics[i])) != 0) {
            json_decref(topics);
            return NULL;
        }
    }
    svc_hex(g->id, KITH_GROUP_ID_BYTES, hex);
    o = json_pack("{s:s,s:s,s:o,s:I}", "group_id", hex, "name", g->name, "topics", topics, "posts",
                  (json_int_t)c->n_posts);
    return o;
}

/* ---- building and storing ---- */

int svc_post_build(struct service *svc, struct service_session *sess, const struct record_group *g,
                   struct kith_post *p, uint8_t **sealed, size_t *sealed_len,
                   uint8_t id[KITH_POST_ID_BYTES])
{
    struct store_txn *txn;
    uint64_t newest = 0;
    size_t cap;
    int r;

    *sealed = NULL;
    r = store_read_begin(svc->st, &txn);
    if (r < 0)
        return r;
    r = hlc_group_newest(txn, g->id, &newest);
    store_txn_end(txn);
    if (r < 0)
        return r;
    p->outer.version = KITH_POST_VERSION;
    memcpy(p->outer.group_id, g->id, KITH_GROUP_ID_BYTES);
    p->outer.epoch = g->epoch;
    p->outer.created_ms = hlc_next(svc_now(svc), newest);
    randombytes_buf(p->outer.nonce, sizeof(p->outer.nonce));
    cap = kith_post_sealed_size(p);
    if (cap == 0) {
        /* The post breaks a rule: let sign say which (it checks before it
         * needs room). */
        uint8_t none[1];
        r = kith_post_sign(p, sess->sk, none, sizeof(none));
        return r < 0 && r != -KITH_EBUFSIZE ? r : -KITH_EINVAL;
    }
    *sealed = malloc(cap);
    if (*sealed == NULL)
        return -ENOMEM;
    /* The sealed buffer doubles as the signing work space. */
    r = kith_post_sign(p, sess->sk, *sealed, cap);
    if (r == 0)
        r = kith_post_seal(p, g->key, *sealed, cap, sealed_len);
    if (r < 0) {
        free(*sealed);
        *sealed = NULL;
        return r;
    }
    kith_post_id(*sealed, *sealed_len, id);
    return 0;
}

struct put_ctx {
    struct service *svc;
    const struct record_group *g;
    const uint8_t *sealed;
    size_t len;
    const uint8_t *id;
    const struct kith_post *p;
    svc_extra_fn extra;
    void *extra_arg;
    uint8_t *plain; /* scratch for targets and parents */
    /* Results of the last run of put_cb (it may run more than once). */
    int tomb_target; /* the delete's target lost its body */
    int tomb_self;   /* a delete had arrived first: held as deleted */
};

static int deletable(uint8_t kind)
{
    return kind == KITH_POST_KIND_POST || kind == KITH_POST_KIND_REPLY;
}

/* A delete or edit's target: 1 when it is held and may be acted on, 0 when
 * it is not here (yet) or already deleted, or the rule it breaks. */
static int target_check(struct store_txn *txn, struct put_ctx *c)
{
    uint8_t gid[KITH_GROUP_ID_BYTES];
    struct kith_post t = {0};
    int r = svc_post_group(txn, c->p->parent, gid);

    if (r == -KITH_ENOTFOUND || r == -KITH_EDELETED)
        return 0;
    if (r < 0 || memcmp(gid, c->g->id, sizeof(gid)) != 0)
        return -KITH_EPARENT;
    r = svc_post_load(c->svc, txn, c->g, c->p->parent, c->plain, &t);
    if (r < 0 || !deletable(t.kind))
        return -KITH_EPARENT;
    if (memcmp(t.author, c->p->author, KITH_PUBKEY_BYTES) != 0)
        return -KITH_ENOTYOURS;
    return 1;
}

/* 1 if a valid delete of this post (same author, same group) is already
 * held under its id: it arrived before the post did. */
static int deleted_before(struct store_txn *txn, struct put_ctx *c)
{
    struct svc_idlist l = {0};
    struct kith_post d = {0};
    int r = svc_idlist_thread(txn, c->id, &l), found = 0;

    for (size_t i = 0; r == 0 && i < l.n && !found; i++) {
        if (svc_post_load(c->svc, txn, c->g, l.v[i].id, c->plain, &d) == 0 &&
            d.kind == KITH_POST_KIND_DELETE && d.has_parent &&
            memcmp(d.parent, c->id, KITH_POST_ID_BYTES) == 0 &&
            memcmp(d.author, c->p->author, KITH_PUBKEY_BYTES) == 0)
            found = 1;
    }
    svc_idlist_free(&l);
    return r < 0 ? r : found;
}

static int put_cb(struct store_txn *txn, void *arg)
{
    struct put_ctx *c = arg;
    const struct kith_post *p = c->p;
    struct store_post_meta meta;
    int r, target = 0;

    c->tomb_target = c->tomb_self = 0;
    memset(&meta, 0, sizeof(meta));
    memcpy(meta.group_id, c->g->id, KITH_GROUP_ID_BYTES);
    meta.created_ms = p->outer.created_ms;
    switch (p->kind) {
    case KITH_POST_KIND_REPLY:
        r = svc_find_root(c->svc, txn, c->g, p->parent, c->plain, meta.root_id);
        if (r < 0)
            return r;
        meta.has_root = 1;
        break;
    case KITH_POST_KIND_EDIT:
    case KITH_POST_KIND_DELETE:
        target = target_check(txn, c);
        if (target < 0)
            return target;
        memcpy(meta.root_id, p->parent, KITH_POST_ID_BYTES);
        meta.has_root = 1;
        break;
    default:
        if (p->has_parent) {
            memcpy(meta.root_id, p->parent, KITH_POST_ID_BYTES);
            meta.has_root = 1;
        }
        break;
    }
    if (c->extra != NULL) {
        r = c->extra(txn, c->extra_arg);
        if (r < 0)
            return r;
    }
    r = store_post_put(txn, c->id, c->sealed, c->len, &meta);
    if (r < 0)
        return r;
    if (deletable(p->kind)) {
        r = deleted_before(txn, c);
        if (r < 0)
            return r;
        if (r == 1) {
            r = store_post_tombstone(txn, c->id);
            if (r < 0)
                return r;
            c->tomb_self = 1;
        }
    }
    if (p->kind == KITH_POST_KIND_DELETE && target == 1) {
        r = store_post_tombstone(txn, p->parent);
        if (r < 0)
            return r;
        c->tomb_target = 1;
    }
    return 0;
}

/* After commit: the group cache, the log line and the post hook. */
static void stored_after(struct service *svc, const struct put_ctx *c)
{
    const struct record_group *g = c->g;
    const struct kith_post *p = c->p;
    const uint8_t *id = c->id;
    struct svc_gcache *gc = gcache_find(svc, g->id);

    svc->changes++;
    /* Signed here or verified by the caller before it was stored. */
    if (svc->verified != NULL && !c->tomb_self)
        vcache_add(svc->verified, id);
    if (gc != NULL && gc->scanned) {
        if (c->tomb_target && gc->n_posts > 0)
            gc->n_posts--;
        if (!c->tomb_self && deletable(p->kind))
            gc->n_posts++;
        if (!c->tomb_self && p->kind == KITH_POST_KIND_PROFILE)
            gcache_author(gc, p);
    }
    log_debug("post.stored", "group=%02x%02x%02x%02x id=%02x%02x%02x%02x kind=%u", g->id[0],
              g->id[1], g->id[2], g->id[3], id[0], id[1], id[2], id[3], p->kind);
    if (svc->post_hook != NULL && !c->tomb_self)
        svc->post_hook(svc->post_hook_arg, g->id, id, p->outer.created_ms, c->sealed, c->len,
                       svc->origin);
}

int svc_store_post(struct service *svc, const struct record_group *g, const uint8_t *sealed,
                   size_t len, const uint8_t id[KITH_POST_ID_BYTES], const struct kith_post *p,
                   svc_extra_fn extra, void *extra_arg)
{
    struct put_ctx c = {svc, g, sealed, len, id, p, extra, extra_arg, NULL, 0, 0};
    int r;

    c.plain = svc_plain_new();
    if (c.plain == NULL)
        return -ENOMEM;
    r = store_write(svc->st, put_cb, &c);
    svc_plain_free(c.plain);
    if (r < 0)
        return r;
    stored_after(svc, &c);
    return c.tomb_self ? -KITH_EDELETED : 0;
}

int service_accept_post(struct service *svc, const uint8_t *sealed, size_t len)
{
    struct kith_post_outer outer;
    struct record_group g;
    struct store_txn *txn;
    struct kith_post p = {0};
    uint8_t id[KITH_POST_ID_BYTES], *plain = NULL;
    int r;

    r = kith_post_decode_outer(sealed, len, &outer);
    if (r < 0)
        return r;
    r = store_read_begin(svc->st, &txn);
    if (r < 0)
        return r;
    r = record_group_load(txn, svc->v, outer.group_id, &g);
    store_txn_end(txn);
    if (r == -KITH_ENOTFOUND)
        return -KITH_ENOTMEMBER;
    if (r < 0)
        return r;
    plain = svc_plain_new();
    if (plain == NULL) {
        r = -ENOMEM;
        goto done;
    }
    r = kith_post_open(sealed, len, g.key, plain, KITH_POST_PLAIN_MAX, &p);
    if (r < 0)
        goto done;
    r = kith_post_verify(&p);
    if (r < 0)
        goto done;
    kith_post_id(sealed, len, id);
    r = svc_store_post(svc, &g, sealed, len, id, &p, NULL, NULL);
done:
    if (r < 0 && r != -KITH_EEXIST && r != -KITH_EDELETED)
        log_info("post.refused", "group=%02x%02x%02x%02x error=%s", outer.group_id[0],
                 outer.group_id[1], outer.group_id[2], outer.group_id[3], kith_errname(r));
    svc_plain_free(plain);
    record_group_wipe(&g);
    return r;
}

/* ---- batches from sync ---- */

#define BATCH_GROUPS_MAX KITH_WIRE_PROOF_MAX /* a session syncs at most this many groups */

struct batch_ctx {
    struct service_incoming *v;
    size_t n;
    struct put_ctx *c; /* one per post; c[i].g NULL: not a group we hold */
    uint8_t *plain;
};

/* Rules a post can break without the batch failing. */
static int rule_error(int r)
{
    return r == -KITH_EEXIST || r == -KITH_EDELETED || r == -KITH_EPARENT || r == -KITH_ENOTYOURS;
}

static int batch_cb(struct store_txn *txn, void *arg)
{
    struct batch_ctx *b = arg;

    for (size_t i = 0; i < b->n; i++) {
        struct put_ctx *c = &b->c[i];
        int r;

        if (c->g == NULL) {
            b->v[i].result = -KITH_ENOTMEMBER;
            continue;
        }
        c->plain = b->plain;
        r = put_cb(txn, c);
        if (r < 0 && !rule_error(r))
            return r;
        b->v[i].result = r < 0 ? r : c->tomb_self ? -KITH_EDELETED : 0;
    }
    return 0;
}

int service_accept_batch(struct service *svc, struct service_incoming *v, size_t n,
                         const void *origin, size_t *stored)
{
    struct record_group *groups;
    size_t n_groups = 0, count = 0;
    struct batch_ctx b = {v, n, NULL, NULL};
    struct store_txn *txn = NULL;
    int r = 0;

    if (stored != NULL)
        *stored = 0;
    b.c = calloc(n != 0 ? n : 1, sizeof(*b.c));
    groups = calloc(n < BATCH_GROUPS_MAX && n != 0 ? n : BATCH_GROUPS_MAX, sizeof(*groups));
    b.plain = svc_plain_new();
    if (b.c == NULL || b.plain == NULL || groups == NULL) {
        r = -ENOMEM;
        goto done;
    }
    r = store_read_begin(svc->st, &txn);
    if (r < 0)
        goto done;
    /* Group records are read before the write transaction (a read and a
     * write transaction in one thread would be fine in LMDB, but the
     * service keeps them apart everywhere). */
    for (size_t i = 0; i < n && r == 0; i++) {
        const uint8_t *gid = v[i].post->outer.group_id;
        size_t j;

        for (j = 0; j < n_groups; j++) {
            if (memcmp(groups[j].id, gid, KITH_GROUP_ID_BYTES) == 0)
                break;
        }
        if (j == n_groups && n_groups < BATCH_GROUPS_MAX && n_groups < n) {
            int l = record_group_load(txn, svc->v, gid, &groups[n_groups]);
            if (l == 0)
                n_groups++;
            else if (l != -KITH_ENOTFOUND)
                r = l;
        }
        b.c[i].g = j < n_groups ? &groups[j] : NULL;
        if (b.c[i].g == NULL && r == 0 && n_groups == BATCH_GROUPS_MAX)
            r = -KITH_EINVAL; /* more groups than a batch may mix: the caller splits */
        b.c[i].svc = svc;
        b.c[i].sealed = v[i].sealed;
        b.c[i].len = v[i].len;
        b.c[i].id = v[i].id;
        b.c[i].p = v[i].post;
    }
    store_txn_end(txn);
    if (r < 0)
        goto done;
    r = store_write(svc->st, batch_cb, &b);
    if (r < 0)
        goto done;
    svc->origin = origin;
    for (size_t i = 0; i < n; i++) {
        if (v[i].result == 0) {
            count++;
            stored_after(svc, &b.c[i]);
        } else if (v[i].result != -KITH_EEXIST && v[i].result != -KITH_EDELETED) {
            log_info("post.refused", "id=%02x%02x%02x%02x error=%s", v[i].id[0], v[i].id[1],
                     v[i].id[2], v[i].id[3], kith_errname(v[i].result));
        }
    }
    svc->origin = NULL;
    if (stored != NULL)
        *stored = count;
done:
    for (size_t j = 0; j < n_groups; j++)
        record_group_wipe(&groups[j]);
    free(groups);
    svc_plain_free(b.plain);
    free(b.c);
    return r;
}

void service_set_post_hook(struct service *svc, service_post_hook fn, void *arg)
{
    svc->post_hook = fn;
    svc->post_hook_arg = arg;
}

void service_set_sync(struct service *svc, void *sync)
{
    svc->sync = sync;
}

void *service_sync(struct service *svc)
{
    return svc->sync;
}
