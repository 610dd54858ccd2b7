/*
 * kith show ID: one thread in full: the post and its replies, with bodies.
 */
#include <stdio.h>

#include "cmd.h"
#include "output.h"

static void print_body(const json_t *post)
{
    if (json_is_true(json_object_get(post, "deleted")))
        return;
    printf("\n%s\n", cmd_str(post, "body"));
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *id = a->pos[0];
    struct client_what what = {.post = id};
    json_t *result = NULL;
    char pid[OUT_SHORT_ID + 1];

    json_t *params = json_pack("{s:s}", "post", id);
    if (!params) {
        out_error("the id must be text");
        return CMD_USAGE;
    }
    if (cmd_call(ctx, "thread.show", params, 1, &what, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
        json_decref(result);
        return CMD_OK;
    }
    json_t *post = json_object_get(result, "post");
    json_t *replies = json_object_get(result, "replies");
    size_t n = json_array_size(replies);
    const char *title = cmd_str(post, "title");
    const char *parent = cmd_str(post, "parent");

    if (*parent) {
        out_short_id(parent, pid, sizeof(pid));
        printf("This is a reply to %s.\n", pid);
    }
    if (!json_is_true(json_object_get(post, "deleted")) && *title)
        printf("%s\n", title);
    cmd_print_post_head(stdout, post, *parent ? "Reply" : "Post");
    print_body(post);
    if (n > 0) {
        printf("\n%zu %s:\n", n, n == 1 ? "reply" : "replies");
        for (size_t i = 0; i < n; i++) {
            printf("\n");
            cmd_print_post_head(stdout, json_array_get(replies, i), "Reply");
            print_body(json_array_get(replies, i));
        }
    } else if (!*parent) {
        out_short_id(cmd_str(post, "id"), pid, sizeof(pid));
        printf("\nNo replies yet. Reply with: kith reply %s\n", pid);
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_show_entry = {
    .name = "show",
    .usage = "ID",
    .summary = "Show a post and its replies in full.",
    .help = "ID is the start of the post's id, as kith read shows it (at least 4 characters).",
    .min_args = 1,
    .max_args = 1,
    .exec = exec,
};
