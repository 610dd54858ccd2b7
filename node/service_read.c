/*
 * service_read: what a member reads (see service.h): a group's threads, one
 * thread, and the export of their own posts; and the CONTROL.md post
 * objects that every answer about posts is made of. Every post shown has
 * been opened and verified on the way. Owns nothing beyond one call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "export.h"
#include "kith/error.h"
#include "service.h"
#include "service_internal.h"

static int deletable_kind(uint8_t kind)
{
    return kind == KITH_POST_KIND_POST || kind == KITH_POST_KIND_REPLY;
}

static int set(json_t *o, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

json_t *svc_hex_json(const uint8_t *b, size_t n)
{
    char hex[2 * KITH_POST_ID_BYTES + 1];

    svc_hex(b, n, hex);
    return json_string(hex);
}

/* Show the newest edit of post id by its author: its title and body
 * replace the post's in o, and "edited" becomes true. Edits sit in the
 * thread index under the post they edit (oldest first). */
static int apply_edit(struct service *svc, struct store_txn *txn, const struct record_group *g,
                      const uint8_t id[KITH_POST_ID_BYTES], const uint8_t author[KITH_PUBKEY_BYTES],
                      json_t *o)
{
    struct svc_idlist l = {0};
    struct kith_post e = {0};
    uint8_t *plain = svc_plain_new();
    int r, found = 0;

    if (plain == NULL)
        return -ENOMEM;
    r = svc_idlist_thread(txn, id, &l);
    for (size_t i = l.n; r == 0 && !found && i-- > 0;) {
        if (svc_post_load(svc, txn, g, l.v[i].id, plain, &e) != 0 ||
            e.kind != KITH_POST_KIND_EDIT || !e.has_parent ||
            memcmp(e.parent, id, KITH_POST_ID_BYTES) != 0 ||
            memcmp(e.author, author, KITH_PUBKEY_BYTES) != 0)
            continue;
        found = 1;
        r = set(o, "title", svc_jstr(e.title, e.title_len));
        r |= set(o, "body", svc_jstr(e.body, e.body_len));
        r |= set(o, "edited", json_true());
    }
    svc_idlist_free(&l);
    svc_plain_free(plain);
    return r;
}

/* The CONTROL.md post object of an opened, verified post. */
json_t *svc_post_json(struct service *svc, struct store_txn *txn, const struct record_group *g,
                      const uint8_t id[KITH_POST_ID_BYTES], const struct kith_post *p)
{
    char name[KITH_POST_TITLE_MAX + 1];
    const char *kind = kith_post_kind_name(p->kind);
    json_t *o = json_object();
    int r;

    if (o == NULL)
        return NULL;
    svc_author_name(svc, txn, g, p->author, name);
    r = set(o, "id", svc_hex_json(id, KITH_POST_ID_BYTES));
    r |= set(o, "group_id", svc_hex_json(g->id, KITH_GROUP_ID_BYTES));
    r |= set(o, "group", json_string(g->name));
    r |= set(o, "kind", json_string(kind != NULL ? kind : "unknown"));
    r |= set(o, "author_key", svc_hex_json(p->author, KITH_PUBKEY_BYTES));
    r |= set(o, "author", json_string(name));
    r |= set(o, "created_ms", json_integer((json_int_t)p->outer.created_ms));
    r |= set(o, "topic", svc_jstr(p->topic, p->topic_len));
    r |= set(o, "title", svc_jstr(p->title, p->title_len));
    r |= set(o, "body", svc_jstr(p->body, p->body_len));
    r |=
        set(o, "parent", p->has_parent ? svc_hex_json(p->parent, KITH_POST_ID_BYTES) : json_null());
    r |= set(o, "deleted", json_false());
    r |= set(o, "edited", json_false());
    if (r == 0 && deletable_kind(p->kind))
        r = apply_edit(svc, txn, g, id, p->author, o);
    if (r != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The author of a deleted post, learnt from the delete posts under its id
 * (they are by the author: that is the rule that tombstoned it). 0 when
 * found, 1 when unknown. */
static int tomb_author(struct service *svc, struct store_txn *txn, const struct record_group *g,
                       const uint8_t id[KITH_POST_ID_BYTES], uint8_t *plain,
                       uint8_t author[KITH_PUBKEY_BYTES])
{
    struct svc_idlist l = {0};
    struct kith_post d = {0};
    int found = 0, agree = 1;

    if (svc_idlist_thread(txn, id, &l) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            if (svc_post_load(svc, txn, g, l.v[i].id, plain, &d) != 0 ||
                d.kind != KITH_POST_KIND_DELETE || memcmp(d.parent, id, KITH_POST_ID_BYTES) != 0)
                continue;
            if (found && memcmp(author, d.author, KITH_PUBKEY_BYTES) != 0)
                agree = 0;
            memcpy(author, d.author, KITH_PUBKEY_BYTES);
            found = 1;
        }
    }
    svc_idlist_free(&l);
    return found && agree ? 0 : 1;
}

/* A deleted post: what is still known (id, group, time, kind from where it
 * sits, author from its delete), no title or body. */
json_t *svc_tomb_json(struct service *svc, struct store_txn *txn, const struct record_group *g,
                      const uint8_t id[KITH_POST_ID_BYTES], uint64_t ms, const char *kind)
{
    uint8_t author[KITH_PUBKEY_BYTES], *plain = svc_plain_new();
    char name[KITH_POST_TITLE_MAX + 1];
    json_t *o = json_object();
    int r, known;

    if (o == NULL || plain == NULL) {
        json_decref(o);
        svc_plain_free(plain);
        return NULL;
    }
    known = tomb_author(svc, txn, g, id, plain, author) == 0;
    svc_plain_free(plain);
    if (known)
        svc_author_name(svc, txn, g, author, name);
    r = set(o, "id", svc_hex_json(id, KITH_POST_ID_BYTES));
    r |= set(o, "group_id", svc_hex_json(g->id, KITH_GROUP_ID_BYTES));
    r |= set(o, "group", json_string(g->name));
    r |= set(o, "kind", json_string(kind));
    r |= set(o, "author_key", known ? svc_hex_json(author, KITH_PUBKEY_BYTES) : json_null());
    r |= set(o, "author", known ? json_string(name) : json_null());
    r |= set(o, "created_ms", json_integer((json_int_t)ms));
    r |= set(o, "topic", json_null());
    r |= set(o, "parent", json_null());
    r |= set(o, "deleted", json_true());
    r |= set(o, "edited", json_false());
    if (r != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int svc_find_id(struct store_txn *txn, const char *arg, uint8_t id[KITH_POST_ID_BYTES])
{
    size_t len = strlen(arg);

    if (len < SERVICE_ID_PREFIX_MIN || len > (size_t)2 * KITH_POST_ID_BYTES)
        return -KITH_EREQUEST;
    for (size_t i = 0; i < len; i++) {
        char c = arg[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return -KITH_EREQUEST;
    }
    return store_post_find_prefix(txn, arg, id);
}

static int fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

int svc_text_eq(const char *a, size_t alen, const char *b)
{
    if (strlen(b) != alen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/* ---- cached views ---- */

/* The key of a view: what kind it is and what was asked. */
static void view_key(uint8_t key[32], const char *kind, const uint8_t *id, size_t id_len,
                     const char *topic, size_t limit)
{
    crypto_generichash_state h;
    uint64_t lim = limit;

    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const unsigned char *)kind, strlen(kind) + 1);
    crypto_generichash_update(&h, id, id_len);
    crypto_generichash_update(&h, (const unsigned char *)&lim, sizeof(lim));
    if (topic != NULL)
        crypto_generichash_update(&h, (const unsigned char *)topic, strlen(topic) + 1);
    crypto_generichash_final(&h, key, 32);
}

/* A copy of a view for a caller, who may add, replace or remove keys of it
 * and of the posts in it: objects and arrays down to the posts are new; the
 * values in the posts (strings, numbers) are shared, and jansson never
 * changes those in place. */
static json_t *view_copy(json_t *v)
{
    json_t *out = json_object(), *val, *item;
    const char *k;
    size_t i;

    json_object_foreach(v, k, val)
    {
        json_t *c = NULL;

        if (json_is_array(val)) {
            c = json_array();
            json_array_foreach(val, i, item)
            {
                if (c != NULL && json_array_append_new(c, json_copy(item)) != 0) {
                    json_decref(c);
                    c = NULL;
                }
            }
        } else {
            c = json_copy(val);
        }
        if (out == NULL || c == NULL || json_object_set_new(out, k, c) != 0) {
            json_decref(c);
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Bytes of titles and bodies in a post object, or in the posts of a view. */
static size_t view_text(json_t *v)
{
    json_t *val, *item;
    const char *k;
    size_t i, n = json_string_length(json_object_get(v, "title")) +
                  json_string_length(json_object_get(v, "body"));

    json_object_foreach(v, k, val)
    {
        if (json_is_object(val))
            n += view_text(val);
        json_array_foreach(val, i, item)
        {
            n += view_text(item);
        }
    }
    return n;
}

/* The view called key when nothing changed since it was built and the
 * account is in its group: a copy for the caller. NULL otherwise. */
static json_t *view_get(struct service *svc, const struct record_account *a, const uint8_t key[32])
{
    const struct svc_view *c = &svc->views[key[0] % SVC_VIEW_SLOTS];

    if (c->json == NULL || c->changes != svc->changes || memcmp(c->key, key, 32) != 0 ||
        !record_account_has_group(a, c->gid))
        return NULL;
    return view_copy(c->json);
}

static void view_put(struct service *svc, const uint8_t key[32],
                     const uint8_t gid[KITH_GROUP_ID_BYTES], json_t *v)
{
    struct svc_view *c = &svc->views[key[0] % SVC_VIEW_SLOTS];

    if (view_text(v) > SVC_VIEW_TEXT_MAX)
        return;
    json_decref(c->json);
    c->json = json_deep_copy(v);
    memcpy(c->key, key, 32);
    memcpy(c->gid, gid, KITH_GROUP_ID_BYTES);
    c->changes = svc->changes;
}

/* ---- thread list ---- */

static int entry_cmp_id(const void *a, const void *b)
{
    return memcmp(((const struct svc_entry *)a)->id, ((const struct svc_entry *)b)->id,
                  KITH_POST_ID_BYTES);
}

struct root {
    size_t at; /* index into the scan, sorted by id */
    uint64_t last_ms;
    uint64_t replies;
};

static int root_cmp(const void *a, const void *b)
{
    const struct root *x = a, *y = b;

    if (x->last_ms != y->last_ms)
        return x->last_ms < y->last_ms ? 1 : -1;
    return x->at < y->at ? 1 : (x->at > y->at ? -1 : 0);
}

static const struct svc_entry *entry_find(const struct svc_idlist *l, const uint8_t *id)
{
    struct svc_entry key;

    memset(&key, 0, sizeof(key));
    memcpy(key.id, id, KITH_POST_ID_BYTES);
    return bsearch(&key, l->v, l->n, sizeof(l->v[0]), entry_cmp_id);
}

/* Count the replies under root r (deleted ones too: they still show) and
 * find its newest activity. */
static int root_count(struct store_txn *txn, const struct svc_idlist *all, struct root *r)
{
    struct svc_idlist l = {0};
    int rc = svc_idlist_thread(txn, all->v[r->at].id, &l);

    r->last_ms = all->v[r->at].ms;
    r->replies = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const struct svc_entry *e = entry_find(all, l.v[i].id);
        if (e == NULL || (e->kind != KITH_POST_KIND_REPLY && e->kind != SVC_KIND_TOMBSTONE))
            continue;
        r->replies++;
        if (l.v[i].ms > r->last_ms)
            r->last_ms = l.v[i].ms;
    }
    svc_idlist_free(&l);
    return rc;
}

static json_t *thread_item(struct service *svc, struct store_txn *txn, const struct record_group *g,
                           const struct svc_entry *e, const struct root *rt, uint8_t *plain)
{
    struct kith_post p = {0};
    json_t *o;

    if (e->kind == SVC_KIND_TOMBSTONE)
        o = svc_tomb_json(svc, txn, g, e->id, e->ms, "post");
    else if (svc_post_load(svc, txn, g, e->id, plain, &p) == 0)
        o = svc_post_json(svc, txn, g, e->id, &p);
    else
        return NULL;
    if (o != NULL && (json_object_set_new(o, "replies", json_integer((json_int_t)rt->replies)) ||
                      json_object_set_new(o, "last_ms", json_integer((json_int_t)rt->last_ms)))) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

int service_thread_list(struct service *svc, struct service_session *sess, const char *group,
                        const char *topic, size_t limit, json_t **out)
{
    struct record_account a;
    struct record_group g;
    struct store_txn *txn;
    struct svc_idlist l = {0};
    struct root *roots = NULL;
    size_t n_roots = 0;
    uint8_t *plain = NULL, key[32];
    json_t *arr = NULL;
    int r;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    if (limit == 0)
        limit = SERVICE_THREAD_LIMIT_DEFAULT;
    if (limit > SERVICE_THREAD_LIMIT_MAX)
        limit = SERVICE_THREAD_LIMIT_MAX;
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        return r;
    r = svc_group_resolve(svc, txn, &a, group, &g);
    if (r < 0)
        goto done;
    view_key(key, "list", g.id, KITH_GROUP_ID_BYTES, topic, limit);
    *out = view_get(svc, &a, key);
    if (*out != NULL)
        goto done;
    r = svc_group_scan(svc, txn, &g, &l);
    if (r < 0)
        goto done;
    if (l.n > 0)
        qsort(l.v, l.n, sizeof(l.v[0]), entry_cmp_id);
    roots = calloc(l.n + 1, sizeof(*roots));
    plain = svc_plain_new();
    arr = json_array();
    if (roots == NULL || plain == NULL || arr == NULL) {
        r = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        const struct svc_entry *e = &l.v[i];
        int candidate = (e->kind == KITH_POST_KIND_POST &&
                         (topic == NULL || svc_text_eq(e->topic, e->topic_len, topic))) ||
                        (e->kind == SVC_KIND_TOMBSTONE && topic == NULL);
        if (!candidate)
            continue;
        roots[n_roots].at = i;
        r = root_count(txn, &l, &roots[n_roots]);
        if (r < 0)
            goto done;
        /* A deleted post stays listed only while replies hang under it. */
        if (e->kind == SVC_KIND_TOMBSTONE && roots[n_roots].replies == 0)
            continue;
        n_roots++;
    }
    qsort(roots, n_roots, sizeof(*roots), root_cmp);
    for (size_t i = 0; i < n_roots && json_array_size(arr) < limit; i++) {
        json_t *o = thread_item(svc, txn, &g, &l.v[roots[i].at], &roots[i], plain);
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            r = -ENOMEM;
            goto done;
        }
    }
    *out = json_pack("{s:O}", "threads", arr);
    r = *out != NULL ? 0 : -ENOMEM;
    if (r == 0)
        view_put(svc, key, g.id, *out);
done:
    store_txn_end(txn);
    record_account_free(&a);
    record_group_wipe(&g);
    svc_idlist_free(&l);
    svc_plain_free(plain);
    free(roots);
    json_decref(arr);
    return r;
}

/* ---- thread show ---- */

/* The group of a deleted post, from what hangs under it, when the account
 * is in it. */
static int tomb_group(struct service *svc, struct store_txn *txn, const struct record_account *a,
                      const uint8_t id[KITH_POST_ID_BYTES], struct record_group *g)
{
    struct svc_idlist l = {0};
    uint8_t gid[KITH_GROUP_ID_BYTES];
    int r = svc_idlist_thread(txn, id, &l), found = 0;

    for (size_t i = 0; r == 0 && i < l.n && !found; i++) {
        if (svc_post_group(txn, l.v[i].id, gid) == 0 && record_account_has_group(a, gid))
            found = 1;
    }
    svc_idlist_free(&l);
    if (r < 0)
        return r;
    return found ? record_group_load(txn, svc->v, gid, g) : -KITH_EDELETED;
}

/* created_ms of a post of g from the group index (for deleted posts). */
static uint64_t index_ms(struct store_txn *txn, const struct record_group *g,
                         const uint8_t id[KITH_POST_ID_BYTES])
{
    struct svc_idlist l = {0};
    uint64_t ms = 0;

    if (svc_idlist_group(txn, g->id, &l) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            if (memcmp(l.v[i].id, id, KITH_POST_ID_BYTES) == 0) {
                ms = l.v[i].ms;
                break;
            }
        }
    }
    svc_idlist_free(&l);
    return ms;
}

/* The replies under root, oldest first, into arr. */
static int thread_replies(struct service *svc, struct store_txn *txn, const struct record_group *g,
                          const uint8_t root[KITH_POST_ID_BYTES], uint8_t *plain, json_t *arr)
{
    struct svc_idlist l = {0};
    struct kith_post p = {0};
    int r = svc_idlist_thread(txn, root, &l);

    for (size_t i = 0; r == 0 && i < l.n; i++) {
        json_t *o = NULL;
        int o_r = svc_post_load(svc, txn, g, l.v[i].id, plain, &p);
        if (o_r == 0 && p.kind == KITH_POST_KIND_REPLY)
            o = svc_post_json(svc, txn, g, l.v[i].id, &p);
        else if (o_r == -KITH_EDELETED)
            o = svc_tomb_json(svc, txn, g, l.v[i].id, l.v[i].ms, "reply");
        else
            continue; /* edits, deletes, unreadable */
        if (o == NULL || json_array_append_new(arr, o) != 0)
            r = -ENOMEM;
    }
    svc_idlist_free(&l);
    return r;
}

int service_thread_show(struct service *svc, struct service_session *sess, const char *arg,
                        json_t **out)
{
    struct record_account a;
    struct record_group g;
    struct store_txn *txn;
    struct kith_post p = {0};
    uint8_t id[KITH_POST_ID_BYTES], root[KITH_POST_ID_BYTES], gid[KITH_GROUP_ID_BYTES];
    uint8_t key[32];
    uint8_t *plain = svc_plain_new(), *plain2 = svc_plain_new();
    json_t *post = NULL, *replies = json_array();
    int r, with_replies = 1;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    if (plain == NULL || plain2 == NULL || replies == NULL) {
        svc_plain_free(plain);
        svc_plain_free(plain2);
        json_decref(replies);
        return -ENOMEM;
    }
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        goto out_free;
    r = svc_find_id(txn, arg, id);
    if (r < 0)
        goto done;
    view_key(key, "show", id, KITH_POST_ID_BYTES, NULL, 0);
    *out = view_get(svc, &a, key);
    if (*out != NULL)
        goto done;
    r = svc_post_group(txn, id, gid);
    if (r == -KITH_EDELETED) {
        r = tomb_group(svc, txn, &a, id, &g);
        if (r < 0)
            goto done;
        memcpy(root, id, sizeof(root));
    } else {
        if (r == 0 && !record_account_has_group(&a, gid))
            r = -KITH_ENOTFOUND;
        if (r == 0)
            r = record_group_load(txn, svc->v, gid, &g);
        if (r == 0)
            r = svc_post_load(svc, txn, &g, id, plain, &p);
        if (r < 0)
            goto done;
        memcpy(root, id, sizeof(root));
        if (p.kind == KITH_POST_KIND_REPLY &&
            svc_find_root(svc, txn, &g, p.parent, plain2, root) < 0)
            memcpy(root, id, sizeof(root));
        with_replies = p.kind == KITH_POST_KIND_POST || p.kind == KITH_POST_KIND_REPLY;
    }
    if (memcmp(root, id, sizeof(root)) != 0) {
        r = svc_post_load(svc, txn, &g, root, plain2, &p);
        if (r == 0)
            post = svc_post_json(svc, txn, &g, root, &p);
        else if (r == -KITH_EDELETED)
            post = svc_tomb_json(svc, txn, &g, root, index_ms(txn, &g, root), "post");
        else /* the root has not arrived: show the reply on its own */
            memcpy(root, id, sizeof(root));
        r = 0;
    }
    if (post == NULL && memcmp(root, id, sizeof(root)) == 0) {
        if (svc_post_group(txn, id, gid) == -KITH_EDELETED)
            post = svc_tomb_json(svc, txn, &g, id, index_ms(txn, &g, id), "post");
        else
            post = svc_post_json(svc, txn, &g, id, &p);
    }
    if (post == NULL) {
        r = -ENOMEM;
        goto done;
    }
    if (with_replies)
        r = thread_replies(svc, txn, &g, root, plain, replies);
    if (r == 0 && json_is_true(json_object_get(post, "deleted")) && json_array_size(replies) == 0)
        r = -KITH_EDELETED;
    if (r == 0) {
        *out = json_pack("{s:O,s:O}", "post", post, "replies", replies);
        r = *out != NULL ? 0 : -ENOMEM;
    }
    if (r == 0)
        view_put(svc, key, g.id, *out);
done:
    store_txn_end(txn);
    record_account_free(&a);
out_free:
    record_group_wipe(&g);
    svc_plain_free(plain);
    svc_plain_free(plain2);
    json_decref(post);
    json_decref(replies);
    return r;
}

/* ---- export ---- */

static int ms_cmp(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "created_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "created_ms"));

    if (x != y)
        return x < y ? -1 : 1;
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")),
                  json_string_value(json_object_get(*(json_t *const *)b, "id")));
}

/* What a reply answers, in words, for the Markdown export. */
static json_t *reply_to_text(struct service *svc, struct store_txn *txn,
                             const struct record_group *g, const uint8_t parent[32], uint8_t *plain)
{
    char hex[9], name[KITH_POST_TITLE_MAX + 1], s[2 * KITH_POST_TITLE_MAX + 64];
    struct kith_post p = {0};
    int r = svc_post_load(svc, txn, g, parent, plain, &p);

    svc_hex(parent, 4, hex);
    if (r == 0 && p.title_len > 0) {
        snprintf(s, sizeof(s), "\"%.*s\" (post %s)", (int)p.title_len, p.title, hex);
    } else if (r == 0) {
        svc_author_name(svc, txn, g, p.author, name);
        snprintf(s, sizeof(s), "a %s by %s (post %s)",
                 p.kind == KITH_POST_KIND_REPLY ? "reply" : "post", name, hex);
    } else if (r == -KITH_EDELETED) {
        snprintf(s, sizeof(s), "a deleted post (post %s)", hex);
    } else {
        snprintf(s, sizeof(s), "post %s", hex);
    }
    return json_string(s);
}

/* Append this account's live posts and replies in g to arr. */
static int export_group(struct service *svc, struct service_session *sess, struct store_txn *txn,
                        const struct record_group *g, int md, json_t *arr)
{
    struct svc_idlist l = {0};
    struct kith_post p = {0};
    uint8_t *plain = svc_plain_new(), *plain2 = svc_plain_new();
    int r = plain != NULL && plain2 != NULL ? svc_idlist_group(txn, g->id, &l) : -ENOMEM;

    for (size_t i = 0; r == 0 && i < l.n; i++) {
        json_t *o;
        if (svc_post_load(svc, txn, g, l.v[i].id, plain, &p) != 0 || !deletable_kind(p.kind) ||
            sodium_memcmp(p.author, sess->pk, KITH_PUBKEY_BYTES) != 0)
            continue;
        o = svc_post_json(svc, txn, g, l.v[i].id, &p);
        if (o != NULL && md && p.has_parent &&
            json_object_set_new(o, "in_reply_to", reply_to_text(svc, txn, g, p.parent, plain2)) !=
                0) {
            json_decref(o);
            o = NULL;
        }
        if (o == NULL || json_array_append_new(arr, o) != 0)
            r = -ENOMEM;
    }
    svc_idlist_free(&l);
    svc_plain_free(plain);
    svc_plain_free(plain2);
    return r;
}

int service_export(struct service *svc, struct service_session *sess,
                   enum service_export_format format, json_t **out)
{
    struct record_account a;
    struct record_group g;
    struct store_txn *txn;
    json_t *arr = json_array(), *sorted = json_array();
    json_t **v = NULL;
    char *text = NULL;
    size_t n;
    int r;

    *out = NULL;
    if (arr == NULL || sorted == NULL) {
        r = -ENOMEM;
        goto fail_json;
    }
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        goto fail_json;
    for (size_t i = 0; r == 0 && i < a.n_groups; i++) {
        r = record_group_load(txn, svc->v, a.groups + i * 32, &g);
        if (r == -KITH_ENOTFOUND) {
            r = 0;
            continue;
        }
        if (r == 0)
            r = export_group(svc, sess, txn, &g, format == SERVICE_EXPORT_MD, arr);
        record_group_wipe(&g);
    }
    store_txn_end(txn);
    record_account_free(&a);
    if (r < 0)
        goto fail_json;
    n = json_array_size(arr);
    v = calloc(n + 1, sizeof(*v)); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (v == NULL) {
        r = -ENOMEM;
        goto fail_json;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    qsort(v, n, sizeof(*v), ms_cmp); // NOLINT(bugprone-sizeof-expression)
    for (size_t i = 0; i < n && r == 0; i++)
        r = json_array_append(sorted, v[i]) == 0 ? 0 : -ENOMEM;
    if (r < 0)
        goto fail_json;
    if (format == SERVICE_EXPORT_MD) {
        r = export_markdown(sess->name, sorted, &text);
        if (r == 0)
            *out = json_pack("{s:s,s:s}", "format", "md", "text", text);
    } else {
        *out = json_pack("{s:s,s:O}", "format", "json", "posts", sorted);
    }
    if (r == 0 && *out == NULL)
        r = -ENOMEM;
fail_json:
    if (text != NULL)
        sodium_memzero(text, strlen(text));
    free(text);
    free(v);
    json_decref(arr);
    json_decref(sorted);
    return r;
}
