/*
 * test_sync: two sync managers (node/sync.c) on one loop over real TCP on
 * loopback, each over a real node: a configured peer is dialed and synced,
 * new posts are pushed, and the control commands (peers, sync, sync.status,
 * sync.sets, status) answer as node/CONTROL.md says, through rpc_handle.
 * Stopping leaves no handle open.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>
#include <uv.h>

#include "identity.h"
#include "kith/error.h"
#include "rpc.h"
#include "service.h"
#include "sync.h"

struct node {
    char dir[64];
    struct store *st;
    struct vault *v;
    struct service *svc;
    struct identity *id;
    struct service_session *sess;
    struct sync *sync;
};

static uv_loop_t loop;
static struct node A, B;

static void node_open(struct node *n, const char *name)
{
    struct service_config sc;
    char key[128];

    memset(n, 0, sizeof(*n));
    snprintf(n->dir, sizeof(n->dir), "/tmp/kith-sync-XXXXXX");
    cr_assert_not_null(mkdtemp(n->dir));
    cr_assert_eq(store_open(n->dir, &n->st), 0);
    snprintf(key, sizeof(key), "%s/node.key", n->dir);
    cr_assert_eq(vault_open_keyfile(n->st, key, &n->v), 0);
    memset(&sc, 0, sizeof(sc));
    cr_assert_eq(service_open(n->st, n->v, &sc, &n->svc), 0);
    cr_assert_eq(identity_open(n->st, n->v, &n->id), 0);
    cr_assert_eq(service_account_create(n->svc, name, "pw", 2, &n->sess), 0);
}

static void node_close(struct node *n)
{
    char cmd[128];

    identity_close(n->id);
    service_close(n->svc);
    vault_close(n->v);
    store_close(n->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", n->dir);
    cr_assert_eq(system(cmd), 0);
}

static void start(struct node *n, const char *peer)
{
    struct sync_config c;
    const char *peers[1] = {peer};

    memset(&c, 0, sizeof(c));
    c.listen = "127.0.0.1:0";
    c.peers = peers;
    c.n_peers = peer != NULL ? 1 : 0;
    cr_assert_eq(sync_start(&loop, n->svc, n->st, n->v, n->id, &c, &n->sync), 0);
}

/* One control request; returns the parsed response (json_decref it). */
static json_t *rpc(struct node *n, const char *fmt, ...)
{
    char line[512], *resp;
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cr_assert_eq(rpc_handle(n->svc, line, strlen(line), &resp), 0);
    j = json_loads(resp, 0, NULL);
    free(resp);
    cr_assert_not_null(j);
    return j;
}

static json_t *result(json_t *resp)
{
    cr_assert(json_is_true(json_object_get(resp, "ok")), "%s", json_dumps(resp, 0));
    return json_object_get(resp, "result");
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    cr_assert_eq(uv_loop_init(&loop), 0);
    node_open(&A, "ana");
    node_open(&B, "bo");
}

static void teardown(void)
{
    sync_stop(A.sync);
    sync_stop(B.sync);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
    node_close(&A);
    node_close(&B);
}

TestSuite(sync, .init = setup, .fini = teardown, .timeout = 60);

static void run_ms(unsigned ms)
{
    for (unsigned i = 0; i < ms / 5; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
}

/* The digest of the only set, as a string (static). */
static const char *set_digest(struct node *n, json_int_t *items)
{
    static char out[2][64];
    static int k;
    json_t *r = rpc(n, "{\"cmd\":\"sync.sets\"}");
    json_t *sets = json_object_get(result(r), "sets");
    json_t *s0 = json_array_get(sets, 0);

    k ^= 1;
    snprintf(out[k], sizeof(out[k]), "%s",
             s0 != NULL ? json_string_value(json_object_get(s0, "digest")) : "none");
    if (items != NULL)
        *items = s0 != NULL ? json_integer_value(json_object_get(s0, "items")) : -1;
    json_decref(r);
    return out[k];
}

static int converge(json_int_t want)
{
    for (int i = 0; i < 400; i++) {
        json_int_t ia, ib;
        const char *da = set_digest(&A, &ia), *db = set_digest(&B, &ib);
        if (ia == want && ib == want && strcmp(da, db) == 0)
            return 1;
        run_ms(10);
    }
    return 0;
}

Test(sync, configured_peer_syncs_and_pushes_live)
{
    char addr[64], code[512];
    json_t *r, *j;

    start(&A, NULL);
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", sync_port(A.sync));
    start(&B, addr);
    /* A group on A; B joins it while both run (sessions restart with it). */
    r = rpc(&A, "{\"cmd\":\"group.create\",\"session\":\"%s\",\"name\":\"walkers\"}",
            service_session_token(A.sess));
    json_decref(r);
    r = rpc(&A,
            "{\"cmd\":\"post.create\",\"session\":\"%s\",\"group\":\"walkers\",\"body\":\"hi\"}",
            service_session_token(A.sess));
    result(r);
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"group.invite\",\"session\":\"%s\",\"group\":\"walkers\"}",
            service_session_token(A.sess));
    snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(result(r), "code")));
    json_decref(r);
    r = rpc(&B, "{\"cmd\":\"group.join\",\"session\":\"%s\",\"code\":\"%s\"}",
            service_session_token(B.sess), code);
    result(r);
    json_decref(r);
    cr_assert(converge(3)); /* two profiles and a post */

    /* peers on B: A, configured, live. */
    r = rpc(&B, "{\"cmd\":\"peers\"}");
    j = json_array_get(json_object_get(result(r), "peers"), 0);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "address")), addr);
    cr_assert_str_eq(json_string_value(json_object_get(j, "source")), "config");
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "live");
    {
        char hex[65];
        sodium_bin2hex(hex, sizeof(hex), A.id->pk, 32);
        cr_assert_str_eq(json_string_value(json_object_get(j, "node_key")), hex);
    }
    cr_assert_geq(json_integer_value(json_object_get(j, "posts_received")), 2);
    cr_assert_geq(json_integer_value(json_object_get(j, "posts_sent")), 1);
    cr_assert_gt(json_integer_value(json_object_get(j, "last_sync_ms")), 0);
    cr_assert(json_is_null(json_object_get(j, "last_error")));
    json_decref(r);

    /* A live post from B reaches A without a new sync. */
    r = rpc(&B,
            "{\"cmd\":\"post.create\",\"session\":\"%s\",\"group\":\"walkers\",\"body\":\"yo\"}",
            service_session_token(B.sess));
    result(r);
    json_decref(r);
    cr_assert(converge(4));

    /* status carries the sync part. */
    r = rpc(&A, "{\"cmd\":\"status\"}");
    j = json_object_get(result(r), "sync");
    cr_assert_eq(json_integer_value(json_object_get(j, "peers_connected")), 1);
    cr_assert_eq(json_array_size(json_object_get(j, "sets")), 1);
    json_decref(r);
}

Test(sync, sync_command_runs_and_reports)
{
    char addr[64], code[512];
    json_t *r, *j;
    json_int_t id;
    const char *state = "running";
    char st[16];

    start(&A, NULL);
    start(&B, NULL); /* no configured peer: only `sync --peer` */
    r = rpc(&A, "{\"cmd\":\"group.create\",\"session\":\"%s\",\"name\":\"g\"}",
            service_session_token(A.sess));
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"group.invite\",\"session\":\"%s\",\"group\":\"g\"}",
            service_session_token(A.sess));
    snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(result(r), "code")));
    json_decref(r);
    r = rpc(&B, "{\"cmd\":\"group.join\",\"session\":\"%s\",\"code\":\"%s\"}",
            service_session_token(B.sess), code);
    json_decref(r);

    /* Nothing known yet: a sync of no peers is done at once. */
    r = rpc(&B, "{\"cmd\":\"sync\"}");
    cr_assert_eq(json_integer_value(json_object_get(result(r), "peers")), 0);
    id = json_integer_value(json_object_get(result(r), "sync_id"));
    json_decref(r);
    r = rpc(&B, "{\"cmd\":\"sync.status\",\"sync_id\":%lld}", (long long)id);
    cr_assert_str_eq(json_string_value(json_object_get(result(r), "state")), "done");
    json_decref(r);

    r = rpc(&B, "{\"cmd\":\"sync\",\"peer\":\"nonsense\"}");
    cr_assert(json_is_false(json_object_get(r, "ok")));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                 -KITH_EREQUEST);
    json_decref(r);
    r = rpc(&B, "{\"cmd\":\"sync.status\",\"sync_id\":999}");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                 -KITH_ENOTFOUND);
    json_decref(r);

    snprintf(addr, sizeof(addr), "127.0.0.1:%u", sync_port(A.sync));
    r = rpc(&B, "{\"cmd\":\"sync\",\"peer\":\"%s\"}", addr);
    cr_assert_eq(json_integer_value(json_object_get(result(r), "peers")), 1);
    id = json_integer_value(json_object_get(result(r), "sync_id"));
    json_decref(r);
    for (int i = 0; i < 400; i++) {
        r = rpc(&B, "{\"cmd\":\"sync.status\",\"sync_id\":%lld}", (long long)id);
        j = result(r);
        snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(j, "state")));
        state = st;
        if (strcmp(state, "running") != 0) {
            cr_assert_eq(json_integer_value(json_object_get(j, "peers_done")), 1);
            cr_assert_eq(json_integer_value(json_object_get(j, "posts_to_go")), 0);
            cr_assert_geq(json_integer_value(json_object_get(j, "posts_done")), 2);
            cr_assert_gt(json_integer_value(json_object_get(j, "bytes_done")), 0);
            json_decref(r);
            break;
        }
        json_decref(r);
        run_ms(10);
    }
    cr_assert_str_eq(state, "done");
    cr_assert(converge(2));
}

Test(sync, refused_dial_is_reported)
{
    json_t *r, *j;
    json_int_t id;
    int failed = 0;

    start(&B, NULL);
    /* Port 1 on loopback: nothing listens there. */
    r = rpc(&B, "{\"cmd\":\"sync\",\"peer\":\"127.0.0.1:1\"}");
    id = json_integer_value(json_object_get(result(r), "sync_id"));
    json_decref(r);
    for (int i = 0; i < 200 && !failed; i++) {
        run_ms(10);
        r = rpc(&B, "{\"cmd\":\"sync.status\",\"sync_id\":%lld}", (long long)id);
        j = result(r);
        if (strcmp(json_string_value(json_object_get(j, "state")), "failed") == 0) {
            failed = 1;
            cr_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(json_object_get(j, "errors"), 0), "error")),
                             "ECONNREFUSED");
        }
        json_decref(r);
    }
    cr_assert(failed);
    r = rpc(&B, "{\"cmd\":\"peers\"}");
    j = json_array_get(json_object_get(result(r), "peers"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(j, "last_error")), "ECONNREFUSED");
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "backoff");
    cr_assert(json_is_null(json_object_get(j, "node_key")));
    json_decref(r);
}
