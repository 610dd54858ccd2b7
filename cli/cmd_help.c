/*
 * kith help [COMMAND]: the list of commands, or one command's usage.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "output.h"

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    int used = 0;

    if (a->npos == 0) {
        cmd_print_list(stdout);
        return CMD_OK;
    }
    const struct cmd_entry *e = cmd_find(a->npos, a->pos, &used);
    if (e && used == a->npos) {
        cmd_print_usage(stdout, e);
        return CMD_OK;
    }
    /* "kith help group": every command that starts with that word. */
    int found = 0;
    size_t n = strlen(a->pos[0]);
    for (int i = 0; a->npos == 1 && cmd_table[i]; i++) {
        const char *name = cmd_table[i]->name;
        if (strncmp(name, a->pos[0], n) == 0 && name[n] == ' ') {
            if (found++)
                printf("\n");
            cmd_print_usage(stdout, cmd_table[i]);
        }
    }
    if (found)
        return CMD_OK;
    out_error("there is no command \"%s%s%s\" (see: kith help)", a->pos[0], a->npos > 1 ? " " : "",
              a->npos > 1 ? a->pos[1] : "");
    return CMD_USAGE;
}

const struct cmd_entry cmd_help_entry = {
    .name = "help",
    .usage = "[COMMAND]",
    .summary = "Show the commands, or how to use one of them.",
    .min_args = 0,
    .max_args = 2,
    .exec = exec,
};
