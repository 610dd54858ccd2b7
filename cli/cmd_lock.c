/*
 * kith lock: end the session, so the node wipes the unlocked key and this
 * terminal can no longer act as the account.
 */
#include <stdio.h>

#include "cmd.h"
#include "kith/error.h"
#include "output.h"
#include "session.h"

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    struct client_error err;
    char name[SESSION_NAME_MAX];
    json_t *result = NULL;
    int had, r;

    r = cmd_request(ctx, "account.lock", NULL, 1, &result, &err, name, &had);
    if (r < 0 && !(err.from_node && err.code == -KITH_ELOCKED)) {
        cmd_report(ctx, &err, NULL, name, had);
        return CMD_FAIL;
    }
    /* Locked now, or already: either way nothing is unlocked any more. */
    session_forget(ctx->socket_path);
    if (ctx->json) {
        json_t *o = json_pack("{s:b}", "was_unlocked", r == 0);
        cmd_print_json(o);
        json_decref(o);
    } else if (r == 0 && name[0]) {
        printf("Locked \"%s\". To use it again, run: kith unlock %s\n", name, name);
    } else if (r == 0) {
        printf("Locked.\n");
    } else {
        printf("Nothing was unlocked, so there was nothing to lock.\n");
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_lock_entry = {
    .name = "lock",
    .usage = "",
    .summary = "Lock your account, so nobody can use it from here without the passphrase.",
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
