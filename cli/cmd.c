/*
 * cmd: helpers that every subcommand shares (see cmd.h): making a request
 * with the kept session, printing JSON, and small pieces of the plain-text
 * layout of posts. Owns nothing.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "output.h"
#include "prompt.h"
#include "session.h"

int cmd_request(struct cmd_ctx *ctx, const char *cmd, json_t *params, int with_session,
                json_t **result, struct client_error *err, char name[SESSION_NAME_MAX],
                int *had_session)
{
    json_t *req = params ? params : json_object();
    char token[SESSION_TOKEN_MAX];
    int r;

    *result = NULL;
    *had_session = 0;
    name[0] = '\0';
    if (!req || json_object_set_new(req, "cmd", json_string(cmd)) < 0) {
        json_decref(req);
        memset(err, 0, sizeof(*err));
        err->code = -ENOMEM;
        return -ENOMEM;
    }
    if (with_session && session_load(ctx->socket_path, token, name) == 0) {
        json_object_set_new(req, "session", json_string(token));
        *had_session = 1;
        sodium_memzero(token, sizeof(token));
    }
    r = client_call(ctx->client, req, result, err);
    json_decref(req);
    return r;
}

void cmd_report(struct cmd_ctx *ctx, const struct client_error *err, const struct client_what *what,
                const char *name, int had_session)
{
    char msg[1024];

    if (err->from_node && err->code == -KITH_ELOCKED && had_session) {
        /* The node forgot the session (idle, or it restarted): drop ours. */
        if (!getenv("KITH_SESSION"))
            session_forget(ctx->socket_path);
        if (name && name[0]) {
            out_error("\"%s\" is locked now (it locks itself after a while without use, or "
                      "when the node restarts); run: kith unlock %s",
                      name, name);
            return;
        }
    }
    client_explain(err, what, ctx->socket_path, msg, sizeof(msg));
    out_error("%s", msg);
}

enum cmd_retval cmd_call(struct cmd_ctx *ctx, const char *cmd, json_t *params, int with_session,
                         const struct client_what *what, json_t **result)
{
    struct client_error err;
    char name[SESSION_NAME_MAX];
    int had;

    if (cmd_request(ctx, cmd, params, with_session, result, &err, name, &had) == 0)
        return CMD_OK;
    cmd_report(ctx, &err, what, name, had);
    return CMD_FAIL;
}

void cmd_print_json(const json_t *result)
{
    out_json(result);
}

const char *cmd_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

long long cmd_int(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

void cmd_shell_word(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    int plain = *s != '\0';

    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-_.,:/@+=", *p)))
            plain = 0;
    if (plain) {
        snprintf(buf, cap, "%s", s);
        return;
    }
    if (cap < 3) {
        if (cap)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '\'';
    for (const char *p = s; *p; p++) {
        const char *piece = *p == '\'' ? "'\\''" : NULL;
        size_t n = piece ? 4 : 1;
        if (o + n + 2 > cap)
            break;
        if (piece)
            memcpy(buf + o, piece, n);
        else
            buf[o] = *p;
        o += n;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

void cmd_print_post_head(FILE *f, const json_t *post, const char *what)
{
    char id[OUT_SHORT_ID + 1], when[64];
    const char *topic = cmd_str(post, "topic");

    out_short_id(cmd_str(post, "id"), id, sizeof(id));
    out_when(out_now_ms(), (uint64_t)cmd_int(post, "created_ms"), when, sizeof(when));
    if (json_is_true(json_object_get(post, "deleted"))) {
        fprintf(f, "%s %s by %s was deleted by its author.\n", what, id, cmd_str(post, "author"));
        return;
    }
    fprintf(f, "%s %s by %s, %s%s", what, id, cmd_str(post, "author"), when,
            json_is_true(json_object_get(post, "edited")) ? " (edited)" : "");
    /* A thread's first post says where it is; its replies need not. */
    if (!*cmd_str(post, "parent") && *cmd_str(post, "group")) {
        fprintf(f, ", in \"%s\"", cmd_str(post, "group"));
        if (*topic)
            fprintf(f, " (topic: %s)", topic);
    }
    fprintf(f, ":\n");
}

void cmd_passphrase_error(int r)
{
    switch (-r) {
    case ENOTTY:
        out_error("no passphrase given (type it in a terminal, or set KITH_PASSPHRASE)");
        break;
    case EINVAL:
        out_error("the passphrase is empty");
        break;
    case EMSGSIZE:
        out_error("the passphrase is too long (at most %d characters)", PROMPT_PASS_MAX - 1);
        break;
    case ECANCELED:
        out_error("the two passphrases were not the same, so nothing was changed");
        break;
    default:
        out_error("cannot read the passphrase: %s", kith_strerror(r));
        break;
    }
}

/* Keep the session; a failure here is a warning, not a failed command. */
void cmd_keep_session(struct cmd_ctx *ctx, const json_t *result)
{
    int r = session_save(ctx->socket_path, cmd_str(result, "session"), cmd_str(result, "name"));

    if (r < 0)
        out_error("warning: could not keep the session (%s); other commands will say you are "
                  "locked",
                  kith_strerror(r));
}
