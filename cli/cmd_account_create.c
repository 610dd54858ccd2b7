/*
 * kith account create NAME: make an account on this node and unlock it.
 * The passphrase is asked twice (or taken from $KITH_PASSPHRASE); the node
 * seals the new secret key under it with Argon2id.
 */
#include <stdio.h>

#include <sodium.h>

#include "cmd.h"
#include "output.h"
#include "prompt.h"
#include "session.h"

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *name = a->pos[0];
    struct client_what what = {.account = name};
    char pass[PROMPT_PASS_MAX], q[512];
    json_t *result = NULL;
    enum cmd_retval rv;
    int r;

    snprintf(q, sizeof(q), "Choose a passphrase for \"%s\": ", name);
    if ((r = prompt_passphrase(q, 1, pass, sizeof(pass))) < 0) {
        cmd_passphrase_error(r);
        return CMD_FAIL;
    }
    json_t *params = json_pack("{s:s, s:s}", "name", name, "passphrase", pass);
    sodium_memzero(pass, sizeof(pass));
    if (!params) {
        out_error("the name must be text (UTF-8)");
        return CMD_USAGE;
    }
    rv = cmd_call(ctx, "account.create", params, 0, &what, &result);
    if (rv != CMD_OK)
        return rv;
    cmd_keep_session(ctx, result);
    if (ctx->json)
        cmd_print_json(result);
    else
        printf("Created the account \"%s\". It is unlocked now; lock it with: kith lock\n",
               cmd_str(result, "name"));
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_account_create_entry = {
    .name = "account create",
    .usage = "NAME",
    .summary = "Make a new account on this node; you choose its passphrase.",
    .help = "NAME is the name others see next to your posts. It need not be your real name.\n"
            "You are asked for a passphrase twice (or set KITH_PASSPHRASE in scripts).\n"
            "Nobody can get your posts back for you if you forget it, so keep it safe.",
    .min_args = 1,
    .max_args = 1,
    .exec = exec,
};
