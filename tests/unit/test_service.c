/*
 * Tests for the service layer (node/service*.c): accounts, sessions, the
 * unlock rate limit, groups and invites (on one node and across two nodes),
 * posts, replies, deletes, threads, export, the hybrid logical clock and
 * service_accept_post with forged, tampered and out-of-order posts. Every
 * test runs over a real store and vault in its own mkdtemp directory, with
 * an injected clock.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kith/error.h"
#include "kith/invite.h"
#include "kith/post.h"
#include "service.h"
#include "store.h"
#include "vault.h"

#define T0 1700000000000ull /* 2023-11-14T22:13:20Z */

struct node {
    char dir[64];
    struct store *st;
    struct vault *v;
    struct service *svc;
    uint64_t clock;
};

static struct node n1, n2;

static uint64_t test_clock(void *arg)
{
    return *(uint64_t *)arg;
}

static void node_open(struct node *n, const char *content_dir, uint32_t idle_s)
{
    char key[128];
    struct service_config cfg = {0};

    strcpy(n->dir, "/tmp/kith-svc-XXXXXX");
    cr_assert_not_null(mkdtemp(n->dir));
    cr_assert_eq(store_open(n->dir, &n->st), 0);
    snprintf(key, sizeof key, "%s/node.key", n->dir);
    cr_assert_eq(vault_open_keyfile(n->st, key, &n->v), 0);
    n->clock = T0;
    cfg.content_dir = content_dir;
    cfg.session_idle_s = idle_s;
    cfg.now_ms = test_clock;
    cfg.now_arg = &n->clock;
    cfg.data_dir = n->dir;
    cfg.socket_path = "/nowhere/kithd.sock";
    cr_assert_eq(service_open(n->st, n->v, &cfg, &n->svc), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void node_close(struct node *n)
{
    if (n->svc == NULL && n->st == NULL)
        return;
    service_close(n->svc);
    vault_close(n->v);
    store_close(n->st);
    nftw(n->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    memset(n, 0, sizeof(*n));
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    memset(&n1, 0, sizeof n1);
    memset(&n2, 0, sizeof n2);
    node_open(&n1, KITH_SOURCE_DIR "/content", 600);
}

static void teardown(void)
{
    node_close(&n1);
    node_close(&n2);
}

// cppcheck-suppress unknownMacro
TestSuite(service, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ---- */

static struct service_session *account(struct node *n, const char *name)
{
    struct service_session *s = NULL;

    cr_assert_eq(service_account_create(n->svc, name, "pass phrase", 11, &s), 0);
    return s;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    cr_assert_not_null(s, "no string %s", key);
    return s;
}

static long long jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "no integer %s", key);
    return json_integer_value(v);
}

/* Create a group and return its id (hex, static buffer per call site). */
static void group(struct node *n, struct service_session *s, const char *name, char id[65])
{
    json_t *g = NULL;

    cr_assert_eq(service_group_create(n->svc, s, name, NULL, 0, &g), 0);
    strcpy(id, jstr(g, "group_id"));
    json_decref(g);
}

static void post(struct node *n, struct service_session *s, const char *group, const char *topic,
                 const char *title, const char *body, char id[65])
{
    json_t *p = NULL;

    cr_assert_eq(service_post_create(n->svc, s, group, topic, title, body, strlen(body), &p), 0);
    strcpy(id, jstr(p, "id"));
    json_decref(p);
}

static void reply(struct node *n, struct service_session *s, const char *parent, const char *body,
                  char id[65])
{
    json_t *p = NULL;

    cr_assert_eq(service_post_reply(n->svc, s, parent, body, strlen(body), &p), 0);
    strcpy(id, jstr(p, "id"));
    json_decref(p);
}

static void invite(struct node *n, struct service_session *s, const char *group,
                   char code[KITH_INVITE_TEXT_MAX])
{
    json_t *r = NULL;

    cr_assert_eq(service_group_invite(n->svc, s, group, &r), 0);
    strcpy(code, jstr(r, "code"));
    json_decref(r);
}

static void group_key(const char *code, uint8_t gid[32], uint8_t key[32])
{
    struct kith_invite inv;

    cr_assert_eq(kith_invite_decode(code, strlen(code), &inv), 0);
    memcpy(gid, inv.group_id, 32);
    memcpy(key, inv.group_key, 32);
}

static void unhex(const char *hex, uint8_t out[32])
{
    cr_assert_eq(sodium_hex2bin(out, 32, hex, 64, NULL, NULL, NULL), 0);
}

/* A post made outside the service, as a peer would send it. */
struct built {
    uint8_t sealed[4096];
    size_t len;
    uint8_t id[32];
    char hex[65];
};

static void build(struct built *b, const uint8_t gid[32], const uint8_t key[32],
                  const uint8_t sk[64], uint8_t kind, const uint8_t *parent, const char *title,
                  const char *body, uint64_t ms)
{
    struct kith_post p;

    memset(&p, 0, sizeof p);
    p.outer.version = KITH_POST_VERSION;
    memcpy(p.outer.group_id, gid, 32);
    p.outer.created_ms = ms;
    randombytes_buf(p.outer.nonce, sizeof p.outer.nonce);
    p.kind = kind;
    if (parent != NULL) {
        p.has_parent = 1;
        memcpy(p.parent, parent, 32);
    }
    p.title = title;
    p.title_len = title != NULL ? strlen(title) : 0;
    p.body = body;
    p.body_len = body != NULL ? strlen(body) : 0;
    cr_assert_eq(kith_post_sign(&p, sk, b->sealed, sizeof b->sealed), 0);
    cr_assert_eq(kith_post_seal(&p, key, b->sealed, sizeof b->sealed, &b->len), 0);
    kith_post_id(b->sealed, b->len, b->id);
    sodium_bin2hex(b->hex, sizeof b->hex, b->id, 32);
}

static uint64_t store_posts(struct node *n)
{
    struct store_txn *txn;
    struct store_stats st;

    cr_assert_eq(store_read_begin(n->st, &txn), 0);
    cr_assert_eq(store_stats(txn, &st), 0);
    store_txn_end(txn);
    return st.posts;
}

static int held(struct node *n, const uint8_t id[32])
{
    struct store_txn *txn;
    const uint8_t *s;
    size_t len;
    int r;

    cr_assert_eq(store_read_begin(n->st, &txn), 0);
    r = store_post_get(txn, id, &s, &len);
    store_txn_end(txn);
    return r;
}

static json_t *show(struct node *n, struct service_session *s, const char *id)
{
    json_t *t = NULL;

    int r = service_thread_show(n->svc, s, id, &t);

    cr_assert_eq(r, 0, "thread.show %s: %s", id, kith_errname(r));
    return t;
}

static json_t *threads(struct node *n, struct service_session *s, const char *group,
                       const char *topic, size_t limit)
{
    json_t *t = NULL;

    cr_assert_eq(service_thread_list(n->svc, s, group, topic, limit, &t), 0);
    return json_object_get(t, "threads") != NULL ? t : NULL;
}

/* ---- accounts and sessions ---- */

Test(service, account_create_unlock_names)
{
    struct service_session *a, *b = NULL, *f = NULL;
    char token[SERVICE_TOKEN_HEX + 1], long_name[70];
    uint8_t pk[32];

    a = account(&n1, "  Ana ");
    cr_assert_str_eq(service_session_name(a), "Ana");
    cr_assert_eq(strlen(service_session_token(a)), SERVICE_TOKEN_HEX);
    memcpy(pk, service_session_public_key(a), 32);
    strcpy(token, service_session_token(a));
    cr_assert_eq(service_session_find(n1.svc, token, &f), 0);
    cr_assert_eq(f, a);

    cr_assert_eq(service_account_create(n1.svc, "ana", "x", 1, &b), -KITH_EEXIST);
    cr_assert_null(b);
    cr_assert_eq(service_account_create(n1.svc, "   ", "x", 1, &b), -KITH_ENAME);
    cr_assert_eq(service_account_create(n1.svc, "a\x01", "x", 1, &b), -KITH_ENAME);
    cr_assert_eq(service_account_create(n1.svc, "bad\xff", "x", 1, &b), -KITH_ENAME);
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    cr_assert_eq(service_account_create(n1.svc, long_name, "x", 1, &b), -KITH_ENAME);

    cr_assert_eq(service_account_unlock(n1.svc, "ANA", "pass phrase", 11, &b), 0);
    cr_assert_str_eq(service_session_name(b), "Ana");
    cr_assert_eq(memcmp(service_session_public_key(b), pk, 32), 0);
    cr_assert_str_neq(service_session_token(b), token);

    b = NULL;
    cr_assert_eq(service_account_unlock(n1.svc, "Ana", "pass phrasE", 11, &b), -KITH_EPASSPHRASE);
    cr_assert_null(b);
    cr_assert_eq(service_account_unlock(n1.svc, "Nobody", "pass phrase", 11, &b),
                 -KITH_EPASSPHRASE);

    service_account_lock(n1.svc, a);
    cr_assert_eq(service_session_find(n1.svc, token, &f), -KITH_ELOCKED);
    cr_assert_eq(service_session_find(n1.svc, "zz", &f), -KITH_ELOCKED);
    cr_assert_null(f);
}

Test(service, unlock_rate_limit)
{
    struct service_session *s = NULL;

    account(&n1, "Bo");
    for (int i = 0; i < SERVICE_UNLOCK_FREE_TRIES; i++)
        cr_assert_eq(service_account_unlock(n1.svc, "bo", "wrong", 5, &s), -KITH_EPASSPHRASE);
    /* Refused without trying, even with the right passphrase. */
    cr_assert_eq(service_account_unlock(n1.svc, "bo", "pass phrase", 11, &s), -KITH_ERATELIMIT);
    n1.clock += 999;
    cr_assert_eq(service_account_unlock(n1.svc, "BO", "pass phrase", 11, &s), -KITH_ERATELIMIT);
    n1.clock += 1;
    /* A 6th failure doubles the delay to 2 s. */
    cr_assert_eq(service_account_unlock(n1.svc, "bo", "wrong", 5, &s), -KITH_EPASSPHRASE);
    n1.clock += 1999;
    cr_assert_eq(service_account_unlock(n1.svc, "bo", "pass phrase", 11, &s), -KITH_ERATELIMIT);
    n1.clock += 1;
    cr_assert_eq(service_account_unlock(n1.svc, "bo", "pass phrase", 11, &s), 0);
    /* Success resets the count. */
    cr_assert_eq(service_account_unlock(n1.svc, "bo", "wrong", 5, &s), -KITH_EPASSPHRASE);
    cr_assert_eq(service_account_unlock(n1.svc, "bo", "pass phrase", 11, &s), 0);

    /* Unknown names are limited the same way (nothing tells them apart). */
    for (int i = 0; i < SERVICE_UNLOCK_FREE_TRIES; i++)
        cr_assert_eq(service_account_unlock(n1.svc, "ghost", "x", 1, &s), -KITH_EPASSPHRASE);
    cr_assert_eq(service_account_unlock(n1.svc, "ghost", "x", 1, &s), -KITH_ERATELIMIT);
}

Test(service, session_expiry)
{
    struct service_session *a, *f;
    char token[SERVICE_TOKEN_HEX + 1];
    json_t *st = NULL;

    node_close(&n1);
    node_open(&n1, NULL, 60);
    a = account(&n1, "Cy");
    strcpy(token, service_session_token(a));
    n1.clock += 59000;
    cr_assert_eq(service_session_find(n1.svc, token, &f), 0);
    n1.clock += 59000; /* used 59 s ago: still alive */
    cr_assert_eq(service_session_find(n1.svc, token, &f), 0);
    n1.clock -= 3600000; /* a clock that jumps back does not end it */
    service_tick(n1.svc);
    n1.clock += 3600000;
    cr_assert_eq(service_session_find(n1.svc, token, &f), 0);
    n1.clock += 60000;
    service_tick(n1.svc);
    cr_assert_eq(service_status(n1.svc, &st), 0);
    cr_assert_eq(jint(st, "sessions"), 0);
    json_decref(st);
    cr_assert_eq(service_session_find(n1.svc, token, &f), -KITH_ELOCKED);
    cr_assert_eq(service_account_unlock(n1.svc, "cy", "pass phrase", 11, &a), 0);
}

/* ---- groups ---- */

Test(service, group_create_list_topics)
{
    struct service_session *a = account(&n1, "Di");
    const char *mine[] = {"Rota", "Budget"}, *bad[] = {""};
    json_t *g = NULL, *l = NULL, *topics;
    char id[65];

    cr_assert_eq(service_group_create(n1.svc, a, " Walkers ", NULL, 0, &g), 0);
    cr_assert_str_eq(jstr(g, "name"), "Walkers");
    cr_assert_eq(strlen(jstr(g, "group_id")), 64);
    topics = json_object_get(g, "topics");
    cr_assert_eq(json_array_size(topics), 8);
    cr_assert_str_eq(json_string_value(json_array_get(topics, 0)),
                     "Finding out about personal budgets");
    cr_assert_str_eq(json_string_value(json_array_get(topics, 7)), "Something else");
    cr_assert_eq(jint(g, "posts"), 0); /* the profile post is not counted */
    strcpy(id, jstr(g, "group_id"));
    json_decref(g);

    cr_assert_eq(service_group_create(n1.svc, a, "walkers", NULL, 0, &g), -KITH_EEXIST);
    cr_assert_eq(service_group_create(n1.svc, a, "", NULL, 0, &g), -KITH_ENAME);
    cr_assert_eq(service_group_create(n1.svc, a, "Other", bad, 1, &g), -KITH_ENAME);
    cr_assert_null(g);
    cr_assert_eq(service_group_create(n1.svc, a, "Rota club", mine, 2, &g), 0);
    cr_assert_eq(json_array_size(json_object_get(g, "topics")), 2);
    json_decref(g);

    cr_assert_eq(service_group_list(n1.svc, a, &l), 0);
    cr_assert_eq(json_array_size(json_object_get(l, "groups")), 2);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(l, "groups"), 0), "group_id"), id);
    json_decref(l);

    /* Resolution: name ignoring case, or an id prefix; "r" is no name. */
    cr_assert_eq(service_group_invite(n1.svc, a, "WALKERS", &g), 0);
    json_decref(g);
    char prefix[7];
    memcpy(prefix, id, 6);
    prefix[6] = '\0';
    cr_assert_eq(service_group_invite(n1.svc, a, prefix, &g), 0);
    cr_assert_str_eq(jstr(g, "name"), "Walkers");
    json_decref(g);
    cr_assert_eq(service_group_invite(n1.svc, a, "nothing", &g), -KITH_ENOTFOUND);
}

Test(service, builtin_topics_without_content_dir)
{
    struct service_session *a;
    json_t *g = NULL;

    node_close(&n1);
    node_open(&n1, "/nonexistent", 600);
    a = account(&n1, "Ed");
    cr_assert_eq(service_group_create(n1.svc, a, "G", NULL, 0, &g), 0);
    cr_assert_eq(json_array_size(json_object_get(g, "topics")), 8);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(g, "topics"), 3)),
                     "Employing a personal assistant");
    json_decref(g);
}

Test(service, invite_join_same_node)
{
    struct service_session *a = account(&n1, "Ana"), *b = account(&n1, "Ben");
    char gid[65], code[KITH_INVITE_TEXT_MAX], pid[65];
    json_t *g = NULL, *t, *p;

    group(&n1, a, "Walkers", gid);
    cr_assert_eq(service_thread_list(n1.svc, b, "Walkers", NULL, 0, &g), -KITH_ENOTFOUND);
    cr_assert_eq(service_thread_list(n1.svc, b, gid, NULL, 0, &g), -KITH_ENOTMEMBER);
    invite(&n1, a, "walkers", code);
    cr_assert_eq(strncmp(code, "kith1-", 6), 0);
    cr_assert_eq(service_group_join(n1.svc, b, "kith1-garbage", &g), -KITH_EINVITE);
    cr_assert_eq(service_group_join(n1.svc, b, code, &g), 0);
    cr_assert_str_eq(jstr(g, "group_id"), gid);
    cr_assert_str_eq(jstr(g, "name"), "Walkers");
    json_decref(g);
    cr_assert_eq(service_group_join(n1.svc, b, code, &g), -KITH_EEXIST);
    cr_assert_eq(service_group_join(n1.svc, a, code, &g), -KITH_EEXIST);

    post(&n1, b, "walkers", NULL, "Hi", "from Ben", pid);
    t = show(&n1, a, pid);
    p = json_object_get(t, "post");
    cr_assert_str_eq(jstr(p, "author"), "Ben");
    cr_assert_str_eq(jstr(p, "body"), "from Ben");
    cr_assert_str_eq(jstr(p, "group"), "Walkers");
    json_decref(t);
}

struct idset {
    uint8_t ids[16][32];
    size_t n;
};

static int collect(const uint8_t id[32], uint64_t ms, void *arg)
{
    struct idset *got = arg;

    cr_assert(got->n < 16);
    memcpy(got->ids[got->n++], id, 32);
    return 0;
}

Test(service, join_on_second_node_and_sync_by_accept)
{
    struct service_session *a = account(&n1, "Ana"), *c;
    char gid[65], code[KITH_INVITE_TEXT_MAX], pid[65];
    struct store_txn *txn;
    uint8_t graw[32];
    json_t *g = NULL, *t, *first;

    group(&n1, a, "Walkers", gid);
    invite(&n1, a, "Walkers", code);
    node_open(&n2, NULL, 600);
    c = account(&n2, "Cat");
    cr_assert_eq(service_group_join(n2.svc, c, code, &g), 0);
    cr_assert_str_eq(jstr(g, "group_id"), gid);
    cr_assert_str_eq(jstr(g, "name"), "Walkers");
    json_decref(g);
    n2.clock = T0 + 5000;
    post(&n2, c, "Walkers", "Assessments", "From node 2", "hello over there", pid);

    /* Carry every post of the group from node 2 to node 1, as sync will. */
    unhex(gid, graw);
    struct idset got = {.n = 0};
    cr_assert_eq(store_read_begin(n2.st, &txn), 0);
    cr_assert_eq(store_group_posts(txn, graw, collect, &got), 0);
    cr_assert_eq(got.n, 2); /* Cat's profile and post */
    for (size_t i = 0; i < got.n; i++) {
        const uint8_t *s;
        size_t len;
        uint8_t copy[4096];
        cr_assert_eq(store_post_get(txn, got.ids[i], &s, &len), 0);
        memcpy(copy, s, len);
        cr_assert_eq(service_accept_post(n1.svc, copy, len), 0);
        cr_assert_eq(service_accept_post(n1.svc, copy, len), -KITH_EEXIST);
    }
    store_txn_end(txn);

    t = threads(&n1, a, "walkers", NULL, 0);
    cr_assert_eq(json_array_size(json_object_get(t, "threads")), 1);
    first = json_array_get(json_object_get(t, "threads"), 0);
    cr_assert_str_eq(jstr(first, "id"), pid);
    cr_assert_str_eq(jstr(first, "author"), "Cat");
    cr_assert_str_eq(jstr(first, "topic"), "Assessments");
    cr_assert_str_eq(jstr(first, "body"), "hello over there");
    json_decref(t);
}

/* ---- posts ---- */

Test(service, post_limits)
{
    struct service_session *a = account(&n1, "Ana");
    char gid[65], title[KITH_POST_TITLE_MAX + 2], *big;
    json_t *p = NULL;

    group(&n1, a, "G", gid);
    cr_assert_eq(service_post_create(n1.svc, a, "G", NULL, NULL, "", 0, &p), -KITH_EREQUEST);
    big = malloc(KITH_POST_BODY_MAX + 1);
    memset(big, 'x', KITH_POST_BODY_MAX + 1);
    cr_assert_eq(service_post_create(n1.svc, a, "G", NULL, NULL, big, KITH_POST_BODY_MAX + 1, &p),
                 -KITH_ETOOBIG);
    cr_assert_eq(service_post_create(n1.svc, a, "G", NULL, NULL, big, KITH_POST_BODY_MAX, &p), 0);
    cr_assert_eq(strlen(jstr(p, "body")), KITH_POST_BODY_MAX);
    {
        /* The largest post also reads back from the store. */
        json_t *t = NULL;
        cr_assert_eq(service_thread_show(n1.svc, a, jstr(p, "id"), &t), 0);
        cr_assert_eq(strlen(jstr(json_object_get(t, "post"), "body")), KITH_POST_BODY_MAX);
        json_decref(t);
    }
    json_decref(p);
    free(big);
    memset(title, 't', sizeof title);
    title[KITH_POST_TITLE_MAX + 1] = '\0';
    cr_assert_eq(service_post_create(n1.svc, a, "G", NULL, title, "b", 1, &p), -KITH_ETOOBIG);
    cr_assert_eq(service_post_create(n1.svc, a, "G", "x", "t\x01", "b", 1, &p), -KITH_EENCODING);
    /* CRLF becomes LF; a known topic takes the group's spelling. */
    cr_assert_eq(service_post_create(n1.svc, a, "G", "ASSESSMENTS", NULL, "a\r\nb", 4, &p), 0);
    cr_assert_str_eq(jstr(p, "body"), "a\nb");
    cr_assert_str_eq(jstr(p, "topic"), "Assessments");
    cr_assert_str_eq(jstr(p, "kind"), "post");
    cr_assert(json_is_null(json_object_get(p, "parent")));
    cr_assert(json_is_false(json_object_get(p, "deleted")));
    cr_assert_str_eq(jstr(p, "author"), "Ana");
    json_decref(p);
    cr_assert_eq(service_post_reply(n1.svc, a, "zz", "b", 1, &p), -KITH_EREQUEST);
    cr_assert_eq(service_post_reply(n1.svc, a, "0000000000", "b", 1, &p), -KITH_ENOTFOUND);
}

Test(service, reply_delete_rules)
{
    struct service_session *a = account(&n1, "Ana"), *b = account(&n1, "Ben");
    char gid[65], code[KITH_INVITE_TEXT_MAX], root[65], r1[65], r2[65], prefix[9];
    uint8_t raw[32];
    json_t *g = NULL, *t, *p, *rep;
    uint64_t before;

    group(&n1, a, "Walkers", gid);
    invite(&n1, a, "Walkers", code);
    cr_assert_eq(service_group_join(n1.svc, b, code, &g), 0);
    json_decref(g);
    post(&n1, a, "Walkers", "Everyday life", "Buses", "the 12 is late", root);
    memcpy(prefix, root, 8);
    prefix[8] = '\0';
    reply(&n1, b, prefix, "so is the 14", r1);
    reply(&n1, a, r1, "noted", r2); /* a reply to a reply joins the same thread */

    t = show(&n1, b, r2);
    p = json_object_get(t, "post");
    rep = json_object_get(t, "replies");
    cr_assert_str_eq(jstr(p, "id"), root);
    cr_assert_eq(json_array_size(rep), 2);
    cr_assert_str_eq(jstr(json_array_get(rep, 0), "id"), r1);
    cr_assert_str_eq(jstr(json_array_get(rep, 0), "topic"), "Everyday life");
    cr_assert_str_eq(jstr(json_array_get(rep, 0), "parent"), root);
    cr_assert_str_eq(jstr(json_array_get(rep, 1), "parent"), r1);
    cr_assert_str_eq(jstr(json_array_get(rep, 1), "kind"), "reply");
    json_decref(t);

    before = store_posts(&n1);
    cr_assert_eq(service_post_delete(n1.svc, b, root, &g), -KITH_ENOTYOURS);
    cr_assert_null(g);
    cr_assert_eq(store_posts(&n1), before);
    cr_assert_eq(service_post_delete(n1.svc, a, prefix, &g), 0);
    cr_assert_str_eq(jstr(g, "id"), root);
    cr_assert(json_is_true(json_object_get(g, "deleted")));
    json_decref(g);
    unhex(root, raw);
    cr_assert_eq(held(&n1, raw), -KITH_EDELETED);
    cr_assert_eq(service_post_delete(n1.svc, a, root, &g), -KITH_EDELETED);
    cr_assert_eq(service_post_reply(n1.svc, b, root, "x", 1, &g), -KITH_EDELETED);

    /* The deleted root shows as deleted; its replies still show. */
    t = show(&n1, b, root);
    p = json_object_get(t, "post");
    cr_assert(json_is_true(json_object_get(p, "deleted")));
    cr_assert_null(json_object_get(p, "body"));
    cr_assert_null(json_object_get(p, "title"));
    cr_assert_str_eq(jstr(p, "author"), "Ana");
    cr_assert_eq(json_array_size(json_object_get(t, "replies")), 2);
    json_decref(t);

    cr_assert_eq(service_post_delete(n1.svc, b, r1, &g), 0);
    json_decref(g);
    t = show(&n1, a, r2);
    rep = json_object_get(t, "replies");
    cr_assert(json_is_true(json_object_get(json_array_get(rep, 0), "deleted")));
    cr_assert_str_eq(jstr(json_array_get(rep, 0), "author"), "Ben");
    cr_assert_str_eq(jstr(json_array_get(rep, 1), "body"), "noted");
    json_decref(t);
}

Test(service, thread_list_order_and_filters)
{
    struct service_session *a = account(&n1, "Ana");
    char gid[65], p1[65], p2[65], p3[65], r[65], lone[65];
    json_t *t, *arr, *g = NULL;

    group(&n1, a, "G", gid);
    n1.clock = T0 + 1000;
    post(&n1, a, "G", "Assessments", "one", "first", p1);
    n1.clock = T0 + 2000;
    post(&n1, a, "G", "Direct payments", "two", "second", p2);
    n1.clock = T0 + 3000;
    post(&n1, a, "G", "Assessments", "three", "third", p3);
    n1.clock = T0 + 4000;
    reply(&n1, a, p1, "bump", r);
    n1.clock = T0 + 5000;
    post(&n1, a, "G", NULL, "lone", "gone soon", lone);
    cr_assert_eq(service_post_delete(n1.svc, a, lone, &g), 0);
    json_decref(g);

    t = threads(&n1, a, "G", NULL, 0);
    arr = json_object_get(t, "threads");
    cr_assert_eq(json_array_size(arr), 3); /* no profile, no delete, no empty deleted root */
    cr_assert_str_eq(jstr(json_array_get(arr, 0), "id"), p1);
    cr_assert_eq(jint(json_array_get(arr, 0), "replies"), 1);
    cr_assert_eq(jint(json_array_get(arr, 0), "last_ms"), T0 + 4000);
    cr_assert_str_eq(jstr(json_array_get(arr, 1), "id"), p3);
    cr_assert_eq(jint(json_array_get(arr, 1), "replies"), 0);
    cr_assert_eq(jint(json_array_get(arr, 1), "last_ms"), T0 + 3000);
    cr_assert_str_eq(jstr(json_array_get(arr, 2), "id"), p2);
    json_decref(t);

    t = threads(&n1, a, "G", NULL, 2);
    cr_assert_eq(json_array_size(json_object_get(t, "threads")), 2);
    json_decref(t);
    t = threads(&n1, a, "G", "assessments", 0);
    arr = json_object_get(t, "threads");
    cr_assert_eq(json_array_size(arr), 2);
    cr_assert_str_eq(jstr(json_array_get(arr, 0), "id"), p1);
    cr_assert_str_eq(jstr(json_array_get(arr, 1), "id"), p3);
    json_decref(t);

    /* Deleting a root with a reply keeps it listed, as deleted. */
    cr_assert_eq(service_post_delete(n1.svc, a, p1, &g), 0);
    json_decref(g);
    t = threads(&n1, a, "G", NULL, 0);
    arr = json_object_get(t, "threads");
    cr_assert_eq(json_array_size(arr), 3);
    cr_assert_str_eq(jstr(json_array_get(arr, 0), "id"), p1);
    cr_assert(json_is_true(json_object_get(json_array_get(arr, 0), "deleted")));
    cr_assert_eq(jint(json_array_get(arr, 0), "created_ms"), T0 + 1000);
    json_decref(t);

    cr_assert_eq(service_group_list(n1.svc, a, &g), 0);
    cr_assert_eq(jint(json_array_get(json_object_get(g, "groups"), 0), "posts"), 3);
    json_decref(g);
}

Test(service, hlc_never_goes_back)
{
    struct service_session *a = account(&n1, "Ana");
    char gid[65], code[KITH_INVITE_TEXT_MAX], id[65];
    uint8_t graw[32], key[32], pk[32], sk[64];
    struct built far;
    json_t *p = NULL;

    group(&n1, a, "G", gid);
    n1.clock = T0 + 10000;
    cr_assert_eq(service_post_create(n1.svc, a, "G", NULL, NULL, "x", 1, &p), 0);
    cr_assert_eq(jint(p, "created_ms"), T0 + 10000);
    json_decref(p);
    n1.clock = 0; /* a Pi that thinks it is 1970 */
    cr_assert_eq(service_post_create(n1.svc, a, "G", NULL, NULL, "y", 1, &p), 0);
    cr_assert_eq(jint(p, "created_ms"), T0 + 10001);
    strcpy(id, jstr(p, "id"));
    json_decref(p);
    cr_assert_eq(service_post_reply(n1.svc, a, id, "z", 1, &p), 0);
    cr_assert_eq(jint(p, "created_ms"), T0 + 10002);
    json_decref(p);

    /* A post seen from a peer with a clock far ahead moves the stamp on. */
    invite(&n1, a, "G", code);
    group_key(code, graw, key);
    crypto_sign_keypair(pk, sk);
    build(&far, graw, key, sk, KITH_POST_KIND_POST, NULL, NULL, "from the future", T0 + 900000);
    cr_assert_eq(service_accept_post(n1.svc, far.sealed, far.len), 0);
    n1.clock = T0 + 20000;
    cr_assert_eq(service_post_create(n1.svc, a, "G", NULL, NULL, "w", 1, &p), 0);
    cr_assert_eq(jint(p, "created_ms"), T0 + 900001);
    json_decref(p);
}

Test(service, export_md_and_json)
{
    struct service_session *a = account(&n1, "Ana"), *b = account(&n1, "Ben");
    char gid[65], code[KITH_INVITE_TEXT_MAX], p1[65], p2[65], r1[65], rb[65], gone[65];
    json_t *e = NULL, *posts, *g = NULL;
    const char *md;

    group(&n1, a, "Walkers", gid);
    invite(&n1, a, "Walkers", code);
    cr_assert_eq(service_group_join(n1.svc, b, code, &g), 0);
    json_decref(g);
    n1.clock = T0 + 1000;
    post(&n1, a, "Walkers", "Assessments", "Hello", "my first words", p1);
    n1.clock = T0 + 2000;
    post(&n1, b, "Walkers", NULL, NULL, "ben's post", p2);
    n1.clock = T0 + 3000;
    reply(&n1, a, p2, "answering ben", r1);
    n1.clock = T0 + 4000;
    reply(&n1, b, p1, "ben answers", rb);
    n1.clock = T0 + 5000;
    post(&n1, a, "Walkers", NULL, "Oops", "DELETEDMARKER", gone);
    cr_assert_eq(service_post_delete(n1.svc, a, gone, &g), 0);
    json_decref(g);

    cr_assert_eq(service_export(n1.svc, a, SERVICE_EXPORT_JSON, &e), 0);
    cr_assert_str_eq(jstr(e, "format"), "json");
    posts = json_object_get(e, "posts");
    cr_assert_eq(json_array_size(posts), 2);
    cr_assert_str_eq(jstr(json_array_get(posts, 0), "id"), p1);
    cr_assert_str_eq(jstr(json_array_get(posts, 1), "id"), r1);
    cr_assert_null(json_object_get(json_array_get(posts, 1), "in_reply_to"));
    json_decref(e);

    cr_assert_eq(service_export(n1.svc, a, SERVICE_EXPORT_MD, &e), 0);
    cr_assert_str_eq(jstr(e, "format"), "md");
    md = jstr(e, "text");
    cr_assert_not_null(strstr(md, "# Posts by Ana\n"));
    cr_assert_not_null(strstr(md, "## Walkers · Assessments · 2023-11-14T22:13:21Z\n\n**Hello**\n"
                                  "\nmy first words\n"));
    cr_assert_not_null(strstr(md, "## Walkers · 2023-11-14T22:13:23Z\n\nIn reply to a post by "
                                  "Ben (post "));
    cr_assert_not_null(strstr(md, "answering ben"));
    cr_assert_null(strstr(md, "DELETEDMARKER"));
    cr_assert_null(strstr(md, "ben answers"));
    cr_assert_null(strstr(md, "ben's post"));
    json_decref(e);
}

Test(service, status_counts)
{
    struct service_session *a = account(&n1, "Ana");
    char gid[65], id[65];
    json_t *s = NULL, *g = NULL;

    group(&n1, a, "G", gid);
    post(&n1, a, "G", NULL, NULL, "x", id);
    cr_assert_eq(service_post_delete(n1.svc, a, id, &g), 0);
    json_decref(g);
    cr_assert_eq(service_status(n1.svc, &s), 0);
    cr_assert_eq(jint(s, "posts"), 3); /* profile, post (tombstone), delete */
    cr_assert_eq(jint(s, "tombstones"), 1);
    cr_assert_eq(jint(s, "groups"), 1);
    cr_assert_eq(jint(s, "accounts"), 1);
    cr_assert_eq(jint(s, "sessions"), 1);
    cr_assert_str_eq(jstr(s, "data_dir"), n1.dir);
    cr_assert_str_eq(jstr(s, "socket"), "/nowhere/kithd.sock");
    cr_assert_str_eq(jstr(s, "version"), "0.1.0");
    cr_assert(jint(s, "map_bytes") > 0);
    json_decref(s);
}

/* ---- accepting posts from peers ---- */

struct peer {
    uint8_t gid[32], key[32], pk[32], sk[64];
    struct service_session *a;
};

static void peer_setup(struct peer *p)
{
    char gid[65], code[KITH_INVITE_TEXT_MAX];

    p->a = account(&n1, "Ana");
    group(&n1, p->a, "G", gid);
    invite(&n1, p->a, "G", code);
    group_key(code, p->gid, p->key);
    crypto_sign_keypair(p->pk, p->sk);
}

Test(service, accept_refuses_forged_and_tampered)
{
    struct peer pe;
    struct built ok, b;
    uint8_t other_key[32], other_sk[64], other_pk[32];
    uint64_t before;

    peer_setup(&pe);
    before = store_posts(&n1);
    build(&ok, pe.gid, pe.key, pe.sk, KITH_POST_KIND_POST, NULL, "t", "genuine", T0);

    /* One flipped bit in the ciphertext, in the clear part, truncated. */
    b = ok;
    b.sealed[b.len - 20] ^= 0x01;
    cr_assert_eq(service_accept_post(n1.svc, b.sealed, b.len), -KITH_EDECRYPT);
    b = ok;
    b.sealed[KITH_POST_OUTER_BYTES - 1] ^= 0x80; /* the nonce */
    cr_assert_eq(service_accept_post(n1.svc, b.sealed, b.len), -KITH_EDECRYPT);
    b = ok;
    b.sealed[1] ^= 0x01; /* the group id: a group this node does not hold */
    cr_assert_eq(service_accept_post(n1.svc, b.sealed, b.len), -KITH_ENOTMEMBER);
    cr_assert_eq(service_accept_post(n1.svc, ok.sealed, 40), -KITH_ETRUNCATED);

    /* Sealed with another key. */
    randombytes_buf(other_key, 32);
    build(&b, pe.gid, other_key, pe.sk, KITH_POST_KIND_POST, NULL, "t", "wrong key", T0);
    cr_assert_eq(service_accept_post(n1.svc, b.sealed, b.len), -KITH_EDECRYPT);

    /* A signature that does not match: sign, then change the body. */
    {
        struct kith_post p;
        memset(&p, 0, sizeof p);
        p.outer.version = KITH_POST_VERSION;
        memcpy(p.outer.group_id, pe.gid, 32);
        p.outer.created_ms = T0;
        p.kind = KITH_POST_KIND_POST;
        p.body = "signed text";
        p.body_len = 11;
        cr_assert_eq(kith_post_sign(&p, pe.sk, b.sealed, sizeof b.sealed), 0);
        p.body = "forged text";
        cr_assert_eq(kith_post_seal(&p, pe.key, b.sealed, sizeof b.sealed, &b.len), 0);
        cr_assert_eq(service_accept_post(n1.svc, b.sealed, b.len), -KITH_ESIGNATURE);
    }

    /* A delete by someone other than the author. */
    cr_assert_eq(service_accept_post(n1.svc, ok.sealed, ok.len), 0);
    before++;
    crypto_sign_keypair(other_pk, other_sk);
    build(&b, pe.gid, pe.key, other_sk, KITH_POST_KIND_DELETE, ok.id, NULL, NULL, T0 + 1);
    cr_assert_eq(service_accept_post(n1.svc, b.sealed, b.len), -KITH_ENOTYOURS);
    cr_assert_eq(held(&n1, ok.id), 0);
    cr_assert_eq(store_posts(&n1), before);
    cr_assert_eq(held(&n1, b.id), -KITH_ENOTFOUND);
}

Test(service, delete_before_and_after_target)
{
    struct peer pe;
    struct built t1, d1, t2, d2, t3, d3;
    uint8_t o_pk[32], o_sk[64];
    json_t *l;

    peer_setup(&pe);
    /* The delete arrives first: kept; the target is held as deleted. */
    build(&t1, pe.gid, pe.key, pe.sk, KITH_POST_KIND_POST, NULL, "t", "BODY-ONE", T0 + 10);
    build(&d1, pe.gid, pe.key, pe.sk, KITH_POST_KIND_DELETE, t1.id, NULL, NULL, T0 + 20);
    cr_assert_eq(service_accept_post(n1.svc, d1.sealed, d1.len), 0);
    cr_assert_eq(held(&n1, t1.id), -KITH_ENOTFOUND);
    cr_assert_eq(service_accept_post(n1.svc, t1.sealed, t1.len), -KITH_EDELETED);
    cr_assert_eq(held(&n1, t1.id), -KITH_EDELETED);
    cr_assert_eq(service_accept_post(n1.svc, t1.sealed, t1.len), -KITH_EDELETED);

    /* The delete arrives after: the target's body goes. */
    build(&t2, pe.gid, pe.key, pe.sk, KITH_POST_KIND_POST, NULL, "t", "BODY-TWO", T0 + 30);
    build(&d2, pe.gid, pe.key, pe.sk, KITH_POST_KIND_DELETE, t2.id, NULL, NULL, T0 + 40);
    cr_assert_eq(service_accept_post(n1.svc, t2.sealed, t2.len), 0);
    cr_assert_eq(held(&n1, t2.id), 0);
    cr_assert_eq(service_accept_post(n1.svc, d2.sealed, d2.len), 0);
    cr_assert_eq(held(&n1, t2.id), -KITH_EDELETED);

    /* Someone else's early delete does not delete the post when it comes. */
    crypto_sign_keypair(o_pk, o_sk);
    build(&t3, pe.gid, pe.key, pe.sk, KITH_POST_KIND_POST, NULL, "t", "BODY-THREE", T0 + 50);
    build(&d3, pe.gid, pe.key, o_sk, KITH_POST_KIND_DELETE, t3.id, NULL, NULL, T0 + 60);
    cr_assert_eq(service_accept_post(n1.svc, d3.sealed, d3.len), 0);
    cr_assert_eq(service_accept_post(n1.svc, t3.sealed, t3.len), 0);
    cr_assert_eq(held(&n1, t3.id), 0);

    l = threads(&n1, pe.a, "G", NULL, 0);
    cr_assert_eq(json_array_size(json_object_get(l, "threads")), 1);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(l, "threads"), 0), "id"), t3.hex);
    /* No profile post from this author: the name is the key's first 8 hex. */
    char eight[9];
    sodium_bin2hex(eight, sizeof eight, pe.pk, 4);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(l, "threads"), 0), "author"), eight);
    json_decref(l);
}

Test(service, accept_reply_rules)
{
    struct peer pe;
    struct built root, rep, rep2, prof, bad;
    json_t *t;

    peer_setup(&pe);
    build(&root, pe.gid, pe.key, pe.sk, KITH_POST_KIND_POST, NULL, "t", "root", T0 + 10);
    build(&rep, pe.gid, pe.key, pe.sk, KITH_POST_KIND_REPLY, root.id, NULL, "r1", T0 + 20);
    build(&rep2, pe.gid, pe.key, pe.sk, KITH_POST_KIND_REPLY, rep.id, NULL, "r2", T0 + 30);
    build(&prof, pe.gid, pe.key, pe.sk, KITH_POST_KIND_PROFILE, NULL, "Pat", NULL, T0 + 5);
    cr_assert_eq(service_accept_post(n1.svc, prof.sealed, prof.len), 0);
    cr_assert_eq(service_accept_post(n1.svc, root.sealed, root.len), 0);
    cr_assert_eq(service_accept_post(n1.svc, rep.sealed, rep.len), 0);
    cr_assert_eq(service_accept_post(n1.svc, rep2.sealed, rep2.len), 0);
    /* A reply to a profile post is refused. */
    build(&bad, pe.gid, pe.key, pe.sk, KITH_POST_KIND_REPLY, prof.id, NULL, "x", T0 + 40);
    cr_assert_eq(service_accept_post(n1.svc, bad.sealed, bad.len), -KITH_EPARENT);
    cr_assert_eq(held(&n1, bad.id), -KITH_ENOTFOUND);

    t = show(&n1, pe.a, rep2.hex);
    cr_assert_str_eq(jstr(json_object_get(t, "post"), "id"), root.hex);
    cr_assert_str_eq(jstr(json_object_get(t, "post"), "author"), "Pat");
    cr_assert_eq(json_array_size(json_object_get(t, "replies")), 2);
    json_decref(t);
}

/* A thread read again is served from the service's cache: what changed in
 * between (a reply, an edit, a delete, a new display name) must show, and
 * a member of another group must not get it from the cache. */
Test(service, thread_shown_again_is_never_stale)
{
    struct service_session *a = account(&n1, "Ana"), *b = account(&n1, "Ben");
    char gid[65], other[65], root[65], r1[65];
    json_t *t, *g = NULL;

    group(&n1, a, "Walkers", gid);
    group(&n1, b, "Cyclists", other);
    post(&n1, a, "Walkers", "Everyday life", "Buses", "the 12 is late", root);
    t = show(&n1, a, root);
    json_decref(t);
    t = show(&n1, a, root); /* cached now */
    cr_assert_eq(json_array_size(json_object_get(t, "replies")), 0);
    json_decref(t);

    cr_assert_eq(service_thread_show(n1.svc, b, root, &t), -KITH_ENOTFOUND,
                 "a cached thread is still only for members of its group");

    reply(&n1, a, root, "so is the 14", r1);
    t = show(&n1, a, root);
    cr_assert_eq(json_array_size(json_object_get(t, "replies")), 1);
    json_decref(t);

    cr_assert_eq(service_post_edit(n1.svc, a, r1, NULL, "so is the 15", 12, &g), 0);
    json_decref(g);
    t = show(&n1, a, root);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(t, "replies"), 0), "body"),
                     "so is the 15");
    json_decref(t);

    cr_assert_eq(service_profile_set(n1.svc, a, "Ana B", &g), 0);
    json_decref(g);
    t = show(&n1, a, root);
    cr_assert_str_eq(jstr(json_object_get(t, "post"), "author"), "Ana B");
    json_decref(t);

    cr_assert_eq(service_post_delete(n1.svc, a, r1, &g), 0);
    json_decref(g);
    t = show(&n1, a, root);
    cr_assert(
        json_is_true(json_object_get(json_array_get(json_object_get(t, "replies"), 0), "deleted")));
    json_decref(t);

    /* The list of threads is cached the same way. */
    t = threads(&n1, a, "Walkers", NULL, 0);
    cr_assert_eq(json_array_size(json_object_get(t, "threads")), 1);
    json_decref(t);
    t = threads(&n1, a, "Walkers", NULL, 0);
    cr_assert_eq(json_array_size(json_object_get(t, "threads")), 1);
    json_decref(t);
    post(&n1, a, "Walkers", "Assessments", "Forms", "the form is long", r1);
    t = threads(&n1, a, "Walkers", NULL, 0);
    cr_assert_eq(json_array_size(json_object_get(t, "threads")), 2);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(t, "threads"), 0), "id"), r1);
    json_decref(t);
    t = threads(&n1, a, "Walkers", "Assessments", 0);
    cr_assert_eq(json_array_size(json_object_get(t, "threads")), 1);
    json_decref(t);
    t = NULL;
    cr_assert_lt(service_thread_list(n1.svc, b, gid, NULL, 0, &t), 0,
                 "a cached list is still only for members of its group");
    cr_assert_null(t);
}
