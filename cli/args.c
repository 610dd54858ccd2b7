/*
 * args: the one option parser every subcommand uses (see args.h). Written by
 * hand rather than with getopt_long so that options and positional words can
 * mix in any order within one subcommand without getopt's global state, and
 * so that the reasons for a refusal read as plain sentences.
 */
#include "args.h"

#include <stdio.h>
#include <string.h>

static int find_long(const struct args_opt *opts, const char *name, size_t len)
{
    for (int i = 0; opts && opts[i].name; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return i;
    return -1;
}

static int find_short(const struct args_opt *opts, char c)
{
    for (int i = 0; opts && opts[i].name; i++)
        if (opts[i].shortopt == c)
            return i;
    return -1;
}

static int add_value(struct args *out, int i, const char *v, const char *shown, char *err,
                     size_t errlen)
{
    if (out->count[i] == ARGS_MAX_REPEAT) {
        snprintf(err, errlen, "%s is given too many times", shown);
        return -1;
    }
    out->val[i][out->count[i]++] = v;
    return 0;
}

/* A common option: returns 1 if taken (consuming argv[*k+1] when it needs a
 * value), 0 if the word is not a common option, -1 on error. */
static int common_opt(const char *name, size_t len, const char *inline_val, int argc, char **argv,
                      int *k, struct args *out, char *err, size_t errlen)
{
    if ((len == 4 && strncmp(name, "json", 4) == 0) ||
        (len == 4 && strncmp(name, "help", 4) == 0)) {
        if (inline_val) {
            snprintf(err, errlen, "--%.*s does not take a value", (int)len, name);
            return -1;
        }
        if (name[0] == 'j')
            out->json = 1;
        else
            out->help = 1;
        return 1;
    }
    if (len == 6 && strncmp(name, "socket", 6) == 0) {
        if (inline_val) {
            out->socket = inline_val;
        } else {
            if (*k + 1 >= argc) {
                snprintf(err, errlen, "--socket needs a value (the path of the node's socket)");
                return -1;
            }
            out->socket = argv[++*k];
        }
        return 1;
    }
    return 0;
}

int args_parse(const struct args_opt *opts, int argc, char **argv, struct args *out, char *err,
               size_t errlen)
{
    int only_pos = 0;

    memset(out, 0, sizeof(*out));
    if (errlen)
        err[0] = '\0';
    for (int k = 0; k < argc; k++) {
        char *w = argv[k];
        if (only_pos || w[0] != '-' || w[1] == '\0') {
            if (out->npos == ARGS_MAX_POS) {
                snprintf(err, errlen, "too many arguments");
                return -1;
            }
            out->pos[out->npos++] = w;
            continue;
        }
        if (strcmp(w, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (w[1] == '-') {
            const char *name = w + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const char *inline_val = eq ? eq + 1 : NULL;
            int r = common_opt(name, len, inline_val, argc, argv, &k, out, err, errlen);
            if (r < 0)
                return -1;
            if (r > 0)
                continue;
            int i = find_long(opts, name, len);
            if (i < 0) {
                snprintf(err, errlen, "unknown option \"--%.*s\"", (int)len, name);
                return -1;
            }
            if (!opts[i].has_value) {
                if (inline_val) {
                    snprintf(err, errlen, "--%s does not take a value", opts[i].name);
                    return -1;
                }
                if (add_value(out, i, "", w, err, errlen) < 0)
                    return -1;
                continue;
            }
            if (!inline_val) {
                if (k + 1 >= argc) {
                    snprintf(err, errlen, "--%s needs a value (%s)", opts[i].name,
                             opts[i].meta ? opts[i].meta : "VALUE");
                    return -1;
                }
                inline_val = argv[++k];
            }
            if (add_value(out, i, inline_val, w, err, errlen) < 0)
                return -1;
            continue;
        }
        /* Short options: "-h", "-y", "-g NAME" or "-gNAME". No bundling:
         * kith has few short options and a typo should not turn into two. */
        if (w[1] == 'h' && w[2] == '\0') {
            out->help = 1;
            continue;
        }
        int i = find_short(opts, w[1]);
        if (i < 0) {
            snprintf(err, errlen, "unknown option \"%s\"", w);
            return -1;
        }
        if (!opts[i].has_value) {
            if (w[2] != '\0') {
                snprintf(err, errlen, "unknown option \"%s\"", w);
                return -1;
            }
            if (add_value(out, i, "", w, err, errlen) < 0)
                return -1;
            continue;
        }
        const char *v = w + 2;
        if (*v == '\0') {
            if (k + 1 >= argc) {
                snprintf(err, errlen, "-%c needs a value (%s)", w[1],
                         opts[i].meta ? opts[i].meta : "VALUE");
                return -1;
            }
            v = argv[++k];
        }
        if (add_value(out, i, v, w, err, errlen) < 0)
            return -1;
    }
    return 0;
}

const char *args_get(const struct args *a, int i)
{
    if (i < 0 || i >= ARGS_MAX_OPTS || a->count[i] == 0)
        return NULL;
    return a->val[i][a->count[i] - 1];
}
