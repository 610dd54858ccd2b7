/*
 * service_thread: a member's operations on posts (see service.h): write a
 * post or reply, delete their own, list a group's threads, show a thread,
 * export what they wrote. The rules for storing live in service_post.c; this
 * file resolves arguments, builds posts and turns what it reads into the
 * JSON objects of CONTROL.md. Owns nothing beyond one call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "export.h"
#include "kith/error.h"
#include "log.h"
#include "service.h"
#include "service_internal.h"

static int deletable(uint8_t kind)
{
    return kind == KITH_POST_KIND_POST || kind == KITH_POST_KIND_REPLY;
}

/* ---- writing ---- */

/* Copy body dropping the CR of each CRLF (text pasted from elsewhere), and
 * check the limits. *out is malloc'd. */
static int body_prepare(const char *body, size_t len, char **out, size_t *out_len)
{
    size_t n = 0;
    char *b;

    *out = NULL;
    if (len > 2 * (size_t)KITH_POST_BODY_MAX)
        return -KITH_ETOOBIG;
    b = malloc(len + 1);
    if (b == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
            continue;
        b[n++] = body[i];
    }
    if (n == 0 || n > KITH_POST_BODY_MAX) {
        free(b);
        return n == 0 ? -KITH_EREQUEST : -KITH_ETOOBIG;
    }
    *out = b;
    *out_len = n;
    return 0;
}

/* Build, store and describe a post of sess in g. */
static int write_post(struct service *svc, struct service_session *sess,
                      const struct record_group *g, struct kith_post *p, json_t **out)
{
    uint8_t *sealed = NULL, id[KITH_POST_ID_BYTES];
    size_t len;
    struct store_txn *txn;
    int r;

    r = svc_post_build(svc, sess, g, p, &sealed, &len, id);
    if (r < 0)
        return r;
    r = svc_store_post(svc, g, sealed, len, id, p, NULL, NULL);
    free(sealed);
    if (r < 0)
        return r;
    r = store_read_begin(svc->st, &txn);
    if (r < 0)
        return r;
    *out = svc_post_json(svc, txn, g, id, p);
    store_txn_end(txn);
    return *out != NULL ? 0 : -ENOMEM;
}

int service_post_create(struct service *svc, struct service_session *sess, const char *group,
                        const char *topic, const char *title, const char *body, size_t body_len,
                        json_t **out)
{
    struct record_account a;
    struct record_group g;
    struct store_txn *txn;
    struct kith_post p = {0};
    char *b = NULL;
    size_t blen = 0, tlen = topic != NULL ? strlen(topic) : 0;
    size_t ttlen = title != NULL ? strlen(title) : 0;
    int r;

    *out = NULL;
    if (tlen > KITH_POST_TOPIC_MAX || ttlen > KITH_POST_TITLE_MAX)
        return -KITH_ETOOBIG;
    r = body_prepare(body, body_len, &b, &blen);
    if (r < 0)
        return r;
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        goto done_body;
    r = svc_group_resolve(svc, txn, &a, group, &g);
    store_txn_end(txn);
    record_account_free(&a);
    if (r < 0)
        goto done_body;
    memset(&p, 0, sizeof(p));
    p.kind = KITH_POST_KIND_POST;
    p.topic = topic;
    p.topic_len = tlen;
    for (size_t i = 0; i < g.n_topics; i++) {
        if (tlen > 0 && svc_text_eq(topic, tlen, g.topics[i]))
            p.topic = g.topics[i]; /* the group's spelling */
    }
    p.title = title;
    p.title_len = ttlen;
    p.body = b;
    p.body_len = blen;
    r = write_post(svc, sess, &g, &p, out);
    record_group_wipe(&g);
done_body:
    if (b != NULL)
        sodium_memzero(b, blen);
    free(b);
    return r;
}

/* Resolve a post id argument of sess's account, open the post (into plain,
 * *p) and load its group. Returns 0, -KITH_EREQUEST, -KITH_ENOTFOUND (also
 * for groups the account is not in), -KITH_EAMBIGUOUS, -KITH_EDELETED, or
 * open/verify errors. */
static int target_load(struct service *svc, struct service_session *sess, const char *arg,
                       uint8_t id[KITH_POST_ID_BYTES], struct record_group *g, uint8_t *plain,
                       struct kith_post *p)
{
    struct record_account a;
    struct store_txn *txn;
    uint8_t gid[KITH_GROUP_ID_BYTES];
    int r;

    memset(g, 0, sizeof(*g));
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        return r;
    r = svc_find_id(txn, arg, id);
    if (r == 0)
        r = svc_post_group(txn, id, gid);
    if (r == 0 && !record_account_has_group(&a, gid))
        r = -KITH_ENOTFOUND;
    if (r == 0)
        r = record_group_load(txn, svc->v, gid, g);
    if (r == 0)
        r = svc_post_load(svc, txn, g, id, plain, p);
    store_txn_end(txn);
    record_account_free(&a);
    if (r < 0)
        record_group_wipe(g);
    return r;
}

int service_post_reply(struct service *svc, struct service_session *sess, const char *parent,
                       const char *body, size_t body_len, json_t **out)
{
    uint8_t pid[KITH_POST_ID_BYTES], *plain = NULL;
    char topic[KITH_POST_TOPIC_MAX];
    struct record_group g;
    struct kith_post p = {0};
    char *b = NULL;
    size_t blen = 0, tlen;
    int r;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    r = body_prepare(body, body_len, &b, &blen);
    if (r < 0)
        return r;
    plain = svc_plain_new();
    if (plain == NULL) {
        r = -ENOMEM;
        goto done;
    }
    r = target_load(svc, sess, parent, pid, &g, plain, &p);
    if (r < 0)
        goto done;
    if (!deletable(p.kind)) {
        r = -KITH_EREQUEST;
        goto done;
    }
    /* A reply keeps its thread's topic. */
    tlen = p.topic_len;
    memcpy(topic, p.topic, tlen);
    memset(&p, 0, sizeof(p));
    p.kind = KITH_POST_KIND_REPLY;
    p.has_parent = 1;
    memcpy(p.parent, pid, sizeof(pid));
    p.topic = topic;
    p.topic_len = tlen;
    p.body = b;
    p.body_len = blen;
    r = write_post(svc, sess, &g, &p, out);
done:
    record_group_wipe(&g);
    svc_plain_free(plain);
    if (b != NULL)
        sodium_memzero(b, blen);
    free(b);
    return r;
}

int service_post_delete(struct service *svc, struct service_session *sess, const char *id,
                        json_t **out)
{
    uint8_t tid[KITH_POST_ID_BYTES], *plain, *sealed = NULL, did[KITH_POST_ID_BYTES];
    struct record_group g;
    struct kith_post p = {0};
    size_t len;
    int r;

    *out = NULL;
    plain = svc_plain_new();
    if (plain == NULL)
        return -ENOMEM;
    r = target_load(svc, sess, id, tid, &g, plain, &p);
    if (r < 0)
        goto done;
    if (!deletable(p.kind)) {
        r = -KITH_EREQUEST;
        goto done;
    }
    if (sodium_memcmp(p.author, sess->pk, KITH_PUBKEY_BYTES) != 0) {
        r = -KITH_ENOTYOURS;
        goto done;
    }
    memset(&p, 0, sizeof(p));
    p.kind = KITH_POST_KIND_DELETE;
    p.has_parent = 1;
    memcpy(p.parent, tid, sizeof(tid));
    r = svc_post_build(svc, sess, &g, &p, &sealed, &len, did);
    if (r == 0)
        r = svc_store_post(svc, &g, sealed, len, did, &p, NULL, NULL);
    if (r == 0) {
        *out = json_pack("{s:o,s:b}", "id", svc_hex_json(tid, sizeof(tid)), "deleted", 1);
        r = *out != NULL ? 0 : -ENOMEM;
        log_info("post.deleted", "group=%02x%02x%02x%02x id=%02x%02x%02x%02x", g.id[0], g.id[1],
                 g.id[2], g.id[3], tid[0], tid[1], tid[2], tid[3]);
    }
done:
    free(sealed);
    record_group_wipe(&g);
    svc_plain_free(plain);
    return r;
}

int service_post_edit(struct service *svc, struct service_session *sess, const char *id,
                      const char *title, const char *body, size_t body_len, json_t **out)
{
    uint8_t tid[KITH_POST_ID_BYTES], *plain, *sealed = NULL, eid[KITH_POST_ID_BYTES];
    struct record_group g;
    struct kith_post p = {0};
    size_t len, blen = 0, ttlen = title != NULL ? strlen(title) : 0;
    char *b = NULL;
    int r;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    if (ttlen > KITH_POST_TITLE_MAX)
        return -KITH_ETOOBIG;
    r = body_prepare(body, body_len, &b, &blen);
    if (r < 0)
        return r;
    plain = svc_plain_new();
    if (plain == NULL) {
        r = -ENOMEM;
        goto done;
    }
    r = target_load(svc, sess, id, tid, &g, plain, &p);
    if (r < 0)
        goto done;
    if (!deletable(p.kind) || (p.kind == KITH_POST_KIND_REPLY && ttlen > 0)) {
        r = -KITH_EREQUEST;
        goto done;
    }
    if (sodium_memcmp(p.author, sess->pk, KITH_PUBKEY_BYTES) != 0) {
        r = -KITH_ENOTYOURS;
        goto done;
    }
    memset(&p, 0, sizeof(p));
    p.kind = KITH_POST_KIND_EDIT;
    p.has_parent = 1;
    memcpy(p.parent, tid, sizeof(tid));
    p.title = title;
    p.title_len = ttlen;
    p.body = b;
    p.body_len = blen;
    r = svc_post_build(svc, sess, &g, &p, &sealed, &len, eid);
    if (r == 0)
        r = svc_store_post(svc, &g, sealed, len, eid, &p, NULL, NULL);
    if (r == 0) {
        *out = json_pack("{s:o,s:b}", "id", svc_hex_json(tid, sizeof(tid)), "edited", 1);
        r = *out != NULL ? 0 : -ENOMEM;
    }
done:
    free(sealed);
    record_group_wipe(&g);
    svc_plain_free(plain);
    if (b != NULL)
        sodium_memzero(b, blen);
    free(b);
    return r;
}

int service_profile_set(struct service *svc, struct service_session *sess, const char *name,
                        json_t **out)
{
    char clean[RECORD_NAME_MAX + 1];
    struct record_account a;
    struct record_group g;
    struct store_txn *txn;
    size_t done = 0;
    int r;

    *out = NULL;
    r = record_name_clean(name, clean);
    if (r < 0)
        return r;
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        return r;
    store_txn_end(txn);
    for (size_t i = 0; i < a.n_groups && r == 0; i++) {
        struct kith_post p = {0};
        uint8_t *sealed = NULL, id[KITH_POST_ID_BYTES];
        size_t len = 0;

        r = store_read_begin(svc->st, &txn);
        if (r < 0)
            break;
        r = record_group_load(txn, svc->v, a.groups + i * 32, &g);
        store_txn_end(txn);
        if (r < 0)
            break;
        p.kind = KITH_POST_KIND_PROFILE;
        p.title = clean;
        p.title_len = strlen(clean);
        r = svc_post_build(svc, sess, &g, &p, &sealed, &len, id);
        if (r == 0)
            r = svc_store_post(svc, &g, sealed, len, id, &p, NULL, NULL);
        free(sealed);
        record_group_wipe(&g);
        done += r == 0;
    }
    record_account_free(&a);
    if (r < 0)
        return r;
    *out = json_pack("{s:s,s:I}", "display_name", clean, "groups", (json_int_t)done);
    return *out != NULL ? 0 : -ENOMEM;
}

int service_display_name(struct service *svc, struct service_session *sess, char *out, size_t cap)
{
    char name[KITH_POST_TITLE_MAX + 1], hex[2 * KITH_PUBKEY_BYTES + 1];
    struct record_account a;
    struct record_group g;
    struct store_txn *txn;
    int r;

    snprintf(out, cap, "%s", sess->name);
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        return r;
    if (a.n_groups > 0 && record_group_load(txn, svc->v, a.groups, &g) == 0) {
        svc_author_name(svc, txn, &g, sess->pk, name);
        record_group_wipe(&g);
        /* No profile post yet: the name is the key's first hex digits. */
        svc_hex(sess->pk, KITH_PUBKEY_BYTES, hex);
        if (strncmp(name, hex, strlen(name)) != 0)
            snprintf(out, cap, "%s", name);
    }
    store_txn_end(txn);
    record_account_free(&a);
    return 0;
}
