/*
 * kith export [--format md|json] [--output FILE]: everything this account
 * wrote (deleted posts left out), to keep or to take elsewhere. The file is
 * made readable by its owner only: it holds private posts in clear.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "kith/error.h"
#include "output.h"

static const struct args_opt opts[] = {
    {.name = "format", .shortopt = 'f', .has_value = 1, .meta = "md or json"},
    {.name = "output", .shortopt = 'o', .has_value = 1, .meta = "FILE"},
    {0},
};

static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = 0;

    if (fd < 0)
        return -errno;
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        data += w;
        len -= (size_t)w;
    }
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *format = args_get(a, 0), *output = args_get(a, 1);
    json_t *result = NULL;
    char *text = NULL;
    enum cmd_retval rv = CMD_FAIL;
    int r;

    if (!format)
        format = ctx->json ? "json" : "md";
    if (strcmp(format, "md") != 0 && strcmp(format, "json") != 0) {
        out_error("--format is md (a readable document) or json, not \"%s\"", format);
        return CMD_USAGE;
    }
    if (cmd_call(ctx, "export", json_pack("{s:s}", "format", format), 1, NULL, &result) != CMD_OK)
        return CMD_FAIL;
    json_t *posts = json_object_get(result, "posts");
    if (strcmp(format, "md") == 0) {
        text = strdup(cmd_str(result, "text"));
    } else {
        size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
        size_t n = json_dumpb(result, NULL, 0, flags);
        if (n > 0 && (text = malloc(n + 1)) != NULL) {
            json_dumpb(result, text, n, flags);
            text[n] = '\0';
        }
    }
    if (!text) {
        out_error("out of memory");
        goto out;
    }
    if (!output || strcmp(output, "-") == 0) {
        if (ctx->json && strcmp(format, "md") == 0)
            cmd_print_json(result);
        else
            printf("%s%s", text, text[0] && text[strlen(text) - 1] == '\n' ? "" : "\n");
        rv = CMD_OK;
        goto out;
    }
    if ((r = write_file(output, text, strlen(text))) < 0) {
        out_error("cannot write %s: %s", output, kith_strerror(r));
        goto out;
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s}", "format", format, "output", output);
        if (posts)
            json_object_set_new(o, "posts", json_integer((json_int_t)json_array_size(posts)));
        cmd_print_json(o);
        json_decref(o);
    } else if (posts) {
        size_t n = json_array_size(posts);
        printf("Saved %zu %s to %s.\n", n, n == 1 ? "post" : "posts", output);
    } else {
        printf("Saved your posts to %s.\n", output);
    }
    rv = CMD_OK;
out:
    json_decref(result);
    free(text);
    return rv;
}

const struct cmd_entry cmd_export_entry = {
    .name = "export",
    .usage = "[--format md|json] [--output FILE]",
    .summary = "Save everything you wrote (not what others wrote) as a document or JSON.",
    .help = "md (the default) is a readable document; json keeps every detail.\n"
            "Without --output it is printed; the file --output makes is readable by you only.",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
