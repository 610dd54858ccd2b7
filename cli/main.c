/*
 * kith: the member's command line. main() reads the global options, finds
 * the subcommand in the table below, parses its arguments and runs it. Each
 * subcommand lives in its own cli/cmd_<name>.c (the tmux cmd-*.c pattern);
 * this file owns the table, the connection and the exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "output.h"

#ifndef KITH_VERSION
#define KITH_VERSION "0.1.0"
#endif

/* The sync commands (issue 3); declared here, next to their place in the table. */
extern const struct cmd_entry cmd_sync_entry;
extern const struct cmd_entry cmd_peers_entry;

const struct cmd_entry *const cmd_table[] = {
    &cmd_account_create_entry, &cmd_unlock_entry,     &cmd_lock_entry,
    &cmd_group_create_entry,   &cmd_group_list_entry, &cmd_post_entry,
    &cmd_read_entry,           &cmd_show_entry,       &cmd_reply_entry,
    &cmd_delete_entry,         &cmd_export_entry,     &cmd_invite_entry,
    &cmd_join_entry,           &cmd_sync_entry,       &cmd_peers_entry,
    &cmd_status_entry,         &cmd_help_entry,       NULL,
};

const struct cmd_entry *cmd_find(int argc, char *const *argv, int *used)
{
    for (int i = 0; cmd_table[i]; i++) {
        const char *name = cmd_table[i]->name;
        const char *sp = strchr(name, ' ');
        if (!sp) {
            if (argc >= 1 && strcmp(argv[0], name) == 0) {
                *used = 1;
                return cmd_table[i];
            }
            continue;
        }
        size_t n = (size_t)(sp - name);
        if (argc >= 2 && strlen(argv[0]) == n && strncmp(argv[0], name, n) == 0 &&
            strcmp(argv[1], sp + 1) == 0) {
            *used = 2;
            return cmd_table[i];
        }
    }
    return NULL;
}

void cmd_print_usage(FILE *f, const struct cmd_entry *e)
{
    fprintf(f, "Usage: kith %s%s%s\n\n%s\n", e->name, e->usage[0] ? " " : "", e->usage, e->summary);
    if (e->help)
        fprintf(f, "\n%s\n", e->help);
    fprintf(f, "\nEvery command also takes --json (print the answer as JSON),\n"
               "--socket PATH (the node's socket) and --help.\n");
}

void cmd_print_list(FILE *f)
{
    fprintf(f,
            "kith %s: write and read posts in your peer-support groups.\n\n"
            "Usage: kith [--socket PATH] [--json] COMMAND [ARGUMENTS]\n\nCommands:\n",
            KITH_VERSION);
    for (int i = 0; cmd_table[i]; i++) {
        char left[64];
        snprintf(left, sizeof(left), "%s %s", cmd_table[i]->name, cmd_table[i]->usage);
        if (strlen(left) > 28)
            fprintf(f, "  %s\n  %-28s  %s\n", left, "", cmd_table[i]->summary);
        else
            fprintf(f, "  %-28s  %s\n", left, cmd_table[i]->summary);
    }
    fprintf(f, "\nRun \"kith help COMMAND\" for more about one command.\n"
               "The node's socket is --socket PATH, else $KITH_SOCKET, else kithd.sock in the\n"
               "node's data directory ($KITH_DATA, else $XDG_DATA_HOME/kith, else\n"
               "~/.local/share/kith). When you run no node of your own but the system node\n"
               "does (the kithd service), kith uses its socket, " CLIENT_SYSTEM_SOCKET ".\n");
}

/*
 * jansson's allocator, wiping every block before it is freed: a request to
 * create or unlock an account holds the passphrase in jansson's strings.
 */
#define ZHDR (alignof(max_align_t) > sizeof(size_t) ? alignof(max_align_t) : sizeof(size_t))

static void *zmalloc(size_t n)
{
    unsigned char *p = malloc(n + ZHDR);

    if (!p)
        return NULL;
    memcpy(p, &n, sizeof(n));
    return p + ZHDR;
}

static void zfree(void *q)
{
    unsigned char *p;
    size_t n;

    if (!q)
        return;
    p = (unsigned char *)q - ZHDR;
    memcpy(&n, p, sizeof(n));
    sodium_memzero(q, n);
    free(p);
}

/* The group word alone ("kith group") or an unknown word. */
static int unknown_command(int argc, char **argv)
{
    int n = 0;
    char list[256] = "";

    for (int i = 0; cmd_table[i]; i++) {
        const char *name = cmd_table[i]->name;
        const char *sp = strchr(name, ' ');
        size_t k = sp ? (size_t)(sp - name) : 0;
        if (sp && strlen(argv[0]) == k && strncmp(argv[0], name, k) == 0) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", n ? " or " : "", sp + 1);
            n++;
        }
    }
    if (n > 0 && argc >= 2)
        out_error("unknown command \"%s %s\" (try: kith %s %s)", argv[0], argv[1], argv[0], list);
    else if (n > 0)
        out_error("\"kith %s\" needs one more word: %s (see: kith help)", argv[0], list);
    else
        out_error("unknown command \"%s\" (see: kith help)", argv[0]);
    return CMD_USAGE;
}

int main(int argc, char **argv)
{
    const char *socket_opt = NULL;
    int json = 0, help = 0, k = 1, used = 0;
    char sockbuf[4096], err[256];
    struct cmd_ctx ctx;
    struct args args;
    int rv;

    /* A vanished node shows up as EPIPE from send(), a closed stdout as a
     * write error at the end: never as a silent death by signal. */
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        out_error("cannot start the crypto library");
        return CMD_FAIL;
    }
    json_set_alloc_funcs(zmalloc, zfree);

    for (; k < argc && argv[k][0] == '-' && argv[k][1] != '\0'; k++) {
        const char *w = argv[k];
        if (strcmp(w, "--json") == 0) {
            json = 1;
        } else if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
            help = 1;
        } else if (strcmp(w, "--version") == 0 || strcmp(w, "-V") == 0) {
            printf("kith %s\n", KITH_VERSION);
            return out_finish() == 0 ? CMD_OK : CMD_FAIL;
        } else if (strncmp(w, "--socket=", 9) == 0) {
            socket_opt = w + 9;
        } else if (strcmp(w, "--socket") == 0) {
            if (k + 1 >= argc) {
                out_error("--socket needs a value (the path of the node's socket)");
                return CMD_USAGE;
            }
            socket_opt = argv[++k];
        } else {
            out_error("unknown option \"%s\" (see: kith help)", w);
            return CMD_USAGE;
        }
    }
    if (k >= argc) {
        cmd_print_list(help ? stdout : stderr);
        if (help)
            return out_finish() == 0 ? CMD_OK : CMD_FAIL;
        return CMD_USAGE;
    }
    const struct cmd_entry *e = cmd_find(argc - k, argv + k, &used);
    if (!e)
        return unknown_command(argc - k, argv + k);
    k += used;
    if (args_parse(e->opts, argc - k, argv + k, &args, err, sizeof(err)) < 0) {
        out_error("%s (see: kith help %s)", err, e->name);
        return CMD_USAGE;
    }
    if (help || args.help) {
        cmd_print_usage(stdout, e);
        return out_finish() == 0 ? CMD_OK : CMD_FAIL;
    }
    if (args.npos < e->min_args || (e->max_args >= 0 && args.npos > e->max_args)) {
        out_error("%s (usage: kith %s %s)",
                  args.npos < e->min_args ? "something is missing" : "too many words", e->name,
                  e->usage);
        return CMD_USAGE;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.json = json || args.json;
    if (args.socket)
        socket_opt = args.socket;
    if (socket_opt) {
        snprintf(sockbuf, sizeof(sockbuf), "%s", socket_opt);
    } else if (client_default_socket(sockbuf, sizeof(sockbuf)) < 0) {
        out_error("cannot tell where the node's socket is: use --socket PATH or set KITH_SOCKET");
        return CMD_FAIL;
    }
    ctx.socket_path = sockbuf;
    if (client_new(ctx.socket_path, &ctx.client) < 0) {
        out_error("out of memory");
        return CMD_FAIL;
    }
    rv = e->exec(&ctx, &args);
    client_free(ctx.client);
    int fr = out_finish();
    if (fr == -EPIPE)
        return CMD_FAIL; /* `kith read | head`: the reader left; nothing to say */
    if (fr < 0) {
        out_error("cannot write the output: %s", strerror(-fr));
        return CMD_FAIL;
    }
    return (int)rv;
}
