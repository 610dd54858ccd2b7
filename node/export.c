/*
 * export: Markdown export of a member's posts (see export.h). Writes into a
 * memory stream; owns nothing beyond one call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"
#include "kith/error.h"

void export_iso8601(uint64_t ms, char out[EXPORT_TIME_MAX])
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, EXPORT_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, EXPORT_TIME_MAX, "%llu", (unsigned long long)ms);
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : dflt;
}

static int write_post(FILE *f, const json_t *p)
{
    char when[EXPORT_TIME_MAX];
    const char *topic = str_or(p, "topic", ""), *title = str_or(p, "title", "");
    const char *body = str_or(p, "body", ""), *reply = str_or(p, "in_reply_to", NULL);
    const json_t *ms = json_object_get(p, "created_ms");

    if (!json_is_object(p) || !json_is_integer(ms) || json_integer_value(ms) < 0)
        return -KITH_EINVAL;
    export_iso8601((uint64_t)json_integer_value(ms), when);
    fprintf(f, "## %s", str_or(p, "group", "?"));
    if (topic[0] != '\0')
        fprintf(f, " · %s", topic);
    fprintf(f, " · %s\n\n", when);
    if (title[0] != '\0')
        fprintf(f, "**%s**\n\n", title);
    if (reply != NULL)
        fprintf(f, "In reply to %s.\n\n", reply);
    fputs(body, f);
    fputs(body[0] != '\0' && body[strlen(body) - 1] == '\n' ? "\n" : "\n\n", f);
    return 0;
}

int export_markdown(const char *account, const json_t *posts, char **out)
{
    char *buf = NULL;
    size_t len = 0, i;
    const json_t *p;
    FILE *f;
    int r = 0;

    *out = NULL;
    if (!json_is_array(posts))
        return -KITH_EINVAL;
    f = open_memstream(&buf, &len);
    if (f == NULL)
        return -ENOMEM;
    fprintf(f, "# Posts by %s\n\n", account);
    if (json_array_size(posts) == 0)
        fputs("Nothing written yet.\n", f);
    else
        fprintf(f, "%zu %s, oldest first.\n\n", json_array_size(posts),
                json_array_size(posts) == 1 ? "post" : "posts");
    json_array_foreach(posts, i, p)
    {
        r = write_post(f, p);
        if (r < 0)
            break;
    }
    if (fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        free(buf);
        return r;
    }
    *out = buf;
    return 0;
}
