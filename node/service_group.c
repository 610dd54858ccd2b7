/*
 * service_group: creating, listing, inviting to and joining groups (see
 * service.h), and resolving a group argument for the other service files.
 * Owns nothing beyond one call: group keys are loaded per call and wiped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "kith/error.h"
#include "kith/invite.h"
#include "log.h"
#include "record.h"
#include "service.h"
#include "service_internal.h"

static int is_hex(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
            return 0;
    }
    return 1;
}

int svc_group_resolve(struct service *svc, struct store_txn *txn, const struct record_account *a,
                      const char *arg, struct record_group *g)
{
    struct record_group cur;
    char hex[(size_t)2 * KITH_GROUP_ID_BYTES + 1];
    size_t by_name = 0, by_prefix = 0, alen = strlen(arg), name_i = 0, prefix_i = 0;
    char trimmed[RECORD_NAME_MAX + 1];
    int have_name = record_name_clean(arg, trimmed) == 0, hexarg = is_hex(arg);
    int r;

    memset(g, 0, sizeof(*g));
    for (size_t i = 0; i < a->n_groups; i++) {
        const uint8_t *gid = a->groups + i * 32;
        if (have_name) {
            r = record_group_load(txn, svc->v, gid, &cur);
            if (r == 0 && record_name_equal(cur.name, trimmed)) {
                by_name++;
                name_i = i;
            }
            record_group_wipe(&cur);
            if (r < 0 && r != -KITH_ENOTFOUND)
                return r;
        }
        if (hexarg && alen <= (size_t)2 * KITH_GROUP_ID_BYTES) {
            svc_hex(gid, 32, hex);
            if (strncasecmp(hex, arg, alen) == 0) {
                by_prefix++;
                prefix_i = i;
            }
        }
    }
    if (by_name > 1)
        return -KITH_EAMBIGUOUS;
    if (by_name == 1)
        return record_group_load(txn, svc->v, a->groups + name_i * 32, g);
    if (by_prefix > 1)
        return -KITH_EAMBIGUOUS;
    if (by_prefix == 1)
        return record_group_load(txn, svc->v, a->groups + prefix_i * 32, g);
    if (hexarg && alen == (size_t)2 * KITH_GROUP_ID_BYTES) {
        uint8_t gid[32];
        const void *val;
        size_t vlen;
        if (sodium_hex2bin(gid, 32, arg, alen, NULL, NULL, NULL) == 0 &&
            store_get(txn, STORE_DB_GROUPS, gid, 32, &val, &vlen) == 0)
            return -KITH_ENOTMEMBER;
    }
    return -KITH_ENOTFOUND;
}

/* What group create/join write besides the profile post. */
struct group_put {
    struct service *svc;
    const struct record_group *g;
    const uint8_t *account_key;
    int save_group; /* 0 when the node already holds the group */
};

static int group_put_cb(struct store_txn *txn, void *arg)
{
    struct group_put *gp = arg;
    struct record_account a;
    int r;

    if (gp->save_group) {
        r = record_group_save(txn, gp->svc->v, gp->g);
        if (r < 0)
            return r;
    }
    /* Re-read inside the write so a concurrent change to the account's
     * group list cannot be lost. */
    r = record_account_load(txn, gp->svc->v, gp->account_key, &a);
    if (r < 0)
        return r == -KITH_ENOTFOUND ? -KITH_ELOCKED : r;
    r = record_account_add_group(&a, gp->g->id);
    if (r == 0)
        r = record_account_save(txn, gp->svc->v, gp->account_key, &a);
    record_account_free(&a);
    return r;
}

/* Add the session's account to g (saving g too when save_group) together
 * with a profile post, and answer with the group object. */
static int group_enter(struct service *svc, struct service_session *sess,
                       const struct record_group *g, int save_group, json_t **out)
{
    uint8_t *sealed = NULL, id[KITH_POST_ID_BYTES];
    size_t len = 0;
    struct kith_post p = {0};
    struct group_put gp = {svc, g, sess->account_key, save_group};
    struct store_txn *txn = NULL;
    int r;

    /* The group record may change (its name): cached views are stale. */
    svc->changes++;
    memset(&p, 0, sizeof(p));
    p.kind = KITH_POST_KIND_PROFILE;
    p.title = sess->name;
    p.title_len = strlen(sess->name);
    r = svc_post_build(svc, sess, g, &p, &sealed, &len, id);
    if (r < 0)
        return r;
    r = svc_store_post(svc, g, sealed, len, id, &p, group_put_cb, &gp);
    free(sealed);
    if (r < 0)
        return r;
    r = store_read_begin(svc->st, &txn);
    if (r < 0)
        return r;
    *out = svc_group_json(svc, txn, g);
    store_txn_end(txn);
    return *out != NULL ? 0 : -ENOMEM;
}

int service_group_create(struct service *svc, struct service_session *sess, const char *name,
                         const char *const *topics, size_t n_topics, json_t **out)
{
    struct record_group g, other;
    struct record_account a;
    struct store_txn *txn;
    int r;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    r = record_name_clean(name, g.name);
    if (r < 0)
        return r;
    if (topics != NULL) {
        if (n_topics > RECORD_TOPICS_MAX)
            return -KITH_ETOOBIG;
        for (size_t i = 0; i < n_topics; i++) {
            size_t tl = strlen(topics[i]);
            r = record_topic_check(topics[i], tl);
            if (r < 0)
                return r;
            memcpy(g.topics[i], topics[i], tl + 1);
        }
        g.n_topics = n_topics;
    } else {
        record_topics_default(svc->content_dir, &g);
    }
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        return r;
    for (size_t i = 0; i < a.n_groups && r == 0; i++) {
        if (record_group_load(txn, svc->v, a.groups + i * 32, &other) == 0 &&
            record_name_equal(other.name, g.name))
            r = -KITH_EEXIST;
        record_group_wipe(&other);
    }
    store_txn_end(txn);
    record_account_free(&a);
    if (r < 0)
        return r;
    randombytes_buf(g.id, sizeof(g.id));
    randombytes_buf(g.key, sizeof(g.key));
    g.epoch = 0;
    r = group_enter(svc, sess, &g, 1, out);
    if (r == 0)
        log_info("group.created", "group=%02x%02x%02x%02x", g.id[0], g.id[1], g.id[2], g.id[3]);
    record_group_wipe(&g);
    return r;
}

int service_group_list(struct service *svc, struct service_session *sess, json_t **out)
{
    struct record_account a;
    struct record_group g;
    struct store_txn *txn;
    json_t *res = NULL, *arr;
    int r;

    *out = NULL;
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        return r;
    arr = json_array();
    res = json_pack("{s:o}", "groups", arr);
    if (res == NULL) {
        r = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < a.n_groups; i++) {
        json_t *gj;
        r = record_group_load(txn, svc->v, a.groups + i * 32, &g);
        if (r == -KITH_ENOTFOUND) {
            r = 0;
            continue;
        }
        if (r < 0)
            goto done;
        gj = svc_group_json(svc, txn, &g);
        record_group_wipe(&g);
        if (gj == NULL || json_array_append_new(arr, gj) != 0) {
            r = -ENOMEM;
            goto done;
        }
    }
    *out = res;
    res = NULL;
done:
    json_decref(res);
    store_txn_end(txn);
    record_account_free(&a);
    return r;
}

int service_group_invite(struct service *svc, struct service_session *sess, const char *group,
                         json_t **out)
{
    struct record_account a;
    struct record_group g;
    struct kith_invite inv;
    struct store_txn *txn;
    char code[KITH_INVITE_TEXT_MAX];
    int r;

    *out = NULL;
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        return r;
    r = svc_group_resolve(svc, txn, &a, group, &g);
    store_txn_end(txn);
    record_account_free(&a);
    if (r < 0)
        return r;
    memset(&inv, 0, sizeof(inv));
    memcpy(inv.group_id, g.id, sizeof(inv.group_id));
    inv.epoch = g.epoch;
    memcpy(inv.group_key, g.key, sizeof(inv.group_key));
    memcpy(inv.name, g.name, sizeof(inv.name));
    r = kith_invite_encode(&inv, code, sizeof(code));
    sodium_memzero(&inv, sizeof(inv));
    if (r == 0) {
        char hex[65];

        svc_hex(g.id, 32, hex);
        *out = json_pack("{s:s,s:s,s:s}", "code", code, "group_id", hex, "name", g.name);
        r = *out != NULL ? 0 : -ENOMEM;
    }
    sodium_memzero(code, sizeof(code));
    record_group_wipe(&g);
    return r;
}

int service_group_join(struct service *svc, struct service_session *sess, const char *code,
                       json_t **out)
{
    struct kith_invite inv;
    struct record_account a;
    struct record_group g, held;
    struct store_txn *txn;
    int r, save = 1;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    r = kith_invite_decode(code, strlen(code), &inv);
    if (r < 0)
        return r;
    memcpy(g.id, inv.group_id, 32);
    memcpy(g.key, inv.group_key, 32);
    g.epoch = inv.epoch;
    r = record_name_clean(inv.name, g.name);
    sodium_memzero(&inv, sizeof(inv));
    if (r < 0)
        goto done;
    record_topics_default(svc->content_dir, &g);
    r = svc_begin_account(svc, sess, &txn, &a);
    if (r < 0)
        goto done;
    if (record_account_has_group(&a, g.id)) {
        r = -KITH_EEXIST;
    } else {
        r = record_group_load(txn, svc->v, g.id, &held);
        if (r == 0) {
            /* The node already holds the group (another account is in
             * it): keep its record, but a code with another key for the
             * same id is not one we can trust. */
            if (sodium_memcmp(held.key, g.key, 32) != 0 || held.epoch != g.epoch) {
                r = -KITH_EINVITE;
            } else {
                save = 0;
                memcpy(g.name, held.name, sizeof(g.name));
                memcpy(g.topics, held.topics, sizeof(g.topics));
                g.n_topics = held.n_topics;
            }
        } else if (r == -KITH_ENOTFOUND) {
            r = 0;
        }
        record_group_wipe(&held);
    }
    store_txn_end(txn);
    record_account_free(&a);
    if (r < 0)
        goto done;
    r = group_enter(svc, sess, &g, save, out);
    if (r == 0)
        log_info("group.joined", "group=%02x%02x%02x%02x new=%d", g.id[0], g.id[1], g.id[2],
                 g.id[3], save);
done:
    record_group_wipe(&g);
    return r;
}
