/*
 * Tests for node/webstatic.c: the path rules (traversal with "..", encoded
 * dots and slashes, backslashes, absolute paths, hidden files), content
 * types, and the file system walk over a private temp directory holding a
 * symbolic link that points out of it, one that points inside, a FIFO and
 * a subdirectory.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_internal.h"
#include "kith/error.h"
#include "webstatic.h"

static char tmp[64];
static char root[128];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void put(const char *rel, const char *text)
{
    char p[256];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", root, rel);
    f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    char p[256];

    strcpy(tmp, "/tmp/kith-webstatic-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
    snprintf(root, sizeof(root), "%s/static", tmp);
    cr_assert_eq(mkdir(root, 0700), 0);
    snprintf(p, sizeof(p), "%s/css", root);
    cr_assert_eq(mkdir(p, 0700), 0);
    put("site.css", "body{color:#000}");
    put("css/print.css", "@media print{}");
    put("robots.txt", "User-agent: *\n");
    put("secret.html", "<p>not served</p>");
    put(".hidden.css", "x");
    /* outside the served directory */
    snprintf(p, sizeof(p), "%s/outside.css", tmp);
    cr_assert_not_null(fopen(p, "w"));
    snprintf(p, sizeof(p), "%s/escape.css", root);
    cr_assert_eq(symlink("../outside.css", p), 0);
    snprintf(p, sizeof(p), "%s/inside.css", root);
    cr_assert_eq(symlink("site.css", p), 0);
    snprintf(p, sizeof(p), "%s/up", root);
    cr_assert_eq(symlink("..", p), 0);
    snprintf(p, sizeof(p), "%s/fifo.css", root);
    cr_assert_eq(mkfifo(p, 0600), 0);
}

static void teardown(void)
{
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(webstatic, .init = setup, .fini = teardown);

Test(webstatic, check_refuses_traversal)
{
    static const char *refused[] = {
        "../outside.css",
        "css/../site.css",
        "..",
        ".",
        "./site.css",
        "%2e%2e/outside.css",
        "%2E%2E%2Foutside.css",
        "css%2fprint.css",
        "css\\..\\site.css",
        "/etc/passwd.css",
        "//site.css",
        "css//print.css",
        "css/",
        "",
        ".hidden.css",
        "a:b.css",
        "sp ace.css",
        "caf\xc3\xa9.css",
        "a/b/c/d/e/f/g/h/i.css",
    };
    const char *type;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cr_assert_eq(webstatic_check(refused[i], &type), -KITH_EREQUEST, "%s", refused[i]);
    }
    {
        char longp[WEBSTATIC_PATH_MAX + 8];

        memset(longp, 'a', sizeof(longp));
        strcpy(longp + WEBSTATIC_PATH_MAX - 3, ".css");
        cr_assert_eq(webstatic_check(longp, &type), -KITH_EREQUEST);
        longp[WEBSTATIC_PATH_MAX - 4] = '\0';
        strcat(longp, ".css");
        cr_assert_eq(strlen(longp), WEBSTATIC_PATH_MAX);
        cr_assert_eq(webstatic_check(longp, &type), 0);
    }
}

Test(webstatic, content_types)
{
    static const struct {
        const char *path, *type;
    } ok[] = {
        {"site.css", "text/css; charset=utf-8"},
        {"icons/a-b_c.svg", "image/svg+xml"},
        {"logo.png", "image/png"},
        {"favicon.ico", "image/x-icon"},
        {"fonts/x.woff2", "font/woff2"},
        {"robots.txt", "text/plain; charset=utf-8"},
        {"a..b.css", "text/css; charset=utf-8"},
    };
    static const char *unknown[] = {"secret.html", "x.js", "Makefile", "x.CSS", "x.css.bak"};
    const char *type;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cr_assert_eq(webstatic_check(ok[i].path, &type), 0, "%s", ok[i].path);
        cr_assert_str_eq(type, ok[i].type);
    }
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        cr_assert_eq(webstatic_check(unknown[i], &type), -KITH_ENOTFOUND, "%s", unknown[i]);
}

Test(webstatic, read_files_and_refuse_links)
{
    struct webstatic *ws;
    const char *type;
    char *data;
    size_t len;

    cr_assert_eq(webstatic_open(root, "/static/", &ws), 0);
    cr_assert_eq(webstatic_read(ws, "site.css", &data, &len, &type), 0);
    cr_assert_eq(len, 16);
    cr_assert_eq(memcmp(data, "body{color:#000}", 16), 0);
    cr_assert_str_eq(type, "text/css; charset=utf-8");
    free(data);
    cr_assert_eq(webstatic_read(ws, "css/print.css", &data, &len, &type), 0);
    cr_assert_eq(len, 14);
    free(data);
    /* Links are never followed, wherever they point. */
    cr_assert_eq(webstatic_read(ws, "escape.css", &data, &len, &type), -KITH_ENOTFOUND);
    cr_assert_eq(webstatic_read(ws, "inside.css", &data, &len, &type), -KITH_ENOTFOUND);
    cr_assert_eq(webstatic_read(ws, "up/outside.css", &data, &len, &type), -KITH_ENOTFOUND);
    /* Not a regular file, a missing file, a file where a directory should be. */
    cr_assert_eq(webstatic_read(ws, "fifo.css", &data, &len, &type), -KITH_ENOTFOUND);
    cr_assert_eq(webstatic_read(ws, "none.css", &data, &len, &type), -KITH_ENOTFOUND);
    cr_assert_eq(webstatic_read(ws, "site.css/x.css", &data, &len, &type), -KITH_ENOTFOUND);
    cr_assert_eq(webstatic_read(ws, "secret.html", &data, &len, &type), -KITH_ENOTFOUND);
    cr_assert_eq(webstatic_read(ws, "../outside.css", &data, &len, &type), -KITH_EREQUEST);
    webstatic_close(ws);
}

Test(webstatic, open_errors)
{
    struct webstatic *ws;
    char p[256];

    cr_assert_eq(webstatic_open(root, "static/", &ws), -KITH_EINVAL);
    cr_assert_eq(webstatic_open(root, "/static", &ws), -KITH_EINVAL);
    snprintf(p, sizeof(p), "%s/none", tmp);
    cr_assert_eq(webstatic_open(p, "/s/", &ws), -ENOENT);
    snprintf(p, sizeof(p), "%s/site.css", root);
    cr_assert_eq(webstatic_open(p, "/s/", &ws), -ENOTDIR);
    webstatic_close(NULL);
}

static void serve(struct webstatic *ws, const char *path, int method, struct http_response **out)
{
    struct http_request req;
    struct http_response *r = http_resp_new();

    cr_assert_not_null(r);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    cr_assert_eq(webstatic_handler(ws, &req, r), 0);
    *out = r;
}

Test(webstatic, handler_status_type_cache)
{
    struct webstatic *ws;
    struct http_response *r;
    char *head;
    size_t hl;

    cr_assert_eq(webstatic_open(root, "/static/", &ws), 0);
    serve(ws, "/static/robots.txt", HTTP_M_GET, &r);
    cr_assert_eq(r->status, 200);
    cr_assert_eq(r->blen, 14);
    cr_assert_str_eq(r->type, "text/plain; charset=utf-8");
    cr_assert_eq(http_resp_head(r, 1, &head, &hl), 0);
    cr_assert_not_null(strstr(head, "\r\nCache-Control: public, max-age=86400\r\n"));
    cr_assert_not_null(strstr(head, "\r\nX-Content-Type-Options: nosniff\r\n"));
    free(head);
    http_resp_free(r);
    static const char *missing[] = {"/static/../x.css",   "/static/%2e%2e/outside.css",
                                    "/static/escape.css", "/static/",
                                    "/other/site.css",    "/static/css%2Fprint.css"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        serve(ws, missing[i], HTTP_M_GET, &r);
        cr_assert_eq(r->status, 404, "%s", missing[i]);
        cr_assert_eq(http_resp_head(r, 1, &head, &hl), 0);
        cr_assert_not_null(strstr(head, "\r\nCache-Control: no-store\r\n"));
        free(head);
        http_resp_free(r);
    }
    webstatic_close(ws);
}
