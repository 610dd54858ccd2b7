/*
 * web_misc: the pages that are not about accounts, groups or posts: the
 * front door, help and glossary (Markdown files from content/web), text
 * size and contrast, node status, "page not found"; and the writing prompts
 * (content/web/prompts.txt). Owns the prompts object of struct web.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include "kith/error.h"
#include "sync.h"
#include "web_internal.h"

#define PROMPTS_FILE_MAX 65536

int web_h_home(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    return web_redirect(&r, r.sess != NULL ? "/groups" : "/signin");
}

int web_h_notfound(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    int rc = web_begin(arg, req, resp, &r);

    return rc < 0 ? rc : web_fail(&r, 404);
}

/* ---- help and glossary ---- */

static int slug_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    }
    return 1;
}

static int doc_page(struct web_req *r, const char *rel)
{
    char *html = NULL, *title = NULL;
    json_t *ctx;
    int rc = web_markdown_file(r->w, rel, &html, &title);

    if (rc == -KITH_ENOTFOUND)
        return web_fail(r, 404);
    if (rc < 0)
        return rc;
    ctx = web_ctx(r, title);
    if (ctx == NULL || json_object_set_new(ctx, "html", json_string(html)) != 0) {
        json_decref(ctx);
        ctx = NULL;
    }
    free(html);
    free(title);
    return ctx != NULL ? web_render(r, "doc", ctx, 200) : -ENOMEM;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "slug")),
                  json_string_value(json_object_get(*(json_t *const *)b, "slug")));
}

/* The help pages, each {slug, title}, sorted by file name. */
static json_t *help_list(struct web *w)
{
    char dir[4096], rel[300];
    json_t *pages = json_array(), *v[64];
    size_t n = 0;
    struct dirent *e;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/help", w->web_dir);
    d = opendir(dir);
    while (pages != NULL && d != NULL && n < 64 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char slug[72], *html = NULL, *title = NULL;

        if (len < 4 || len > 67 || strcmp(e->d_name + len - 3, ".md") != 0)
            continue;
        memcpy(slug, e->d_name, len - 3);
        slug[len - 3] = '\0';
        snprintf(rel, sizeof(rel), "help/%s", e->d_name);
        if (!slug_ok(slug) || web_markdown_file(w, rel, &html, &title) < 0)
            continue;
        v[n] = json_pack("{s:s,s:s}", "slug", slug, "title", title);
        n += v[n] != NULL;
        free(html);
        free(title);
    }
    if (d != NULL)
        closedir(d);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    qsort(v, n, sizeof(v[0]), name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (pages != NULL && json_array_append(pages, v[i]) != 0) {
            json_decref(pages);
            pages = NULL;
        }
        json_decref(v[i]);
    }
    return pages;
}

int web_h_help(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    char rel[128];
    json_t *ctx, *pages;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (strncmp(req->path, "/help/", 6) == 0) {
        if (!slug_ok(req->path + 6))
            return web_fail(&r, 404);
        snprintf(rel, sizeof(rel), "help/%s.md", req->path + 6);
        return doc_page(&r, rel);
    }
    ctx = web_ctx(&r, "Help");
    pages = help_list(r.w);
    if (ctx == NULL || pages == NULL || json_object_set_new(ctx, "pages", pages) != 0) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return web_render(&r, "help", ctx, 200);
}

int web_h_glossary(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    int rc = web_begin(arg, req, resp, &r);

    return rc < 0 ? rc : doc_page(&r, "glossary.md");
}

/* ---- text size and contrast ---- */

int web_h_settings(void *arg, const struct http_request *req, struct http_response *resp)
{
    static const char *const sizes[] = {"standard", "large", "largest"};
    struct web_req r;
    const char *size, *contrast;
    char cookie[128];
    json_t *ctx;
    int ok = 0, rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (req->method == HTTP_M_POST) {
        if (web_need_csrf(&r))
            return 0;
        size = form_get(&req->form, "text_size");
        contrast = form_get(&req->form, "contrast");
        for (size_t i = 0; size != NULL && i < 3; i++)
            ok |= strcmp(size, sizes[i]) == 0;
        if (!ok || contrast == NULL ||
            (strcmp(contrast, "standard") != 0 && strcmp(contrast, "high") != 0))
            return web_fail(&r, 400); /* not a choice the form offers */
        snprintf(cookie, sizeof(cookie),
                 "%s=%s.%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict", WEB_PREFS_COOKIE,
                 size, contrast);
        rc = web_header(&r, "Set-Cookie", cookie);
        return rc < 0 ? rc : web_redirect(&r, "/settings?done=saved");
    }
    ctx = web_ctx(&r, "Text size and contrast");
    if (ctx == NULL ||
        json_object_set_new(ctx, "size_standard", json_boolean(!strcmp(r.text_size, "standard"))) ||
        json_object_set_new(ctx, "size_large", json_boolean(!strcmp(r.text_size, "large"))) ||
        json_object_set_new(ctx, "size_largest", json_boolean(!strcmp(r.text_size, "largest"))) ||
        json_object_set_new(ctx, "contrast_high", json_boolean(!strcmp(r.contrast, "high")))) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return web_render(&r, "settings", ctx, 200);
}

/* ---- node status ---- */

static int add_peers(struct web_req *r, json_t *ctx)
{
    void *sync = service_sync(r->w->svc);
    json_t *res = NULL, *p;
    size_t i;
    char when[64];

    if (sync == NULL || sync_peers_json(sync, &res) < 0)
        return json_object_set_new(ctx, "peers", json_array());
    json_array_foreach(json_object_get(res, "peers"), i, p)
    {
        json_int_t seen = json_integer_value(json_object_get(p, "last_seen_ms"));
        json_int_t synced = json_integer_value(json_object_get(p, "last_sync_ms"));

        if (seen > 0)
            web_time((uint64_t)seen, when, sizeof(when));
        json_object_set_new(p, "seen", json_string(seen > 0 ? when : "never"));
        if (synced > 0)
            web_time((uint64_t)synced, when, sizeof(when));
        json_object_set_new(p, "synced", json_string(synced > 0 ? when : "never"));
    }
    i = json_object_set(ctx, "peers", json_object_get(res, "peers")) != 0;
    json_decref(res);
    return i ? -ENOMEM : 0;
}

/* The client is on this machine. */
static int is_local(const char *peer)
{
    return strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0 ||
           strncmp(peer, "::ffff:127.", 11) == 0;
}

int web_h_status(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    json_t *ctx, *st = NULL, *groups = NULL;
    int full, rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    rc = service_status(r.w->svc, &st);
    if (rc < 0)
        return rc;
    ctx = web_ctx(&r, "Node status");
    /* Counts and peers' addresses are for members and for the operator at
     * the machine, not for anyone on the LAN. */
    full = is_local(req->peer) || r.sess != NULL;
    if (ctx == NULL || json_object_set(ctx, "status", st) != 0 ||
        (full && (json_object_set_new(ctx, "full", json_true()) != 0 || add_peers(&r, ctx) != 0)))
        rc = -ENOMEM;
    json_decref(st);
    if (rc == 0 && r.sess != NULL && service_group_list(r.w->svc, r.sess, &groups) == 0 &&
        json_object_set(ctx, "groups", json_object_get(groups, "groups")) != 0)
        rc = -ENOMEM;
    json_decref(groups);
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(&r, "status", ctx, 200);
}

/* ---- writing prompts ---- */

json_t *web_prompts(struct web *w, const char *topic)
{
    json_t *v = topic != NULL && topic[0] != '\0' ? json_object_get(w->prompts, topic) : NULL;

    return v != NULL ? v : json_object_get(w->prompts, "*");
}

/* prompts.txt: "[Topic]" lines start a topic ("[*]": any topic), every
 * other non-empty line not starting with '#' is a prompt of that topic. */
int web_prompts_load(struct web *w)
{
    char path[4096], *text, *line, *save = NULL;
    json_t *cur = NULL;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/prompts.txt", w->web_dir);
    w->prompts = json_object();
    if (w->prompts == NULL || json_object_set_new(w->prompts, "*", json_array()) != 0)
        return -ENOMEM;
    f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    text = malloc(PROMPTS_FILE_MAX + 1);
    if (text == NULL) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(text, 1, PROMPTS_FILE_MAX, f);
    fclose(f);
    text[n] = '\0';
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);

        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (line[0] == '[' && line[len - 1] == ']') {
            line[len - 1] = '\0';
            cur = json_object_get(w->prompts, line + 1);
            if (cur == NULL) {
                cur = json_array();
                if (json_object_set_new(w->prompts, line + 1, cur) != 0)
                    cur = NULL;
            }
            continue;
        }
        if (cur != NULL)
            json_array_append_new(cur, json_string(line));
    }
    free(text);
    return 0;
}
