/*
 * kith group create NAME [--topic T]...: make a new group with this account
 * as its first member. Without --topic the node offers the starter topics
 * from content/topics.
 */
#include <stdio.h>

#include "cmd.h"
#include "output.h"

static const struct args_opt opts[] = {
    {.name = "topic", .shortopt = 't', .has_value = 1, .meta = "TOPIC"},
    {0},
};

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *name = a->pos[0];
    struct client_what what = {.group = name};
    json_t *params = json_pack("{s:s}", "name", name);
    json_t *result = NULL;
    char word[256];

    if (!params) {
        out_error("the group name must be text (UTF-8)");
        return CMD_USAGE;
    }
    if (a->count[0] > 0) {
        json_t *topics = json_array();
        for (int i = 0; i < a->count[0]; i++)
            json_array_append_new(topics, json_string(a->val[0][i]));
        json_object_set_new(params, "topics", topics);
    }
    if (cmd_call(ctx, "group.create", params, 1, &what, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
    } else {
        json_t *topics = json_object_get(result, "topics");
        size_t n = json_array_size(topics);
        printf("Created the group \"%s\"", cmd_str(result, "name"));
        if (n == 0) {
            printf(".\n");
        } else {
            printf(" with %zu %s:\n", n, n == 1 ? "topic" : "topics");
            for (size_t i = 0; i < n; i++)
                printf("  - %s\n", json_string_value(json_array_get(topics, i)));
        }
        cmd_shell_word(cmd_str(result, "name"), word, sizeof(word));
        printf("Invite people with: kith invite --group %s\n", word);
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_group_create_entry = {
    .name = "group create",
    .usage = "NAME [--topic TOPIC]...",
    .summary = "Make a new group; you are its first member.",
    .help = "Posts in a group are sorted by topic. Give --topic once for each topic you want;\n"
            "without it the group gets the usual starter topics (personal budgets,\n"
            "assessments, direct payments and more).",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec,
};
