/*
 * cmd: what every subcommand of `kith` shares. Each cli/cmd_<name>.c exports
 * one struct cmd_entry; cli/main.c holds the table and dispatches to it (the
 * tmux cmd-*.c pattern). A subcommand's exec gets the global context and its
 * own arguments, already parsed against the options it declares.
 */
#ifndef KITH_CLI_CMD_H
#define KITH_CLI_CMD_H

#include <stdio.h>

#include <jansson.h>

#include "args.h"
#include "client.h"
#include "session.h"

/* What exec returns; main() exits with it. */
enum cmd_retval {
    CMD_OK = 0,    /* done */
    CMD_FAIL = 1,  /* the work failed; a one-line reason is on stderr */
    CMD_USAGE = 2, /* the command line was wrong; a one-line reason is on stderr */
};

/* Everything a subcommand needs from outside its own arguments. */
struct cmd_ctx {
    const char *socket_path; /* resolved: --socket, $KITH_SOCKET or the default */
    int json;                /* --json: print the result object as JSON */
    struct client *client;   /* connected on first use; owned by main */
};

struct cmd_entry {
    const char *name;            /* one or two words: "status", "group create" */
    const char *usage;           /* arguments after the name: "--group G [TEXT|-]" */
    const char *summary;         /* one sentence for `kith help` */
    const char *help;            /* a few more lines for `kith help CMD`, or NULL */
    const struct args_opt *opts; /* the command's own options, ended by {0}; may be NULL */
    int min_args, max_args;      /* positional arguments; max -1 = any number */
    enum cmd_retval (*exec)(struct cmd_ctx *ctx, const struct args *args);
};

/*
 * Send cmd with the fields of params (a JSON object, reference stolen; NULL
 * for none) and, when with_session, the session token kept for this socket.
 * On success returns CMD_OK and *result holds a new reference (the caller
 * decrefs). On failure prints one line `kith: ...` explained with what, and
 * returns CMD_FAIL with *result NULL.
 */
enum cmd_retval cmd_call(struct cmd_ctx *ctx, const char *cmd, json_t *params, int with_session,
                         const struct client_what *what, json_t **result);

/*
 * The same without printing: returns 0 or the negative code, with err
 * filled; name gets the account name kept with the session ("" if none) and
 * *had_session says whether a session token was sent. For commands that
 * treat some errors as normal (lock when already locked).
 */
int cmd_request(struct cmd_ctx *ctx, const char *cmd, json_t *params, int with_session,
                json_t **result, struct client_error *err, char name[SESSION_NAME_MAX],
                int *had_session);

/* Print the one-line reason for err as cmd_call does (and forget a session
 * the node no longer knows). */
void cmd_report(struct cmd_ctx *ctx, const struct client_error *err, const struct client_what *what,
                const char *name, int had_session);

/* A string member of obj, or "" when missing or not a string. */
const char *cmd_str(const json_t *obj, const char *key);

/* An integer member of obj, or 0. */
long long cmd_int(const json_t *obj, const char *key);

/* s as one shell word for a command we suggest ("Walkers", 'Peer group'),
 * into buf (capacity cap). */
void cmd_shell_word(const char *s, char *buf, size_t cap);

/* One line introducing a post: "<what> 3fa1c2d09e11 by alice, 5 minutes
 * ago, in "Walkers" (topic: T):", or that it was deleted. */
void cmd_print_post_head(FILE *f, const json_t *post, const char *what);

/* Say why a passphrase could not be read (r from prompt_passphrase). */
void cmd_passphrase_error(int r);

/* Keep the session from an account.create/unlock result; a failure is a
 * warning on stderr, not a failed command. */
void cmd_keep_session(struct cmd_ctx *ctx, const json_t *result);

/* The post text from the positional words a->pos[first..] (or stdin, or
 * the editor with header), or CMD_FAIL after saying why (too long, empty,
 * the editor failed). *out is malloc'd, the caller's. */
enum cmd_retval cmd_get_body(const struct args *a, int first, const char *header, char **out);

/* Print result as JSON on stdout (for --json). */
void cmd_print_json(const json_t *result);

/* The table, for `kith help`: NULL-terminated. */
extern const struct cmd_entry *const cmd_table[];

/* Find a command by its words at argv[0] (and argv[1]); sets *used to the
 * number of words it took. NULL when there is no such command. */
const struct cmd_entry *cmd_find(int argc, char *const *argv, int *used);

/* Print the usage of one command, or the list of all, to f. */
void cmd_print_usage(FILE *f, const struct cmd_entry *e);
void cmd_print_list(FILE *f);

extern const struct cmd_entry cmd_account_create_entry;
extern const struct cmd_entry cmd_unlock_entry;
extern const struct cmd_entry cmd_lock_entry;
extern const struct cmd_entry cmd_group_create_entry;
extern const struct cmd_entry cmd_group_list_entry;
extern const struct cmd_entry cmd_post_entry;
extern const struct cmd_entry cmd_read_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_reply_entry;
extern const struct cmd_entry cmd_delete_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_invite_entry;
extern const struct cmd_entry cmd_join_entry;
extern const struct cmd_entry cmd_help_entry;

#endif
