/*
 * test_sync_serial: the sync manager's serial links (node/sync_serial.c)
 * and their control commands, through rpc_handle as kith uses them: a bad
 * [serial] device or baud refuses to start; a link on a device that is not
 * there is listed by `peers` as serial, waiting, with its path; `sync` with
 * `serial` checks its fields, runs a one-off link, fails after the wait
 * when the device stays away, and refuses more links than SYNC_LINKS_MAX.
 * Two links on the two ends of a pty pair joined in software sync a group
 * (the end-to-end tests do this with two kithd processes). Stopping leaves
 * no handle open.
 */
#include <fcntl.h>
#include <pty.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
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
    snprintf(n->dir, sizeof(n->dir), "/tmp/kith-ssync-XXXXXX");
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

/* Start n's sync with no TCP and the given serial devices. */
static int start(struct node *n, const struct serial_config *serials, size_t n_serials)
{
    struct sync_config c;

    memset(&c, 0, sizeof(c));
    c.serials = serials;
    c.n_serials = n_serials;
    return sync_start(&loop, n->svc, n->st, n->v, n->id, &c, &n->sync);
}

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

static const char *error_name(json_t *resp)
{
    cr_assert(json_is_false(json_object_get(resp, "ok")), "%s", json_dumps(resp, 0));
    return json_string_value(json_object_get(json_object_get(resp, "error"), "name"));
}

static void run_ms(unsigned ms)
{
    for (unsigned i = 0; i < ms / 5; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
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

TestSuite(sync_serial, .init = setup, .fini = teardown, .timeout = 60);

Test(sync_serial, bad_devices_refuse_to_start)
{
    struct serial_config bad_baud = {.device = "/dev/null", .baud = 12345};
    struct serial_config empty = {.device = ""};
    struct serial_config many[SYNC_LINKS_MAX + 1];

    cr_assert_eq(start(&A, &bad_baud, 1), -KITH_EINVAL);
    cr_assert_null(A.sync);
    cr_assert_eq(start(&A, &empty, 1), -KITH_EINVAL);
    for (size_t i = 0; i < SYNC_LINKS_MAX + 1; i++)
        many[i] = (struct serial_config){.device = "/dev/null"};
    cr_assert_eq(start(&A, many, SYNC_LINKS_MAX + 1), -KITH_EINVAL);
    cr_assert_null(A.sync);
}

Test(sync_serial, missing_device_is_listed_waiting)
{
    char dev[128];
    struct serial_config c;
    json_t *r, *p;

    snprintf(dev, sizeof(dev), "%s/no-such-tty", A.dir);
    c = (struct serial_config){.device = dev, .baud = 9600};
    cr_assert_eq(start(&A, &c, 1), 0);
    run_ms(100);
    r = rpc(&A, "{\"cmd\":\"peers\"}");
    cr_assert(json_is_null(json_object_get(result(r), "listen")));
    cr_assert_eq(json_array_size(json_object_get(result(r), "peers")), 1);
    p = json_array_get(json_object_get(result(r), "peers"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(p, "source")), "serial");
    cr_assert_str_eq(json_string_value(json_object_get(p, "address")), dev);
    cr_assert_str_eq(json_string_value(json_object_get(p, "state")), "waiting");
    cr_assert_eq(json_integer_value(json_object_get(p, "baud")), 9600);
    cr_assert(json_is_null(json_object_get(p, "node_key")));
    cr_assert(json_is_null(json_object_get(p, "last_error")));
    json_decref(r);

    /* A sync of every peer leaves out a link whose device is away. */
    r = rpc(&A, "{\"cmd\":\"sync\"}");
    cr_assert_eq(json_integer_value(json_object_get(result(r), "peers")), 0);
    json_decref(r);
}

Test(sync_serial, sync_request_fields)
{
    json_t *r;

    cr_assert_eq(start(&A, NULL, 0), 0);
    r = rpc(&A, "{\"cmd\":\"sync\",\"serial\":\"/dev/x\",\"baud\":12345}");
    cr_assert_str_eq(error_name(r), "KITH_EREQUEST");
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"sync\",\"baud\":9600}");
    cr_assert_str_eq(error_name(r), "KITH_EREQUEST");
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"sync\",\"serial\":\"/dev/x\",\"peer\":\"h:1\"}");
    cr_assert_str_eq(error_name(r), "KITH_EREQUEST");
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"sync\",\"serial\":\"\"}");
    cr_assert_str_eq(error_name(r), "KITH_EREQUEST");
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"sync\",\"serial\":7}");
    cr_assert_str_eq(error_name(r), "KITH_EREQUEST");
    json_decref(r);
}

Test(sync_serial, oneoff_links_run_and_are_limited)
{
    char dev[128];
    json_t *r;
    json_int_t id;

    cr_assert_eq(start(&A, NULL, 0), 0);
    for (int i = 0; i < SYNC_LINKS_MAX; i++) {
        snprintf(dev, sizeof(dev), "%s/tty%d", A.dir, i);
        r = rpc(&A, "{\"cmd\":\"sync\",\"serial\":\"%s\",\"baud\":57600}", dev);
        cr_assert_eq(json_integer_value(json_object_get(result(r), "peers")), 1);
        id = json_integer_value(json_object_get(result(r), "sync_id"));
        json_decref(r);
    }
    r = rpc(&A, "{\"cmd\":\"sync\",\"serial\":\"%s/one-too-many\"}", A.dir);
    cr_assert_str_eq(error_name(r), "ENOSPC");
    json_decref(r);
    /* The same device again uses its link. */
    r = rpc(&A, "{\"cmd\":\"sync\",\"serial\":\"%s\"}", dev);
    cr_assert(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"sync.status\",\"sync_id\":%lld}", (long long)id);
    cr_assert_str_eq(json_string_value(json_object_get(result(r), "state")), "running");
    json_decref(r);
    r = rpc(&A, "{\"cmd\":\"peers\"}");
    cr_assert_eq(json_array_size(json_object_get(result(r), "peers")), SYNC_LINKS_MAX);
    json_decref(r);
}

/* ---- two links over a pty pair joined in software ---- */

/* Two pty pairs whose masters are joined: a null-modem cable. The slaves
 * are offered as DIR/a and DIR/b. */
struct cable {
    int m[2], s[2];
    uv_poll_t poll[2];
};

static struct cable cable;

static void cable_on_poll(uv_poll_t *h, int status, int events)
{
    int i = h == &cable.poll[0] ? 0 : 1;
    uint8_t buf[4096];
    ssize_t n;

    (void)status;
    (void)events;
    while ((n = read(cable.m[i], buf, sizeof(buf))) > 0) {
        ssize_t off = 0;

        while (off < n) {
            ssize_t w = write(cable.m[1 - i], buf + off, (size_t)(n - off));
            if (w <= 0) {
                usleep(1000);
                continue;
            }
            off += w;
        }
    }
}

static void cable_open(const char *dir)
{
    for (int i = 0; i < 2; i++) {
        char name[128], link[160];
        struct termios tio;

        cr_assert_eq(openpty(&cable.m[i], &cable.s[i], name, NULL, NULL), 0);
        tcgetattr(cable.s[i], &tio);
        cfmakeraw(&tio);
        tcsetattr(cable.s[i], TCSANOW, &tio);
        fcntl(cable.m[i], F_SETFL, fcntl(cable.m[i], F_GETFL) | O_NONBLOCK);
        snprintf(link, sizeof(link), "%s/%c", dir, 'a' + i);
        cr_assert_eq(symlink(name, link), 0);
        cr_assert_eq(uv_poll_init(&loop, &cable.poll[i], cable.m[i]), 0);
        uv_poll_start(&cable.poll[i], UV_READABLE, cable_on_poll);
    }
}

static void cable_close(void)
{
    for (int i = 0; i < 2; i++) {
        uv_close((uv_handle_t *)&cable.poll[i], NULL);
        close(cable.m[i]);
        close(cable.s[i]);
    }
}

static int items(struct node *n)
{
    json_t *r = rpc(n, "{\"cmd\":\"sync.sets\"}");
    json_t *s0 = json_array_get(json_object_get(result(r), "sets"), 0);
    int v = s0 != NULL ? (int)json_integer_value(json_object_get(s0, "items")) : -1;

    json_decref(r);
    return v;
}

Test(sync_serial, two_links_sync_a_group)
{
    char dev_a[128], dev_b[128];
    struct serial_config ca, cb;
    json_t *j = NULL, *r, *p;
    const char *code;
    int ok = 0;

    cable_open(A.dir);
    snprintf(dev_a, sizeof(dev_a), "%s/a", A.dir);
    snprintf(dev_b, sizeof(dev_b), "%s/b", A.dir);
    cr_assert_eq(service_group_create(A.svc, A.sess, "Walkers", NULL, 0, &j), 0);
    json_decref(j);
    cr_assert_eq(service_group_invite(A.svc, A.sess, "Walkers", &j), 0);
    code = json_string_value(json_object_get(j, "code"));
    cr_assert_eq(service_group_join(B.svc, B.sess, code, &r), 0);
    json_decref(r);
    json_decref(j);
    cr_assert_eq(service_post_create(A.svc, A.sess, "Walkers", NULL, NULL, "from ana", 8, &j), 0);
    json_decref(j);

    ca = (struct serial_config){.device = dev_a, .baud = 921600};
    cb = (struct serial_config){.device = dev_b, .baud = 921600, .role = SERIAL_ROLE_RESPONDER};
    cr_assert_eq(start(&A, &ca, 1), 0);
    cr_assert_eq(start(&B, &cb, 1), 0);
    for (int i = 0; i < 600 && !ok; i++) {
        run_ms(10);
        ok = items(&A) == items(&B);
    }
    cr_assert(ok, "A %d items, B %d", items(&A), items(&B));
    r = rpc(&B, "{\"cmd\":\"peers\"}");
    p = json_array_get(json_object_get(result(r), "peers"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(p, "address")), dev_b);
    cr_assert_str_eq(json_string_value(json_object_get(p, "state")), "live");
    cr_assert_geq(json_integer_value(json_object_get(p, "posts_received")), 1);
    json_decref(r);
    sync_stop(A.sync);
    sync_stop(B.sync);
    A.sync = B.sync = NULL;
    cable_close();
}
