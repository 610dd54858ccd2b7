/*
 * rpc: the control protocol of node/CONTROL.md. Parses one request line
 * (jansson), checks the fields each command needs, calls the service and
 * builds the response line. Commands are data: one table of {name, needs a
 * session, handler}. Owns nothing between calls; passphrases are wiped from
 * the parsed request as soon as they have been used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "kith/error.h"
#include "record.h"
#include "rpc.h"
#include "service.h"
#include "sync.h"

struct rpc_req {
    struct service *svc;
    json_t *req;
    struct service_session *sess;
    char msg[128]; /* detail for KITH_EREQUEST, naming the field */
};

typedef int (*rpc_fn)(struct rpc_req *q, json_t **result);

/* ---- fields ---- */

static int bad_field(struct rpc_req *q, const char *what, const char *field)
{
    snprintf(q->msg, sizeof(q->msg), "%s: %s", what, field);
    return -KITH_EREQUEST;
}

/* A string field. Absent or null: *out = NULL, and -KITH_EREQUEST when
 * required. */
static int field_str(struct rpc_req *q, const char *field, int required, const char **out,
                     size_t *len)
{
    json_t *v = json_object_get(q->req, field);

    *out = NULL;
    if (len != NULL)
        *len = 0;
    if (v == NULL || json_is_null(v))
        return required ? bad_field(q, "missing field", field) : 0;
    if (!json_is_string(v))
        return bad_field(q, "field must be a string", field);
    *out = json_string_value(v);
    if (len != NULL)
        *len = json_string_length(v);
    return 0;
}

/* Overwrite a string field's bytes inside the parsed request (jansson keeps
 * the one copy; the caller's line is the control socket's to wipe). */
static void field_wipe(struct rpc_req *q, const char *field)
{
    json_t *v = json_object_get(q->req, field);

    if (json_is_string(v))
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

static int field_id(struct rpc_req *q, const char *field, const char **out)
{
    int r = field_str(q, field, 1, out, NULL);

    if (r == 0 && strlen(*out) < SERVICE_ID_PREFIX_MIN)
        return bad_field(q, "id must be 4 or more hex characters", field);
    return r;
}

/* ---- commands ---- */

static int session_result(struct service_session *s, json_t **result)
{
    char hex[2 * KITH_PUBKEY_BYTES + 1];

    sodium_bin2hex(hex, sizeof(hex), service_session_public_key(s), KITH_PUBKEY_BYTES);
    *result = json_pack("{s:s,s:s,s:s}", "name", service_session_name(s), "public_key", hex,
                        "session", service_session_token(s));
    return *result != NULL ? 0 : -ENOMEM;
}

static int account_open(struct rpc_req *q, json_t **result, int create)
{
    const char *name, *pass;
    size_t pass_len;
    struct service_session *s;
    int r;

    if ((r = field_str(q, "name", 1, &name, NULL)) < 0 ||
        (r = field_str(q, "passphrase", 1, &pass, &pass_len)) < 0)
        goto done;
    if (create)
        r = service_account_create(q->svc, name, pass, pass_len, &s);
    else
        r = service_account_unlock(q->svc, name, pass, pass_len, &s);
    if (r == 0)
        r = session_result(s, result);
done:
    field_wipe(q, "passphrase");
    return r;
}

static int cmd_account_create(struct rpc_req *q, json_t **result)
{
    return account_open(q, result, 1);
}

static int cmd_account_unlock(struct rpc_req *q, json_t **result)
{
    return account_open(q, result, 0);
}

static int cmd_account_lock(struct rpc_req *q, json_t **result)
{
    service_account_lock(q->svc, q->sess);
    q->sess = NULL;
    *result = json_object();
    return *result != NULL ? 0 : -ENOMEM;
}

static int cmd_status(struct rpc_req *q, json_t **result)
{
    struct sync *sy = service_sync(q->svc);
    int r = service_status(q->svc, result);

    if (r == 0 && sy != NULL) {
        r = sync_status_add(sy, *result);
        if (r < 0) {
            json_decref(*result);
            *result = NULL;
        }
    }
    return r;
}

/* ---- sync (CONTROL.md, "Sync commands") ---- */

static int no_sync(struct rpc_req *q)
{
    snprintf(q->msg, sizeof(q->msg), "this node is not syncing");
    return -KITH_EINVAL;
}

static int cmd_peers(struct rpc_req *q, json_t **result)
{
    struct sync *sy = service_sync(q->svc);

    return sy != NULL ? sync_peers_json(sy, result) : no_sync(q);
}

static int cmd_sync(struct rpc_req *q, json_t **result)
{
    struct sync *sy = service_sync(q->svc);
    const char *peer, *serial;
    json_t *baud = json_object_get(q->req, "baud");
    int r = field_str(q, "peer", 0, &peer, NULL);

    if (r == 0)
        r = field_str(q, "serial", 0, &serial, NULL);
    if (r < 0)
        return r;
    if (peer != NULL && serial != NULL)
        return bad_field(q, "give peer or serial, not both", "serial");
    if (baud != NULL && !json_is_null(baud) &&
        (serial == NULL || !json_is_integer(baud) || json_integer_value(baud) <= 0 ||
         json_integer_value(baud) > UINT32_MAX ||
         !serial_baud_supported((uint32_t)json_integer_value(baud))))
        return bad_field(q, "field must be a standard baud rate, with serial", "baud");
    if (sy == NULL)
        return no_sync(q);
    if (serial != NULL) {
        r = sync_now_serial(sy, serial,
                            json_is_integer(baud) ? (uint32_t)json_integer_value(baud) : 0, result);
        if (r == -KITH_EINVAL)
            return bad_field(q, "field must be a device path", "serial");
        if (r == -ENOSPC)
            snprintf(q->msg, sizeof(q->msg), "too many serial links at once");
        return r;
    }
    r = sync_now(sy, peer, result);
    if (r == -KITH_EINVAL)
        return bad_field(q, "field must be HOST:PORT", "peer");
    return r;
}

static int cmd_sync_status(struct rpc_req *q, json_t **result)
{
    struct sync *sy = service_sync(q->svc);
    json_t *v = json_object_get(q->req, "sync_id");

    if (v == NULL || json_is_null(v))
        return bad_field(q, "missing field", "sync_id");
    if (!json_is_integer(v))
        return bad_field(q, "field must be an integer", "sync_id");
    if (sy == NULL)
        return no_sync(q);
    return sync_job_json(sy, json_integer_value(v), result);
}

static int cmd_sync_sets(struct rpc_req *q, json_t **result)
{
    struct sync *sy = service_sync(q->svc);

    return sy != NULL ? sync_sets_json(sy, result) : no_sync(q);
}

static int cmd_group_create(struct rpc_req *q, json_t **result)
{
    const char *name, *topics[RECORD_TOPICS_MAX];
    json_t *t = json_object_get(q->req, "topics"), *v;
    size_t i;
    int r = field_str(q, "name", 1, &name, NULL);

    if (r < 0)
        return r;
    if (t == NULL || json_is_null(t))
        return service_group_create(q->svc, q->sess, name, NULL, 0, result);
    if (!json_is_array(t))
        return bad_field(q, "field must be an array of strings", "topics");
    if (json_array_size(t) > RECORD_TOPICS_MAX)
        return -KITH_ETOOBIG;
    json_array_foreach(t, i, v)
    {
        if (!json_is_string(v))
            return bad_field(q, "field must be an array of strings", "topics");
        topics[i] = json_string_value(v);
    }
    return service_group_create(q->svc, q->sess, name, topics, json_array_size(t), result);
}

static int cmd_group_list(struct rpc_req *q, json_t **result)
{
    return service_group_list(q->svc, q->sess, result);
}

static int cmd_group_invite(struct rpc_req *q, json_t **result)
{
    const char *group;
    int r = field_str(q, "group", 1, &group, NULL);

    return r < 0 ? r : service_group_invite(q->svc, q->sess, group, result);
}

static int cmd_group_join(struct rpc_req *q, json_t **result)
{
    const char *code;
    int r = field_str(q, "code", 1, &code, NULL);

    if (r == 0)
        r = service_group_join(q->svc, q->sess, code, result);
    field_wipe(q, "code"); /* it carries the group key */
    return r;
}

static int cmd_post_create(struct rpc_req *q, json_t **result)
{
    const char *group, *body, *topic, *title;
    size_t body_len;
    int r;

    if ((r = field_str(q, "group", 1, &group, NULL)) < 0 ||
        (r = field_str(q, "body", 1, &body, &body_len)) < 0 ||
        (r = field_str(q, "topic", 0, &topic, NULL)) < 0 ||
        (r = field_str(q, "title", 0, &title, NULL)) < 0)
        return r;
    if (body_len == 0)
        return bad_field(q, "field is empty", "body");
    return service_post_create(q->svc, q->sess, group, topic, title, body, body_len, result);
}

static int cmd_post_reply(struct rpc_req *q, json_t **result)
{
    const char *parent, *body;
    size_t body_len;
    int r;

    if ((r = field_id(q, "parent", &parent)) < 0 ||
        (r = field_str(q, "body", 1, &body, &body_len)) < 0)
        return r;
    if (body_len == 0)
        return bad_field(q, "field is empty", "body");
    return service_post_reply(q->svc, q->sess, parent, body, body_len, result);
}

static int cmd_post_delete(struct rpc_req *q, json_t **result)
{
    const char *id;
    int r = field_id(q, "post", &id);

    return r < 0 ? r : service_post_delete(q->svc, q->sess, id, result);
}

static int cmd_thread_list(struct rpc_req *q, json_t **result)
{
    const char *group, *topic;
    json_t *l = json_object_get(q->req, "limit");
    size_t limit = SERVICE_THREAD_LIMIT_DEFAULT;
    int r;

    if ((r = field_str(q, "group", 1, &group, NULL)) < 0 ||
        (r = field_str(q, "topic", 0, &topic, NULL)) < 0)
        return r;
    if (l != NULL && !json_is_null(l)) {
        if (!json_is_integer(l))
            return bad_field(q, "field must be an integer", "limit");
        if (json_integer_value(l) < 1 || json_integer_value(l) > SERVICE_THREAD_LIMIT_MAX)
            return bad_field(q, "field must be 1 to 1000", "limit");
        limit = (size_t)json_integer_value(l);
    }
    return service_thread_list(q->svc, q->sess, group, topic, limit, result);
}

static int cmd_thread_show(struct rpc_req *q, json_t **result)
{
    const char *id;
    int r = field_id(q, "post", &id);

    return r < 0 ? r : service_thread_show(q->svc, q->sess, id, result);
}

static int cmd_export(struct rpc_req *q, json_t **result)
{
    const char *format;
    enum service_export_format f = SERVICE_EXPORT_JSON;
    int r = field_str(q, "format", 0, &format, NULL);

    if (r < 0)
        return r;
    if (format != NULL && strcmp(format, "md") == 0)
        f = SERVICE_EXPORT_MD;
    else if (format != NULL && strcmp(format, "json") != 0)
        return bad_field(q, "field must be \"json\" or \"md\"", "format");
    return service_export(q->svc, q->sess, f, result);
}

static const struct rpc_cmd {
    const char *name;
    int needs_session;
    rpc_fn fn;
} rpc_cmds[] = {
    {"status", 0, cmd_status},
    {"account.create", 0, cmd_account_create},
    {"account.unlock", 0, cmd_account_unlock},
    {"account.lock", 1, cmd_account_lock},
    {"group.create", 1, cmd_group_create},
    {"group.list", 1, cmd_group_list},
    {"group.invite", 1, cmd_group_invite},
    {"group.join", 1, cmd_group_join},
    {"post.create", 1, cmd_post_create},
    {"post.reply", 1, cmd_post_reply},
    {"post.delete", 1, cmd_post_delete},
    {"thread.list", 1, cmd_thread_list},
    {"thread.show", 1, cmd_thread_show},
    {"export", 1, cmd_export},
    {"peers", 0, cmd_peers},
    {"sync", 0, cmd_sync},
    {"sync.status", 0, cmd_sync_status},
    {"sync.sets", 0, cmd_sync_sets},
};

/* ---- framing ---- */

static int dispatch(struct rpc_req *q, json_t **result)
{
    const char *cmd, *token;
    int r;

    if (!json_is_object(q->req)) {
        snprintf(q->msg, sizeof(q->msg), "the request is not a JSON object");
        return -KITH_EREQUEST;
    }
    r = field_str(q, "cmd", 1, &cmd, NULL);
    if (r < 0)
        return r;
    for (size_t i = 0; i < sizeof(rpc_cmds) / sizeof(rpc_cmds[0]); i++) {
        if (strcmp(rpc_cmds[i].name, cmd) != 0)
            continue;
        if (rpc_cmds[i].needs_session) {
            r = field_str(q, "session", 0, &token, NULL);
            if (r < 0)
                return r;
            if (token == NULL)
                return -KITH_ELOCKED;
            r = service_session_find(q->svc, token, &q->sess);
            if (r < 0)
                return r;
        }
        return rpc_cmds[i].fn(q, result);
    }
    snprintf(q->msg, sizeof(q->msg), "unknown command: %.40s", cmd);
    return -KITH_EUNKNOWNCMD;
}

static json_t *error_object(int code, const char *msg)
{
    return json_pack("{s:I,s:s,s:s}", "code", (json_int_t)code, "name", kith_errname(code),
                     "message", msg[0] != '\0' ? msg : kith_strerror(code));
}

int rpc_handle(struct service *svc, const char *line, size_t len, char **response)
{
    struct rpc_req q;
    json_error_t jerr;
    json_t *result = NULL, *resp = NULL, *id;
    int r;

    *response = NULL;
    memset(&q, 0, sizeof(q));
    q.svc = svc;
    if (len > (size_t)RPC_LINE_MAX) {
        snprintf(q.msg, sizeof(q.msg), "the request is longer than 1 MiB");
        r = -KITH_EREQUEST;
    } else {
        q.req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        if (q.req == NULL) {
            snprintf(q.msg, sizeof(q.msg), "the request is not valid JSON (column %d)",
                     jerr.column);
            r = -KITH_EREQUEST;
        } else {
            r = dispatch(&q, &result);
        }
    }
    id = json_is_object(q.req) ? json_object_get(q.req, "id") : NULL;
    if (id == NULL)
        id = json_null();
    else
        json_incref(id);
    if (r == 0)
        resp = json_pack("{s:o,s:b,s:o}", "id", id, "ok", 1, "result", result);
    else
        resp = json_pack("{s:o,s:b,s:o}", "id", id, "ok", 0, "error", error_object(r, q.msg));
    if (resp != NULL)
        *response = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    json_decref(q.req);
    return *response != NULL ? 0 : -ENOMEM;
}
