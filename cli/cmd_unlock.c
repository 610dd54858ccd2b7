/*
 * kith unlock NAME: unlock an account with its passphrase, so the following
 * commands act as that account until kith lock (or the node's idle timeout).
 */
#include <stdio.h>

#include <sodium.h>

#include "cmd.h"
#include "output.h"
#include "prompt.h"

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *name = a->pos[0];
    struct client_what what = {.account = name};
    char pass[PROMPT_PASS_MAX], q[512];
    json_t *result = NULL;
    enum cmd_retval rv;
    int r;

    snprintf(q, sizeof(q), "Passphrase for \"%s\": ", name);
    if ((r = prompt_passphrase(q, 0, pass, sizeof(pass))) < 0) {
        cmd_passphrase_error(r);
        return CMD_FAIL;
    }
    json_t *params = json_pack("{s:s, s:s}", "name", name, "passphrase", pass);
    sodium_memzero(pass, sizeof(pass));
    if (!params) {
        out_error("the name must be text (UTF-8)");
        return CMD_USAGE;
    }
    rv = cmd_call(ctx, "account.unlock", params, 0, &what, &result);
    if (rv != CMD_OK)
        return rv;
    cmd_keep_session(ctx, result);
    if (ctx->json)
        cmd_print_json(result);
    else
        printf("Unlocked \"%s\". It stays unlocked until you run kith lock, or until it is "
               "not used for a while.\n",
               cmd_str(result, "name"));
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_unlock_entry = {
    .name = "unlock",
    .usage = "NAME",
    .summary = "Unlock your account with its passphrase.",
    .help = "You are asked for the passphrase (or set KITH_PASSPHRASE in scripts).\n"
            "Commands after this act as NAME until you run: kith lock",
    .min_args = 1,
    .max_args = 1,
    .exec = exec,
};
