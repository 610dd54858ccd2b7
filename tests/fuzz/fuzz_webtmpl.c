/*
 * fuzz_webtmpl: the template compiler and renderer (node/webtmpl.c) on
 * arbitrary bytes. The input is split at the first NUL: the part before is
 * a template, the part after is JSON data (if it parses; else an object
 * made of nested values). A template either compiles or gets
 * -KITH_EENCODING; rendering it (with an include of itself, to reach the
 * include limit) returns 0, -KITH_ENOTFOUND or -KITH_ETOOBIG, and escaped
 * output never holds a raw '<' that the data put there.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kith/error.h"
#include "webtmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t tlen = nul != NULL ? (size_t)(nul - text) : size;
    struct webtmpl *t = NULL;
    struct webtmpl_buf out = {0};
    json_t *ctx = NULL;
    char err[WEBTMPL_ERR_MAX];
    int r;

    if (nul != NULL)
        ctx = json_loadb(nul + 1, size - tlen - 1, JSON_DECODE_ANY, NULL);
    if (ctx == NULL)
        ctx = json_pack("{s:s,s:[s,{s:s}],s:{s:b}}", "a", "<x>", "l", "1", "a", "<y>", "o", "b", 1);
    if (ctx == NULL || webtmpl_new(&t) < 0)
        abort();
    if (webtmpl_add(t, "inc", "[{{a}}]{{>t}}", 13, NULL) != 0)
        abort();
    r = webtmpl_add(t, "t", text, tlen, err);
    if (r == 0) {
        r = webtmpl_render(t, "t", ctx, &out);
        if (r != 0 && r != -KITH_ENOTFOUND && r != -KITH_ETOOBIG && r != -ENOMEM)
            abort();
        if (r == 0 && out.p != NULL && strlen(out.p) > out.len)
            abort();
        free(out.p);
        out.p = NULL;
        out.len = out.cap = 0;
        r = webtmpl_render(t, "inc", ctx, &out);
        if (r != 0 && r != -KITH_ENOTFOUND && r != -KITH_ETOOBIG && r != -ENOMEM)
            abort();
    } else if (r != -KITH_EENCODING && r != -KITH_ETOOBIG && r != -ENOMEM) {
        abort();
    } else if (r == -KITH_EENCODING && strncmp(err, "template t line ", 16) != 0) {
        abort();
    }
    /* An escaped value never carries markup through. */
    if (json_is_object(ctx)) {
        struct webtmpl_buf e = {0};
        json_t *v = json_object_get(ctx, "a");

        if (json_is_string(v) && webtmpl_add(t, "esc", "{{a}}", 5, NULL) == 0 &&
            webtmpl_render(t, "esc", ctx, &e) == 0 && e.p != NULL &&
            (strchr(e.p, '<') != NULL || strchr(e.p, '"') != NULL))
            abort();
        free(e.p);
    }
    free(out.p);
    json_decref(ctx);
    webtmpl_free(t);
    return 0;
}
