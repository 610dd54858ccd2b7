/*
 * kith post --group G [--topic T] [--title T] [TEXT|-]: write a new post.
 * The text is the words given, stdin for "-", or an editor when none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "body.h"
#include "cmd.h"
#include "kith/error.h"
#include "output.h"

static const struct args_opt opts[] = {
    {.name = "group", .shortopt = 'g', .has_value = 1, .meta = "GROUP"},
    {.name = "topic", .shortopt = 't', .has_value = 1, .meta = "TOPIC"},
    {.name = "title", .has_value = 1, .meta = "TITLE"},
    {0},
};

/* Shared with cmd_reply.c: get the text, or say why not. */
enum cmd_retval cmd_get_body(const struct args *a, int first, const char *header, char **out)
{
    int r = body_get(a->npos - first, a->pos + first, header, out);

    switch (-r) {
    case 0:
        break;
    case EFBIG:
        out_error("the text is too long for one post (the limit is 64 KiB)");
        return CMD_FAIL;
    case ENOTTY:
        out_error("no text given: write it after the command, or give - to read it from stdin");
        return CMD_USAGE;
    case ECHILD:
        out_error("the editor did not finish cleanly, so nothing was posted (set EDITOR to "
                  "the editor you want)");
        return CMD_FAIL;
    default:
        out_error("cannot read the text: %s", kith_strerror(r));
        return CMD_FAIL;
    }
    if (body_is_blank(*out)) {
        free(*out);
        *out = NULL;
        out_error("the text is empty, so nothing was posted");
        return CMD_FAIL;
    }
    return CMD_OK;
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *group = args_get(a, 0), *topic = args_get(a, 1), *title = args_get(a, 2);
    struct client_what what = {.group = group};
    json_t *result = NULL;
    char *body = NULL, header[1024], id[OUT_SHORT_ID + 1];

    if (!group) {
        out_error("say which group to post in: kith post --group GROUP [TEXT]");
        return CMD_USAGE;
    }
    snprintf(header, sizeof(header),
             "# Write your post above these lines. Lines starting with '#' are left out.\n"
             "# Group: %s\n# Topic: %s\n"
             "# Save the file and close the editor to post it; leave it empty to cancel.\n",
             group, topic ? topic : "(none)");
    enum cmd_retval rv = cmd_get_body(a, 0, header, &body);
    if (rv != CMD_OK)
        return rv;
    json_t *params = json_pack("{s:s, s:s}", "group", group, "body", body);
    free(body);
    if (params && topic)
        json_object_set_new(params, "topic", json_string(topic));
    if (params && title)
        json_object_set_new(params, "title", json_string(title));
    if (!params) {
        out_error("the group name and the text must be text (UTF-8)");
        return CMD_FAIL;
    }
    if (cmd_call(ctx, "post.create", params, 1, &what, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
    } else {
        out_short_id(cmd_str(result, "id"), id, sizeof(id));
        printf("Posted %s in \"%s\"", id, cmd_str(result, "group"));
        if (*cmd_str(result, "topic"))
            printf(" (topic: %s)", cmd_str(result, "topic"));
        printf(".\n");
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_post_entry = {
    .name = "post",
    .usage = "--group GROUP [--topic TOPIC] [--title TITLE] [TEXT|-]",
    .summary = "Write a new post in a group.",
    .help = "The text is the words after the options, or what you type or pipe in when you\n"
            "give \"-\". With no text, kith opens your editor ($EDITOR) on an empty file.\n"
            "GROUP is the group's name or the start of its id.",
    .opts = opts,
    .min_args = 0,
    .max_args = -1,
    .exec = exec,
};
