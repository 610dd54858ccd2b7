/*
 * Tests for node/rpc.c: the control protocol of node/CONTROL.md, driven
 * with request lines against a real service over a temp store: response
 * shapes, id echo, malformed lines, wrong field types, unknown commands,
 * missing or ended sessions, and one run through every command.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kith/error.h"
#include "rpc.h"
#include "service.h"
#include "store.h"
#include "vault.h"

static char dir[64];
static struct store *st;
static struct vault *v;
static struct service *svc;

static void setup(void)
{
    char key[128];
    struct service_config cfg = {.content_dir = NULL, .session_idle_s = 600};

    cr_assert(sodium_init() >= 0);
    strcpy(dir, "/tmp/kith-rpc-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, &st), 0);
    snprintf(key, sizeof key, "%s/node.key", dir);
    cr_assert_eq(vault_open_keyfile(st, key, &v), 0);
    cfg.data_dir = dir;
    cr_assert_eq(service_open(st, v, &cfg, &svc), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void teardown(void)
{
    service_close(svc);
    vault_close(v);
    store_close(st);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

// cppcheck-suppress unknownMacro
TestSuite(rpc, .init = setup, .fini = teardown, .timeout = 60);

/* Send one line (printf-style) and parse the response, which must be one
 * JSON object on one line. */
static json_t *call(const char *fmt, ...)
{
    char line[8192], *resp = NULL;
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cr_assert_eq(rpc_handle(svc, line, strlen(line), &resp), 0);
    cr_assert_not_null(resp);
    cr_assert_null(strchr(resp, '\n'));
    j = json_loads(resp, 0, NULL);
    cr_assert_not_null(j, "not JSON: %s", resp);
    free(resp);
    return j;
}

static json_t *ok(json_t *r)
{
    cr_assert(json_is_true(json_object_get(r, "ok")), "not ok: %s",
              json_string_value(json_object_get(json_object_get(r, "error"), "message")));
    cr_assert_null(json_object_get(r, "error"));
    return json_object_get(r, "result");
}

static void expect_error(json_t *r, int code, const char *message)
{
    json_t *e = json_object_get(r, "error");

    cr_assert(json_is_false(json_object_get(r, "ok")));
    cr_assert_null(json_object_get(r, "result"));
    cr_assert_eq(json_integer_value(json_object_get(e, "code")), code, "code %lld",
                 (long long)json_integer_value(json_object_get(e, "code")));
    cr_assert_str_eq(json_string_value(json_object_get(e, "name")), kith_errname(code));
    if (message != NULL)
        cr_assert_str_eq(json_string_value(json_object_get(e, "message")), message);
    else
        cr_assert_str_eq(json_string_value(json_object_get(e, "message")), kith_strerror(code));
    json_decref(r);
}

static void session(const char *name, char token[65])
{
    json_t *r =
        call("{\"id\":1,\"cmd\":\"account.create\",\"name\":\"%s\",\"passphrase\":\"pw\"}", name);
    json_t *res = ok(r);

    cr_assert_str_eq(json_string_value(json_object_get(res, "name")), name);
    cr_assert_eq(strlen(json_string_value(json_object_get(res, "public_key"))), 64);
    strcpy(token, json_string_value(json_object_get(res, "session")));
    cr_assert_eq(strlen(token), 64);
    json_decref(r);
}

Test(rpc, malformed_lines)
{
    char *resp = NULL, *big;
    json_t *r;

    r = call("{\"id\": 3, \"cmd\": ");
    cr_assert(json_is_null(json_object_get(r, "id")));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                 -KITH_EREQUEST);
    cr_assert_eq(strncmp(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                         "the request is not valid JSON", 29),
                 0);
    json_decref(r);
    expect_error(call("[1,2]"), -KITH_EREQUEST, "the request is not a JSON object");
    /* A bare string, trailing bytes and duplicate keys are parse errors. */
    const char *bad[] = {"\"status\"", "{\"cmd\":\"status\"} {}",
                         "{\"cmd\":\"status\",\"cmd\":\"status\"}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call("%s", bad[i]);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -KITH_EREQUEST, "%s", bad[i]);
        json_decref(r);
    }

    /* Embedded NUL, and a line over the limit. */
    cr_assert_eq(rpc_handle(svc, "{\"cmd\":\"st\0tus\"}", 16, &resp), 0);
    r = json_loads(resp, 0, NULL);
    free(resp);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                 -KITH_EREQUEST);
    json_decref(r);
    big = malloc(RPC_LINE_MAX + 1);
    memset(big, ' ', RPC_LINE_MAX + 1);
    big[0] = '{';
    big[RPC_LINE_MAX] = '}';
    cr_assert_eq(rpc_handle(svc, big, RPC_LINE_MAX + 1, &resp), 0);
    free(big);
    r = json_loads(resp, 0, NULL);
    free(resp);
    expect_error(r, -KITH_EREQUEST, "the request is longer than 1 MiB");
}

Test(rpc, id_echo_and_dispatch_errors)
{
    json_t *r;

    json_t *want = json_pack("{s:[i,s]}", "n", 1, "x");

    r = call("{\"id\":{\"n\":[1,\"x\"]},\"cmd\":\"nope\"}");
    cr_assert(json_equal(json_object_get(r, "id"), want));
    json_decref(want);
    expect_error(r, -KITH_EUNKNOWNCMD, "unknown command: nope");
    r = call("{\"id\":\"abc\"}");
    cr_assert_str_eq(json_string_value(json_object_get(r, "id")), "abc");
    expect_error(r, -KITH_EREQUEST, "missing field: cmd");
    expect_error(call("{\"cmd\":7}"), -KITH_EREQUEST, "field must be a string: cmd");
    expect_error(call("{\"cmd\":\"group.list\"}"), -KITH_ELOCKED, NULL);
    expect_error(call("{\"cmd\":\"group.list\",\"session\":\"00\"}"), -KITH_ELOCKED, NULL);
    expect_error(call("{\"cmd\":\"group.list\",\"session\":5}"), -KITH_EREQUEST,
                 "field must be a string: session");
    expect_error(call("{\"cmd\":\"account.create\",\"name\":5,\"passphrase\":\"x\"}"),
                 -KITH_EREQUEST, "field must be a string: name");
    expect_error(call("{\"cmd\":\"account.create\",\"name\":\"x\"}"), -KITH_EREQUEST,
                 "missing field: passphrase");
    expect_error(call("{\"cmd\":\"account.unlock\",\"name\":\"x\",\"passphrase\":\"x\"}"),
                 -KITH_EPASSPHRASE, NULL);
}

Test(rpc, status_shape)
{
    json_t *r = call("{\"id\":9,\"cmd\":\"status\"}"), *res = ok(r);
    const char *keys[] = {"posts",    "tombstones", "groups",      "accounts",
                          "sessions", "uptime_s",   "store_bytes", "map_bytes"};

    cr_assert_eq(json_integer_value(json_object_get(r, "id")), 9);
    cr_assert_eq(json_object_size(r), 3);
    cr_assert_str_eq(json_string_value(json_object_get(res, "data_dir")), dir);
    cr_assert(json_is_null(json_object_get(res, "socket")));
    cr_assert(json_is_string(json_object_get(res, "version")));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(json_is_integer(json_object_get(res, keys[i])), "%s", keys[i]);
    cr_assert_eq(json_object_size(res), 11);
    json_decref(r);
}

Test(rpc, every_command)
{
    char a[65], b[65], gid[65], pid[65], rid[65], code[300];
    json_t *r, *res, *p;

    session("Ana", a);
    session("Ben", b);
    expect_error(
        call("{\"cmd\":\"group.create\",\"session\":\"%s\",\"name\":\"G\",\"topics\":\"x\"}", a),
        -KITH_EREQUEST, "field must be an array of strings: topics");
    expect_error(
        call("{\"cmd\":\"group.create\",\"session\":\"%s\",\"name\":\"G\",\"topics\":[1]}", a),
        -KITH_EREQUEST, "field must be an array of strings: topics");
    r = call("{\"cmd\":\"group.create\",\"session\":\"%s\",\"name\":\"Walkers\","
             "\"topics\":[\"Rota\",\"Money\"]}",
             a);
    res = ok(r);
    strcpy(gid, json_string_value(json_object_get(res, "group_id")));
    cr_assert_str_eq(json_string_value(json_object_get(res, "name")), "Walkers");
    cr_assert_eq(json_array_size(json_object_get(res, "topics")), 2);
    cr_assert_eq(json_integer_value(json_object_get(res, "posts")), 0);
    cr_assert_eq(json_object_size(res), 4);
    json_decref(r);

    r = call("{\"cmd\":\"group.list\",\"session\":\"%s\"}", a);
    cr_assert_eq(json_array_size(json_object_get(ok(r), "groups")), 1);
    json_decref(r);

    expect_error(call("{\"cmd\":\"post.create\",\"session\":\"%s\",\"body\":\"x\"}", a),
                 -KITH_EREQUEST, "missing field: group");
    expect_error(
        call("{\"cmd\":\"post.create\",\"session\":\"%s\",\"group\":\"walkers\",\"body\":\"\"}", a),
        -KITH_EREQUEST, "field is empty: body");
    expect_error(call("{\"cmd\":\"post.create\",\"session\":\"%s\",\"group\":\"nope\",\"body\":"
                      "\"x\"}",
                      a),
                 -KITH_ENOTFOUND, NULL);
    r = call("{\"cmd\":\"post.create\",\"session\":\"%s\",\"group\":\"walkers\",\"topic\":\"rota\","
             "\"title\":\"Hi\",\"body\":\"line one\\nline two\"}",
             a);
    p = ok(r);
    strcpy(pid, json_string_value(json_object_get(p, "id")));
    cr_assert_str_eq(json_string_value(json_object_get(p, "group_id")), gid);
    cr_assert_str_eq(json_string_value(json_object_get(p, "group")), "Walkers");
    cr_assert_str_eq(json_string_value(json_object_get(p, "kind")), "post");
    cr_assert_str_eq(json_string_value(json_object_get(p, "author")), "Ana");
    cr_assert_str_eq(json_string_value(json_object_get(p, "topic")), "Rota");
    cr_assert_str_eq(json_string_value(json_object_get(p, "title")), "Hi");
    cr_assert_str_eq(json_string_value(json_object_get(p, "body")), "line one\nline two");
    cr_assert(json_is_null(json_object_get(p, "parent")));
    cr_assert(json_is_false(json_object_get(p, "deleted")));
    cr_assert(json_is_false(json_object_get(p, "edited")));
    cr_assert(json_is_integer(json_object_get(p, "created_ms")));
    cr_assert_eq(strlen(json_string_value(json_object_get(p, "author_key"))), 64);
    cr_assert_eq(json_object_size(p), 13);
    json_decref(r);

    r = call("{\"cmd\":\"group.invite\",\"session\":\"%s\",\"group\":\"Walkers\"}", a);
    res = ok(r);
    strcpy(code, json_string_value(json_object_get(res, "code")));
    cr_assert_str_eq(json_string_value(json_object_get(res, "group_id")), gid);
    cr_assert_str_eq(json_string_value(json_object_get(res, "name")), "Walkers");
    json_decref(r);
    expect_error(call("{\"cmd\":\"group.join\",\"session\":\"%s\",\"code\":\"kith1-aaaa\"}", b),
                 -KITH_EINVITE, NULL);
    r = call("{\"cmd\":\"group.join\",\"session\":\"%s\",\"code\":\"%s\"}", b, code);
    cr_assert_str_eq(json_string_value(json_object_get(ok(r), "group_id")), gid);
    json_decref(r);

    expect_error(call("{\"cmd\":\"post.reply\",\"session\":\"%s\",\"parent\":\"abc\",\"body\":"
                      "\"x\"}",
                      b),
                 -KITH_EREQUEST, "id must be 4 or more hex characters: parent");
    r = call("{\"cmd\":\"post.reply\",\"session\":\"%s\",\"parent\":\"%.8s\",\"body\":\"yes\"}", b,
             pid);
    p = ok(r);
    strcpy(rid, json_string_value(json_object_get(p, "id")));
    cr_assert_str_eq(json_string_value(json_object_get(p, "parent")), pid);
    cr_assert_str_eq(json_string_value(json_object_get(p, "kind")), "reply");
    json_decref(r);

    expect_error(call("{\"cmd\":\"thread.list\",\"session\":\"%s\",\"group\":\"walkers\","
                      "\"limit\":\"5\"}",
                      a),
                 -KITH_EREQUEST, "field must be an integer: limit");
    expect_error(call("{\"cmd\":\"thread.list\",\"session\":\"%s\",\"group\":\"walkers\","
                      "\"limit\":0}",
                      a),
                 -KITH_EREQUEST, "field must be 1 to 1000: limit");
    r = call("{\"cmd\":\"thread.list\",\"session\":\"%s\",\"group\":\"walkers\",\"limit\":5}", a);
    res = json_object_get(ok(r), "threads");
    cr_assert_eq(json_array_size(res), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(res, 0), "replies")), 1);
    cr_assert(json_is_integer(json_object_get(json_array_get(res, 0), "last_ms")));
    json_decref(r);

    r = call("{\"cmd\":\"thread.show\",\"session\":\"%s\",\"post\":\"%s\"}", a, rid);
    res = ok(r);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "post"), "id")), pid);
    cr_assert_eq(json_array_size(json_object_get(res, "replies")), 1);
    json_decref(r);

    expect_error(call("{\"cmd\":\"post.delete\",\"session\":\"%s\",\"post\":\"%s\"}", b, pid),
                 -KITH_ENOTYOURS, NULL);
    r = call("{\"cmd\":\"post.delete\",\"session\":\"%s\",\"post\":\"%s\"}", b, rid);
    res = ok(r);
    cr_assert_str_eq(json_string_value(json_object_get(res, "id")), rid);
    cr_assert(json_is_true(json_object_get(res, "deleted")));
    json_decref(r);

    expect_error(call("{\"cmd\":\"export\",\"session\":\"%s\",\"format\":\"pdf\"}", a),
                 -KITH_EREQUEST, "field must be \"json\" or \"md\": format");
    r = call("{\"cmd\":\"export\",\"session\":\"%s\"}", a);
    res = ok(r);
    cr_assert_str_eq(json_string_value(json_object_get(res, "format")), "json");
    cr_assert_eq(json_array_size(json_object_get(res, "posts")), 1);
    json_decref(r);
    r = call("{\"cmd\":\"export\",\"session\":\"%s\",\"format\":\"md\"}", a);
    res = ok(r);
    cr_assert_str_eq(json_string_value(json_object_get(res, "format")), "md");
    cr_assert_not_null(strstr(json_string_value(json_object_get(res, "text")), "line two"));
    json_decref(r);

    r = call("{\"cmd\":\"account.unlock\",\"name\":\"ana\",\"passphrase\":\"pw\"}");
    cr_assert_str_eq(json_string_value(json_object_get(ok(r), "name")), "Ana");
    json_decref(r);
    r = call("{\"cmd\":\"account.lock\",\"session\":\"%s\"}", a);
    cr_assert_eq(json_object_size(ok(r)), 0);
    json_decref(r);
    expect_error(call("{\"cmd\":\"group.list\",\"session\":\"%s\"}", a), -KITH_ELOCKED, NULL);
}
