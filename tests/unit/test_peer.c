/*
 * test_peer: two sync sessions (node/peer.c) wired through an in-memory
 * transport pair on one libuv loop, each over a real node (store, vault,
 * service, identity in a temp dir): handshake, proofs with 0, 1 and 2
 * common groups, reconciliation of random differences both ways, deletes
 * converging, a forged and an undecryptable post, garbage frames, live
 * push, and the cost of one reconciliation (n = 10000, d = 10).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>
#include <uv.h>

#include "identity.h"
#include "kith/error.h"
#include "kith/wire.h"
#include "peer.h"
#include "reconset.h"
#include "record.h"
#include "service.h"

/* ---- an in-memory transport pair ---- */

struct mframe {
    struct mframe *next;
    size_t len;
    uint8_t b[];
};

struct memt {
    struct transport t;
    struct memt *peer;
    uv_idle_t idle;
    struct mframe *head, *tail;
    size_t inbox_bytes;
    int close_asked, closed, hup, paused, want_drain;
    uint64_t frames_out;
};

static void inbox_push(struct memt *m, const uint8_t *b, size_t len)
{
    struct mframe *f = malloc(sizeof(*f) + len);

    cr_assert_not_null(f);
    f->next = NULL;
    f->len = len;
    memcpy(f->b, b, len);
    if (m->tail != NULL)
        m->tail->next = f;
    else
        m->head = f;
    m->tail = f;
    m->inbox_bytes += len;
}

static void inbox_free(struct memt *m)
{
    while (m->head != NULL) {
        struct mframe *f = m->head;
        m->head = f->next;
        free(f);
    }
    m->tail = NULL;
    m->inbox_bytes = 0;
}

static int m_send(struct transport *t, const uint8_t *frame, size_t len)
{
    struct memt *m = (struct memt *)t;

    if (len == 0)
        return -KITH_EINVAL;
    if (len > TRANSPORT_FRAME_MAX)
        return -KITH_ETOOBIG;
    if (m->close_asked || m->closed || m->peer == NULL)
        return -EPIPE;
    if (m->peer->inbox_bytes >= TRANSPORT_QUEUE_MAX)
        return -ENOBUFS;
    inbox_push(m->peer, frame, len);
    m->want_drain = 1;
    m->frames_out++;
    return 0;
}

static size_t m_queued(const struct transport *t)
{
    const struct memt *m = (const struct memt *)t;

    return m->peer != NULL ? m->peer->inbox_bytes : 0;
}

static void m_ready(struct transport *t)
{
    (void)t;
}

static void m_pause(struct transport *t, int paused)
{
    ((struct memt *)t)->paused = paused;
}

static void m_close(struct transport *t)
{
    ((struct memt *)t)->close_asked = 1;
}

static const struct transport_ops mem_ops = {m_send, m_queued, m_ready, m_pause, m_close};

static void idle_closed(uv_handle_t *h)
{
    free(h->data);
}

static void fire_close(struct memt *m, int reason)
{
    m->closed = 1;
    if (m->peer != NULL) {
        m->peer->hup = 1;
        m->peer->peer = NULL;
    }
    m->peer = NULL;
    inbox_free(m);
    m->t.on_close(&m->t, reason);
    uv_idle_stop(&m->idle);
    uv_close((uv_handle_t *)&m->idle, idle_closed);
}

static void m_idle(uv_idle_t *h)
{
    struct memt *m = h->data, *sender;
    int n = 0;

    if (m->closed)
        return;
    while (m->head != NULL && !m->paused && !m->close_asked && n++ < 64) {
        struct mframe *f = m->head;
        m->head = f->next;
        if (m->head == NULL)
            m->tail = NULL;
        m->inbox_bytes -= f->len;
        m->t.on_frame(&m->t, f->b, f->len);
        free(f);
    }
    sender = m->peer;
    if (sender != NULL && m->head == NULL && sender->want_drain && !sender->closed) {
        sender->want_drain = 0;
        if (sender->t.on_drain != NULL)
            sender->t.on_drain(&sender->t);
    }
    if (m->close_asked)
        fire_close(m, 0);
    else if (m->hup && m->head == NULL)
        fire_close(m, -EPIPE);
}

static void memt_pair(uv_loop_t *loop, struct memt **a, struct memt **b)
{
    *a = calloc(1, sizeof(**a));
    *b = calloc(1, sizeof(**b));
    cr_assert((*a != NULL) && (*b != NULL));
    (*a)->peer = *b;
    (*b)->peer = *a;
    (*a)->t.ops = (*b)->t.ops = &mem_ops;
    snprintf((*a)->t.name, sizeof((*a)->t.name), "mem-out");
    snprintf((*b)->t.name, sizeof((*b)->t.name), "mem-in");
    (*b)->t.inbound = 1;
    uv_idle_init(loop, &(*a)->idle);
    uv_idle_init(loop, &(*b)->idle);
    (*a)->idle.data = *a;
    (*b)->idle.data = *b;
    uv_idle_start(&(*a)->idle, m_idle);
    uv_idle_start(&(*b)->idle, m_idle);
}

/* ---- a node ---- */

struct node {
    char dir[64];
    struct store *st;
    struct vault *v;
    struct service *svc;
    struct identity *id;
    struct service_session *sess;
    struct peer_group groups[8];
    size_t n_groups;
    struct peer_env env;
    struct peer *p;
    int ended, err, synced;
    enum peer_fault fault;
};

static uv_loop_t loop;

static void on_synced(struct peer *p, void *arg)
{
    struct node *n = arg;

    (void)p;
    n->synced++;
}

static void on_end(struct peer *p, int err, enum peer_fault fault, void *arg)
{
    struct node *n = arg;

    cr_assert_eq(p, n->p);
    n->ended = 1;
    n->err = err;
    n->fault = fault;
    n->p = NULL;
}

/* New posts go to the node's session, unless they came from it. */
static void on_post(void *arg, const uint8_t gid[32], const uint8_t id[32], uint64_t ms,
                    const uint8_t *sealed, size_t len, const void *origin)
{
    struct node *n = arg;

    (void)ms;
    (void)sealed;
    (void)len;
    if (n->p != NULL && origin != n->p)
        (void)peer_push(n->p, gid, id);
}

static void node_open(struct node *n, const char *name)
{
    struct service_config sc;
    char key[128];

    memset(n, 0, sizeof(*n));
    snprintf(n->dir, sizeof(n->dir), "/tmp/kith-peer-XXXXXX");
    cr_assert_not_null(mkdtemp(n->dir));
    cr_assert_eq(store_open(n->dir, &n->st), 0);
    snprintf(key, sizeof(key), "%s/node.key", n->dir);
    cr_assert_eq(vault_open_keyfile(n->st, key, &n->v), 0);
    memset(&sc, 0, sizeof(sc));
    cr_assert_eq(service_open(n->st, n->v, &sc, &n->svc), 0);
    cr_assert_eq(identity_open(n->st, n->v, &n->id), 0);
    cr_assert_eq(service_account_create(n->svc, name, "pw", 2, &n->sess), 0);
    service_set_post_hook(n->svc, on_post, n);
    n->env.loop = &loop;
    n->env.svc = n->svc;
    n->env.st = n->st;
    n->env.id = n->id;
    n->env.on_synced = on_synced;
    n->env.on_end = on_end;
    n->env.arg = n;
}

static void node_close(struct node *n)
{
    char cmd[128];

    sodium_memzero(n->groups, sizeof(n->groups));
    identity_close(n->id);
    service_close(n->svc);
    vault_close(n->v);
    store_close(n->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", n->dir);
    cr_assert_eq(system(cmd), 0);
}

static int gid_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    struct node *n = arg;

    (void)val;
    (void)vlen;
    cr_assert_eq(klen, 32);
    cr_assert_lt(n->n_groups, 8);
    memcpy(n->groups[n->n_groups++].id, key, 32);
    return 0;
}

/* The groups a session offers, as sync.c lists them. */
static void node_groups(struct node *n)
{
    struct store_txn *txn;

    n->n_groups = 0;
    cr_assert_eq(store_read_begin(n->st, &txn), 0);
    cr_assert_eq(store_each(txn, STORE_DB_GROUPS, gid_cb, n), 0);
    for (size_t i = 0; i < n->n_groups; i++) {
        struct record_group g;
        cr_assert_eq(record_group_load(txn, n->v, n->groups[i].id, &g), 0);
        memcpy(n->groups[i].key, g.key, 32);
        n->groups[i].epoch = g.epoch;
        record_group_wipe(&g);
    }
    store_txn_end(txn);
    n->env.groups = n->groups;
    n->env.n_groups = n->n_groups;
}

/* Create group name on a; join it from each node in others. gid out. */
static void group_share(struct node *a, const char *name, struct node **others, size_t n_others,
                        uint8_t gid[32])
{
    json_t *j;
    const char *code;

    cr_assert_eq(service_group_create(a->svc, a->sess, name, NULL, 0, &j), 0);
    cr_assert_eq(sodium_hex2bin(gid, 32, json_string_value(json_object_get(j, "group_id")), 64,
                                NULL, NULL, NULL),
                 0);
    json_decref(j);
    cr_assert_eq(service_group_invite(a->svc, a->sess, name, &j), 0);
    code = json_string_value(json_object_get(j, "code"));
    for (size_t i = 0; i < n_others; i++) {
        json_t *k;
        cr_assert_eq(service_group_join(others[i]->svc, others[i]->sess, code, &k), 0);
        json_decref(k);
    }
    json_decref(j);
}

/* ---- posts made outside the service (fast, many at once) ---- */

struct sealed {
    uint8_t *b;
    size_t len;
    uint8_t id[32];
};

static void group_key(struct node *n, const uint8_t gid[32], uint8_t key[32], uint32_t *epoch)
{
    struct store_txn *txn;
    struct record_group g;

    cr_assert_eq(store_read_begin(n->st, &txn), 0);
    cr_assert_eq(record_group_load(txn, n->v, gid, &g), 0);
    store_txn_end(txn);
    memcpy(key, g.key, 32);
    *epoch = g.epoch;
    record_group_wipe(&g);
}

static uint8_t author_pk[32], author_sk[64];

/* One post (kind, parent may be NULL) sealed under key. */
static struct sealed make_post(const uint8_t gid[32], const uint8_t key[32], uint32_t epoch,
                               uint64_t ms, uint8_t kind, const uint8_t *parent, int forge)
{
    struct kith_post p;
    struct sealed s;
    char body[64];
    size_t cap;

    memset(&p, 0, sizeof(p));
    p.outer.version = KITH_POST_VERSION;
    memcpy(p.outer.group_id, gid, 32);
    p.outer.epoch = epoch;
    p.outer.created_ms = ms;
    randombytes_buf(p.outer.nonce, sizeof(p.outer.nonce));
    p.kind = kind;
    if (parent != NULL) {
        p.has_parent = 1;
        memcpy(p.parent, parent, 32);
    }
    if (kind != KITH_POST_KIND_DELETE) {
        snprintf(body, sizeof(body), "post at %llu", (unsigned long long)ms);
        p.body = body;
        p.body_len = strlen(body);
    }
    cap = kith_post_sealed_size(&p);
    cr_assert_gt(cap, 0);
    s.b = malloc(cap);
    cr_assert_not_null(s.b);
    cr_assert_eq(kith_post_sign(&p, author_sk, s.b, cap), 0);
    if (forge)
        p.sig[0] ^= 1; /* a member's post whose signature does not verify */
    cr_assert_eq(kith_post_seal(&p, key, s.b, cap, &s.len), 0);
    kith_post_id(s.b, s.len, s.id);
    return s;
}

/* Store posts on n in one batch, as a session would (opened and verified). */
static void node_accept(struct node *n, const uint8_t key[32], struct sealed *v, size_t count)
{
    struct service_incoming *in = calloc(count, sizeof(*in));
    struct kith_post *posts = calloc(count, sizeof(*posts));
    uint8_t **plain = calloc(count, sizeof(*plain));
    size_t stored;

    cr_assert((in != NULL) && (posts != NULL) && (plain != NULL));
    for (size_t i = 0; i < count; i++) {
        plain[i] = malloc(v[i].len);
        cr_assert_eq(kith_post_open(v[i].b, v[i].len, key, plain[i], v[i].len, &posts[i]), 0);
        cr_assert_eq(kith_post_verify(&posts[i]), 0);
        in[i].sealed = v[i].b;
        in[i].len = v[i].len;
        memcpy(in[i].id, v[i].id, 32);
        in[i].post = &posts[i];
    }
    cr_assert_eq(service_accept_batch(n->svc, in, count, NULL, &stored), 0);
    for (size_t i = 0; i < count; i++)
        free(plain[i]);
    free(plain);
    free(posts);
    free(in);
}

static void sealed_free(struct sealed *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].b);
}

static void digest(struct node *n, const uint8_t gid[32], uint64_t *count, uint8_t fp[16])
{
    struct store_txn *txn;

    cr_assert_eq(store_read_begin(n->st, &txn), 0);
    cr_assert_eq(reconset_digest(txn, gid, count, fp), 0);
    store_txn_end(txn);
}

static int held(struct node *n, const uint8_t id[32])
{
    struct store_txn *txn;
    const uint8_t *b;
    size_t len;
    int r;

    cr_assert_eq(store_read_begin(n->st, &txn), 0);
    r = store_post_get(txn, id, &b, &len);
    store_txn_end(txn);
    return r;
}

/* ---- running sessions ---- */

static struct memt *ma, *mb;

static void link_nodes(struct node *a, struct node *b)
{
    node_groups(a);
    node_groups(b);
    a->ended = b->ended = 0;
    a->synced = b->synced = 0;
    memt_pair(&loop, &ma, &mb);
    cr_assert_eq(peer_start(&a->env, &ma->t, 1, &a->p), 0);
    cr_assert_eq(peer_start(&b->env, &mb->t, 0, &b->p), 0);
}

typedef int (*cond_fn)(struct node *a, struct node *b);

static int run_until(struct node *a, struct node *b, cond_fn fn)
{
    for (long i = 0; i < 20000000; i++) {
        if (fn(a, b))
            return 1;
        uv_run(&loop, UV_RUN_NOWAIT);
        if (i % 1000 == 999)
            usleep(100);
    }
    return fn(a, b);
}

static int both_synced(struct node *a, struct node *b)
{
    return (a->synced > 0 && b->synced > 0) || a->ended || b->ended;
}

static int both_ended(struct node *a, struct node *b)
{
    return a->ended && b->ended;
}

static void stop(struct node *a, struct node *b)
{
    if (a->p != NULL)
        peer_stop(a->p, KITH_BYE_SHUTDOWN);
    cr_assert(run_until(a, b, both_ended));
    /* Let the idle handles close. */
    while (uv_run(&loop, UV_RUN_NOWAIT) != 0)
        ;
}

static struct node A, B;

static void setup(void)
{
    cr_assert_eq(sodium_init() >= 0, 1);
    cr_assert_eq(uv_loop_init(&loop), 0);
    crypto_sign_keypair(author_pk, author_sk);
    node_open(&A, "ana");
    node_open(&B, "bo");
}

static void teardown(void)
{
    node_close(&A);
    node_close(&B);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

TestSuite(peer, .init = setup, .fini = teardown, .timeout = 120);

/* ---- tests ---- */

Test(peer, handshake_and_one_common_group_learns_nothing_else)
{
    uint8_t g1[32], g2[32], g3[32], fa[16], fb[16];
    uint64_t ca, cb;
    struct node *b = &B;

    group_share(&A, "walkers", &b, 1, g1);
    group_share(&A, "only-a", NULL, 0, g2);
    group_share(&B, "only-b", NULL, 0, g3);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    cr_assert_eq(A.ended, 0);
    cr_assert_eq(B.ended, 0);
    cr_assert_eq(peer_common_groups(A.p), 1);
    cr_assert_eq(peer_common_groups(B.p), 1);
    cr_assert(peer_has_group(A.p, g1));
    cr_assert_not(peer_has_group(A.p, g2));
    cr_assert_not(peer_has_group(B.p, g3));
    cr_assert_eq(memcmp(peer_remote_key(A.p), B.id->pk, 32), 0);
    cr_assert_eq(memcmp(peer_remote_key(B.p), A.id->pk, 32), 0);
    cr_assert_eq(peer_state(A.p), PEER_LIVE);
    digest(&A, g1, &ca, fa);
    digest(&B, g1, &cb, fb);
    cr_assert_eq(ca, 2); /* two profile posts */
    cr_assert_eq(cb, 2);
    cr_assert_eq(memcmp(fa, fb, 16), 0);
    /* B holds nothing of A's other group, and the reverse. */
    digest(&B, g2, &cb, fb);
    cr_assert_eq(cb, 0);
    digest(&A, g3, &ca, fa);
    cr_assert_eq(ca, 0);
    stop(&A, &B);
    cr_assert_eq(A.err, 0);
    cr_assert_eq(B.err, 0);
}

Test(peer, two_common_groups)
{
    uint8_t g1[32], g2[32], fa[16], fb[16];
    uint64_t ca, cb;
    struct node *b = &B;

    group_share(&A, "one", &b, 1, g1);
    group_share(&B, "two", (struct node *[]){&A}, 1, g2);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    cr_assert_eq(peer_common_groups(A.p), 2);
    cr_assert_eq(peer_common_groups(B.p), 2);
    digest(&A, g2, &ca, fa);
    digest(&B, g2, &cb, fb);
    cr_assert_eq(ca, 2);
    cr_assert_eq(memcmp(fa, fb, 16), 0);
    stop(&A, &B);
}

Test(peer, no_common_group_ends_with_bye)
{
    uint8_t g1[32], g2[32];

    group_share(&A, "mine", NULL, 0, g1);
    group_share(&B, "yours", NULL, 0, g2);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_ended));
    cr_assert_eq(A.err, -KITH_ENOTMEMBER);
    cr_assert_eq(B.err, -KITH_ENOTMEMBER);
    cr_assert_eq(A.fault, PEER_FAULT_LINK);
    while (uv_run(&loop, UV_RUN_NOWAIT) != 0)
        ;
}

Test(peer, random_differences_both_ways)
{
    enum { N = 600 };
    static struct sealed v[N];
    uint8_t g[32], key[32], fa[16], fb[16];
    uint32_t epoch;
    uint64_t ca, cb;
    struct node *b = &B;
    size_t na = 0, nb = 0;
    static struct sealed onlya[N], onlyb[N], both[N];
    size_t nboth = 0;

    group_share(&A, "g", &b, 1, g);
    group_key(&A, g, key, &epoch);
    for (size_t i = 0; i < N; i++) {
        uint32_t r = randombytes_uniform(10);
        v[i] = make_post(g, key, epoch, 1700000000000ull + randombytes_uniform(100000), 1, NULL, 0);
        if (r == 0)
            onlya[na++] = v[i];
        else if (r == 1)
            onlyb[nb++] = v[i];
        else
            both[nboth++] = v[i];
    }
    node_accept(&A, key, both, nboth);
    node_accept(&B, key, both, nboth);
    if (na > 0)
        node_accept(&A, key, onlya, na);
    if (nb > 0)
        node_accept(&B, key, onlyb, nb);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    cr_assert_eq(A.ended, 0);
    digest(&A, g, &ca, fa);
    digest(&B, g, &cb, fb);
    cr_assert_eq(ca, N + 2);
    cr_assert_eq(cb, N + 2);
    cr_assert_eq(memcmp(fa, fb, 16), 0);
    {
        struct peer_stats sa, sb;
        peer_get_stats(A.p, &sa);
        peer_get_stats(B.p, &sb);
        cr_assert_eq(sa.posts_in, nb + 1); /* and B's profile */
        cr_assert_eq(sb.posts_in, na + 1);
        cr_assert_eq(sa.posts_to_go, 0);
    }
    stop(&A, &B);
    sealed_free(v, N);
}

Test(peer, deletes_converge)
{
    uint8_t g[32], key[32], fa[16], fb[16];
    uint32_t epoch;
    uint64_t ca, cb;
    struct node *b = &B;
    struct sealed x, y, dx, dy;

    group_share(&A, "g", &b, 1, g);
    group_key(&A, g, key, &epoch);
    x = make_post(g, key, epoch, 1700000000001ull, KITH_POST_KIND_POST, NULL, 0);
    y = make_post(g, key, epoch, 1700000000002ull, KITH_POST_KIND_POST, NULL, 0);
    dx = make_post(g, key, epoch, 1700000000003ull, KITH_POST_KIND_DELETE, x.id, 0);
    dy = make_post(g, key, epoch, 1700000000004ull, KITH_POST_KIND_DELETE, y.id, 0);
    /* A: x deleted (tombstone), y and its delete never seen.
     * B: x live, y deleted. */
    node_accept(&A, key, &x, 1);
    node_accept(&A, key, &dx, 1);
    node_accept(&B, key, &x, 1);
    node_accept(&B, key, &y, 1);
    node_accept(&B, key, &dy, 1);
    cr_assert_eq(held(&A, x.id), -KITH_EDELETED);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    digest(&A, g, &ca, fa);
    digest(&B, g, &cb, fb);
    cr_assert_eq(ca, 4); /* two profiles, two deletes */
    cr_assert_eq(cb, 4);
    cr_assert_eq(memcmp(fa, fb, 16), 0);
    cr_assert_eq(held(&A, x.id), -KITH_EDELETED);
    cr_assert_eq(held(&B, x.id), -KITH_EDELETED);
    cr_assert_eq(held(&B, y.id), -KITH_EDELETED);
    cr_assert_eq(held(&A, y.id), -KITH_ENOTFOUND); /* never needed: its delete came */
    cr_assert_eq(held(&A, dy.id), 0);
    stop(&A, &B);
    sealed_free(&x, 1);
    sealed_free(&y, 1);
    sealed_free(&dx, 1);
    sealed_free(&dy, 1);
}

static int put_cb(struct store_txn *t, void *arg)
{
    struct {
        struct sealed *s;
        struct store_post_meta *m;
    } *pc = arg;

    return store_post_put(t, pc->s->id, pc->s->b, pc->s->len, pc->m);
}

static void bad_post_test(int forge)
{
    uint8_t g[32], key[32], other[32];
    uint32_t epoch;
    struct node *b = &B;
    struct sealed bad;
    struct store_post_meta meta;
    group_share(&A, "g", &b, 1, g);
    group_key(&A, g, key, &epoch);
    if (forge) {
        bad = make_post(g, key, epoch, 1700000000001ull, KITH_POST_KIND_POST, NULL, 1);
    } else {
        /* Sealed under another key: B cannot open it. */
        randombytes_buf(other, sizeof(other));
        bad = make_post(g, other, epoch, 1700000000001ull, KITH_POST_KIND_POST, NULL, 0);
    }
    /* A holds it (put straight in its store, as a lying node would). */
    memset(&meta, 0, sizeof(meta));
    memcpy(meta.group_id, g, 32);
    meta.created_ms = 1700000000001ull;
    struct put {
        struct sealed *s;
        struct store_post_meta *m;
    } pc = {&bad, &meta};
    cr_assert_eq(store_write(A.st, put_cb, &pc), 0);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_ended));
    cr_assert_eq(B.err, forge ? -KITH_ESIGNATURE : -KITH_EDECRYPT);
    cr_assert_eq(B.fault, PEER_FAULT_SEVERE);
    /* A got B's ERROR with the code. */
    cr_assert_eq(A.err, forge ? -KITH_ESIGNATURE : -KITH_EDECRYPT);
    cr_assert_eq(A.fault, PEER_FAULT_LINK);
    cr_assert_eq(held(&B, bad.id), -KITH_ENOTFOUND);
    while (uv_run(&loop, UV_RUN_NOWAIT) != 0)
        ;
    sealed_free(&bad, 1);
}

Test(peer, forged_post_ends_session_nothing_stored)
{
    bad_post_test(1);
}

Test(peer, undecryptable_post_ends_session)
{
    bad_post_test(0);
}

static int b_ended(struct node *a, struct node *b)
{
    (void)a;
    return b->ended;
}

Test(peer, garbage_frame_after_handshake_gets_error_and_close)
{
    uint8_t junk[100];
    struct node *b = &B;
    uint8_t g[32];

    group_share(&A, "g", &b, 1, g);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    randombytes_buf(junk, sizeof(junk));
    inbox_push(mb, junk, sizeof(junk)); /* as if A sent it */
    cr_assert(run_until(&A, &B, both_ended));
    cr_assert_eq(B.err, -KITH_EDECRYPT);
    cr_assert_eq(B.fault, PEER_FAULT_SEVERE);
    cr_assert_eq(A.err, -KITH_EDECRYPT); /* B told A why */
    while (uv_run(&loop, UV_RUN_NOWAIT) != 0)
        ;
}

Test(peer, garbage_handshake_closes_without_error)
{
    uint8_t junk[20];

    link_nodes(&A, &B);
    /* Before A's first message is read: B gets a short message 1. */
    randombytes_buf(junk, sizeof(junk));
    mb->head->b[0] ^= 0; /* A's real message 1 is first in B's inbox */
    inbox_free(mb);
    inbox_push(mb, junk, sizeof(junk));
    cr_assert(run_until(&A, &B, b_ended));
    cr_assert_eq(B.err, -KITH_ETRUNCATED);
    cr_assert_eq(B.fault, PEER_FAULT_SEVERE);
    cr_assert(run_until(&A, &B, both_ended));
    cr_assert_eq(A.err, -EPIPE);
    while (uv_run(&loop, UV_RUN_NOWAIT) != 0)
        ;
}

static uint8_t live_id[32];

static int b_has_live(struct node *a, struct node *b)
{
    (void)a;
    return held(b, live_id) == 0 || b->ended;
}

Test(peer, live_push_after_sync)
{
    struct node *b = &B;
    uint8_t g[32];
    json_t *j;

    group_share(&A, "walkers", &b, 1, g);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    cr_assert_eq(service_post_create(A.svc, A.sess, "walkers", NULL, NULL, "live", 4, &j), 0);
    cr_assert_eq(sodium_hex2bin(live_id, 32, json_string_value(json_object_get(j, "id")), 64, NULL,
                                NULL, NULL),
                 0);
    json_decref(j);
    cr_assert(run_until(&A, &B, b_has_live));
    cr_assert_eq(B.ended, 0);
    cr_assert_eq(held(&B, live_id), 0);
    stop(&A, &B);
}

Test(peer, resync_finds_what_came_meanwhile)
{
    uint8_t g[32], key[32], fa[16], fb[16];
    uint32_t epoch;
    uint64_t ca, cb;
    struct node *b = &B;
    struct sealed v[3];

    group_share(&A, "g", &b, 1, g);
    group_key(&A, g, key, &epoch);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    /* Posts that reach B's store without the hook (as from a third node). */
    service_set_post_hook(B.svc, NULL, NULL);
    for (int i = 0; i < 3; i++)
        v[i] = make_post(g, key, epoch, 1700000000000ull + (uint64_t)i, 1, NULL, 0);
    node_accept(&B, key, v, 3);
    A.synced = B.synced = 0;
    cr_assert_eq(peer_resync(B.p), -EAGAIN); /* only the initiator runs rounds */
    cr_assert_eq(peer_resync(A.p), 0);
    cr_assert_eq(peer_resync(A.p), -EALREADY);
    cr_assert(run_until(&A, &B, both_synced));
    digest(&A, g, &ca, fa);
    digest(&B, g, &cb, fb);
    cr_assert_eq(ca, 5);
    cr_assert_eq(memcmp(fa, fb, 16), 0);
    stop(&A, &B);
    sealed_free(v, 3);
}

Test(peer, cost_n10000_d10)
{
    enum { N = 10000, D = 10 };
    static struct sealed v[N];
    uint8_t g[32], key[32], fa[16], fb[16];
    uint32_t epoch;
    uint64_t ca, cb;
    struct node *b = &B;
    struct peer_stats sa;

    group_share(&A, "g", &b, 1, g);
    group_key(&A, g, key, &epoch);
    for (size_t i = 0; i < N; i++)
        v[i] = make_post(g, key, epoch, 1700000000000ull + i * 1000, 1, NULL, 0);
    /* A lacks the first D/2, B the last D/2. */
    node_accept(&A, key, v + D / 2, N - D / 2);
    node_accept(&B, key, v, N - D / 2);
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    digest(&A, g, &ca, fa);
    digest(&B, g, &cb, fb);
    cr_assert_eq(ca, N + 2);
    cr_assert_eq(memcmp(fa, fb, 16), 0);
    peer_get_stats(A.p, &sa);
    cr_assert_eq(sa.posts_in, D / 2 + 1);
    cr_assert_eq(sa.posts_out, D / 2 + 1);
    fprintf(stderr,
            "recon n=%d d=%d: %llu round trips, recon bytes initiator->responder %llu, "
            "responder->initiator %llu\n",
            N, D, (unsigned long long)sa.round_trips, (unsigned long long)sa.recon_bytes_out,
            (unsigned long long)sa.recon_bytes_in);
    cr_assert_leq(sa.round_trips, 4);
    stop(&A, &B);
    sealed_free(v, N);
}

Test(peer, bulk_transfer_one_way)
{
    enum { N = 20000 };
    static struct sealed v[N];
    uint8_t g[32], key[32], fa[16], fb[16];
    uint32_t epoch;
    uint64_t ca, cb, t0;
    struct node *b = &B;
    struct peer_stats sb;
    double secs;

    group_share(&A, "g", &b, 1, g);
    group_key(&A, g, key, &epoch);
    for (size_t i = 0; i < N; i++)
        v[i] = make_post(g, key, epoch, 1700000000000ull + i, 1, NULL, 0);
    node_accept(&A, key, v, N);
    t0 = uv_hrtime();
    link_nodes(&A, &B);
    cr_assert(run_until(&A, &B, both_synced));
    secs = (double)(uv_hrtime() - t0) / 1e9;
    digest(&A, g, &ca, fa);
    digest(&B, g, &cb, fb);
    cr_assert_eq(cb, N + 2);
    cr_assert_eq(memcmp(fa, fb, 16), 0);
    peer_get_stats(B.p, &sb);
    cr_assert_eq(sb.posts_in, N + 1);
    fprintf(stderr,
            "bulk: %d posts one way in %.2f s (%.0f posts/s, verify on the threadpool), "
            "%llu bytes in\n",
            N, secs, N / secs, (unsigned long long)sb.bytes_in);
    stop(&A, &B);
    sealed_free(v, N);
}
