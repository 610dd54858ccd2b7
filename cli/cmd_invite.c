/*
 * kith invite --group G: print a code that lets someone join the group.
 * The code carries the group's key: whoever has it can read the group.
 */
#include <stdio.h>

#include "cmd.h"
#include "output.h"

static const struct args_opt opts[] = {
    {.name = "group", .shortopt = 'g', .has_value = 1, .meta = "GROUP"},
    {0},
};

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *group = args_get(a, 0);
    struct client_what what = {.group = group};
    json_t *result = NULL;

    if (!group) {
        out_error("say which group to invite people to: kith invite --group GROUP");
        return CMD_USAGE;
    }
    json_t *params = json_pack("{s:s}", "group", group);
    if (!params) {
        out_error("the group name must be text (UTF-8)");
        return CMD_USAGE;
    }
    if (cmd_call(ctx, "group.invite", params, 1, &what, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
    } else {
        const char *name = cmd_str(result, "name");
        printf("Invite code for \"%s\":\n\n%s\n\n", name, cmd_str(result, "code"));
        printf("Anyone with this code can read everything in \"%s\", so share it in person\n"
               "(not by email or on social media). To join, they run: kith join CODE\n",
               name);
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_invite_entry = {
    .name = "invite",
    .usage = "--group GROUP",
    .summary = "Print a code that lets someone join a group.",
    .help = "The code is a secret: anyone who has it can read the group. Share it in person.",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
