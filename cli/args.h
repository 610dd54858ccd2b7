/*
 * args: parses one subcommand's arguments against the options it declares,
 * plus the options every command takes (--json, --socket PATH, --help).
 * Options may come before, between or after positional arguments; "--" ends
 * them, and "-" alone is a positional argument (it means "read stdin").
 * Pure: no I/O; the caller prints the reason on failure.
 */
#ifndef KITH_CLI_ARGS_H
#define KITH_CLI_ARGS_H

#include <stddef.h>

#define ARGS_MAX_OPTS 8    /* options a command may declare */
#define ARGS_MAX_REPEAT 16 /* times one option may be given */
#define ARGS_MAX_POS 64    /* positional arguments */

/* One option a command takes: `--name VALUE` (or --name=VALUE, or -c VALUE
 * when shortopt is set) when has_value, else a flag `--name`. */
struct args_opt {
    const char *name;
    char shortopt; /* 0 for none */
    int has_value;
    const char *meta; /* what the value is, for usage text: "GROUP" */
};

struct args {
    /* Per declared option (same index as in the table): how many times it
     * was given and its values in order (flags get ""). Pointers into argv. */
    int count[ARGS_MAX_OPTS];
    const char *val[ARGS_MAX_OPTS][ARGS_MAX_REPEAT];
    int npos;
    char *pos[ARGS_MAX_POS];
    /* The common options. */
    int json;
    int help;
    const char *socket; /* NULL when not given */
};

/*
 * Parse argv[0..argc-1] (the words after the command's name) against opts
 * (ended by an entry with name NULL; may be NULL). Returns 0, or -1 with a
 * one-line reason in err (capacity errlen, always NUL-terminated): an unknown
 * option, a missing value, or too many values/arguments. argv must outlive
 * out.
 */
int args_parse(const struct args_opt *opts, int argc, char **argv, struct args *out, char *err,
               size_t errlen);

/* The last value given for option index i, or NULL if it was not given. */
const char *args_get(const struct args *a, int i);

#endif
