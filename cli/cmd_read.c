/*
 * kith read --group G [--topic T]: the threads in a group, newest activity
 * first, one short entry each.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "output.h"

static const struct args_opt opts[] = {
    {.name = "group", .shortopt = 'g', .has_value = 1, .meta = "GROUP"},
    {.name = "topic", .shortopt = 't', .has_value = 1, .meta = "TOPIC"},
    {.name = "limit", .shortopt = 'n', .has_value = 1, .meta = "NUMBER"},
    {0},
};

static void print_thread(const json_t *t)
{
    char id[OUT_SHORT_ID + 1], label[256], when[64], replies[64];
    const char *title = cmd_str(t, "title");

    out_short_id(cmd_str(t, "id"), id, sizeof(id));
    if (json_is_true(json_object_get(t, "deleted")))
        snprintf(label, sizeof(label), "(deleted by its author)");
    else
        out_first_line(*title ? title : cmd_str(t, "body"), 70, label, sizeof(label));
    out_when(out_now_ms(), (uint64_t)cmd_int(t, "created_ms"), when, sizeof(when));
    out_count(cmd_int(t, "replies"), "reply", "replies", replies, sizeof(replies));
    printf("%s  %s\n", id, label);
    printf("              by %s, %s, %s", cmd_str(t, "author"), when, replies);
    if (*cmd_str(t, "topic"))
        printf(" (topic: %s)", cmd_str(t, "topic"));
    printf("\n");
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *group = args_get(a, 0), *topic = args_get(a, 1), *limit = args_get(a, 2);
    struct client_what what = {.group = group};
    json_t *result = NULL;
    char word[256];

    if (!group) {
        out_error("say which group to read: kith read --group GROUP");
        return CMD_USAGE;
    }
    json_t *params = json_pack("{s:s}", "group", group);
    if (!params) {
        out_error("the group name must be text (UTF-8)");
        return CMD_USAGE;
    }
    if (topic)
        json_object_set_new(params, "topic", json_string(topic));
    if (limit) {
        char *end;
        long n = strtol(limit, &end, 10);
        if (*limit == '\0' || *end != '\0' || n < 1 || n > 1000) {
            json_decref(params);
            out_error("--limit is how many threads to show: a number from 1 to 1000");
            return CMD_USAGE;
        }
        json_object_set_new(params, "limit", json_integer(n));
    }
    if (cmd_call(ctx, "thread.list", params, 1, &what, &result) != CMD_OK)
        return CMD_FAIL;
    json_t *threads = json_object_get(result, "threads");
    size_t n = json_array_size(threads);
    if (ctx->json) {
        cmd_print_json(result);
    } else if (n == 0) {
        cmd_shell_word(group, word, sizeof(word));
        printf("There are no posts in \"%s\"%s%s%s yet. Write the first one with: kith post "
               "--group %s\n",
               group, topic ? " about \"" : "", topic ? topic : "", topic ? "\"" : "", word);
    } else {
        const char *gname = cmd_str(json_array_get(threads, 0), "group");
        printf("Threads in \"%s\"%s%s%s, newest first:\n\n", *gname ? gname : group,
               topic ? " about \"" : "", topic ? topic : "", topic ? "\"" : "");
        for (size_t i = 0; i < n; i++)
            print_thread(json_array_get(threads, i));
        printf("\nRead one with: kith show ID\n");
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_read_entry = {
    .name = "read",
    .usage = "--group GROUP [--topic TOPIC] [--limit NUMBER]",
    .summary = "List the threads in a group, newest first.",
    .help = "Each thread shows the start of its id; give it to kith show to read it all.",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
