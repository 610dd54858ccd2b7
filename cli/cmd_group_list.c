/*
 * kith group list: the groups the unlocked account is in.
 */
#include <stdio.h>

#include "cmd.h"
#include "output.h"

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    json_t *result = NULL;
    char id[OUT_SHORT_ID + 1], posts[64];

    if (cmd_call(ctx, "group.list", NULL, 1, NULL, &result) != CMD_OK)
        return CMD_FAIL;
    json_t *groups = json_object_get(result, "groups");
    size_t n = json_array_size(groups);
    if (ctx->json) {
        cmd_print_json(result);
    } else if (n == 0) {
        printf("You are not in any group yet. Make one with: kith group create NAME\n"
               "or join one with: kith join CODE\n");
    } else {
        printf("You are in %zu %s:\n", n, n == 1 ? "group" : "groups");
        for (size_t i = 0; i < n; i++) {
            json_t *g = json_array_get(groups, i);
            out_short_id(cmd_str(g, "group_id"), id, sizeof(id));
            out_count(cmd_int(g, "posts"), "post", "posts", posts, sizeof(posts));
            printf("  %s: %s (id %s)\n", cmd_str(g, "name"), posts, id);
        }
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_group_list_entry = {
    .name = "group list",
    .usage = "",
    .summary = "List the groups you are in.",
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
