/*
 * kith delete ID [--yes]: delete one of your own posts. On a terminal it
 * shows which post and asks first; scripts (no terminal) and --yes do not
 * ask. The node keeps a delete marker that makes every copy drop the text.
 */
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"
#include "prompt.h"

static const struct args_opt opts[] = {
    {.name = "yes", .shortopt = 'y', .has_value = 0},
    {0},
};

/* Show the post about to go and ask. CMD_OK means go ahead. */
static enum cmd_retval confirm(struct cmd_ctx *ctx, const char *id, const struct client_what *what)
{
    json_t *result = NULL;
    char label[256];
    int yes = 0;

    json_t *params = json_pack("{s:s}", "post", id);
    if (!params || cmd_call(ctx, "thread.show", params, 1, what, &result) != CMD_OK)
        return CMD_FAIL;
    json_t *post = json_object_get(result, "post");
    const char *title = cmd_str(post, "title");
    out_first_line(*title ? title : cmd_str(post, "body"), 70, label, sizeof(label));
    cmd_print_post_head(stderr, post, *cmd_str(post, "parent") ? "Reply" : "Post");
    fprintf(stderr, "  %s\n", label);
    json_decref(result);
    if (prompt_yes_no("Delete this post?", &yes) < 0 || !yes) {
        out_error("nothing was deleted");
        return CMD_FAIL;
    }
    return CMD_OK;
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *id = a->pos[0];
    struct client_what what = {.post = id};
    json_t *result = NULL;
    char sid[OUT_SHORT_ID + 1];

    if (a->count[0] == 0 && isatty(STDIN_FILENO) && confirm(ctx, id, &what) != CMD_OK)
        return CMD_FAIL;
    json_t *params = json_pack("{s:s}", "post", id);
    if (!params) {
        out_error("the id must be text");
        return CMD_USAGE;
    }
    if (cmd_call(ctx, "post.delete", params, 1, &what, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
    } else {
        out_short_id(*cmd_str(result, "id") ? cmd_str(result, "id") : id, sid, sizeof(sid));
        printf("Deleted %s. Its text is gone from this node, and from other nodes when they "
               "next sync.\n",
               sid);
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_delete_entry = {
    .name = "delete",
    .usage = "ID [--yes]",
    .summary = "Delete one of your own posts or replies.",
    .help = "On a terminal kith shows the post and asks \"Delete this post? [y/N]\" first;\n"
            "--yes skips the question. Replies to it stay.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .exec = exec,
};
