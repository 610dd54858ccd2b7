/*
 * kith join CODE: join a group with an invite code from one of its members.
 * The code may be typed in pieces (spaces are ignored).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "kith/error.h"
#include "output.h"

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    struct client_error err;
    char code[1024], name[SESSION_NAME_MAX], word[256];
    json_t *result = NULL;
    size_t o = 0;
    int had;

    /* Rejoin words split by the shell; the node ignores the spaces anyway. */
    code[0] = '\0';
    for (int i = 0; i < a->npos; i++) {
        size_t n = strlen(a->pos[i]);
        if (o + n + 1 >= sizeof(code)) {
            out_error("that invite code is too long (check that it was copied correctly)");
            return CMD_FAIL;
        }
        memcpy(code + o, a->pos[i], n);
        o += n;
        code[o] = '\0';
    }
    json_t *params = json_pack("{s:s}", "code", code);
    if (!params) {
        out_error("that invite code is not valid (check that it was copied in full)");
        return CMD_FAIL;
    }
    if (cmd_request(ctx, "group.join", params, 1, &result, &err, name, &had) < 0) {
        if (err.from_node && err.code == -KITH_EEXIST)
            out_error("you are already in that group");
        else
            cmd_report(ctx, &err, NULL, name, had);
        return CMD_FAIL;
    }
    if (ctx->json) {
        cmd_print_json(result);
    } else {
        cmd_shell_word(cmd_str(result, "name"), word, sizeof(word));
        printf("You joined \"%s\". Read it with: kith read --group %s\n", cmd_str(result, "name"),
               word);
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_join_entry = {
    .name = "join",
    .usage = "CODE",
    .summary = "Join a group with an invite code someone gave you.",
    .help = "The code starts with kith1-. You can type it with spaces; they are ignored.",
    .min_args = 1,
    .max_args = -1,
    .exec = exec,
};
