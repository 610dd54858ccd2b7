/*
 * kith reply ID [TEXT|-]: answer a post. The text comes as for kith post.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "output.h"

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *id = a->pos[0];
    struct client_what what = {.post = id};
    json_t *result = NULL;
    char *body = NULL, header[512], rid[OUT_SHORT_ID + 1], pid[OUT_SHORT_ID + 1];

    snprintf(header, sizeof(header),
             "# Write your reply to %s above these lines. Lines starting with '#' are left out.\n"
             "# Save the file and close the editor to post it; leave it empty to cancel.\n",
             id);
    enum cmd_retval rv = cmd_get_body(a, 1, header, &body);
    if (rv != CMD_OK)
        return rv;
    json_t *params = json_pack("{s:s, s:s}", "parent", id, "body", body);
    free(body);
    if (!params) {
        out_error("the text must be text (UTF-8)");
        return CMD_FAIL;
    }
    if (cmd_call(ctx, "post.reply", params, 1, &what, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
    } else {
        out_short_id(cmd_str(result, "id"), rid, sizeof(rid));
        out_short_id(*cmd_str(result, "parent") ? cmd_str(result, "parent") : id, pid, sizeof(pid));
        printf("Posted reply %s to %s in \"%s\".\n", rid, pid, cmd_str(result, "group"));
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_reply_entry = {
    .name = "reply",
    .usage = "ID [TEXT|-]",
    .summary = "Reply to a post.",
    .help = "ID is the start of the post's id. The text is the words after it, or what you\n"
            "pipe in when you give \"-\"; with no text kith opens your editor ($EDITOR).",
    .min_args = 1,
    .max_args = -1,
    .exec = exec,
};
