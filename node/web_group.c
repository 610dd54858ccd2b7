/*
 * web_group: the pages about groups: your groups (and starting one), joining
 * with an invite code, a group's topics, the conversations in a topic, and
 * the invite page with its QR code (node/WEB.md). Owns nothing beyond one
 * request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "qr.h"
#include "record.h"
#include "web_internal.h"

/* The list of conversations comes a page at a time: a phone on a slow line
 * gets a short page. The service lists at most SERVICE_THREAD_LIMIT_MAX. */
#define WEB_THREADS_PER_PAGE 50
#define WEB_PAGES_MAX (SERVICE_THREAD_LIMIT_MAX / WEB_THREADS_PER_PAGE)

static const char *field(const struct http_request *req, const char *name)
{
    const char *v = form_get(&req->form, name);

    return v != NULL ? v : "";
}

/* ---- your groups ---- */

static int groups_page(struct web_req *r, json_t *ctx, int status)
{
    json_t *res = NULL;
    int rc = service_group_list(r->w->svc, r->sess, &res);

    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    if (json_object_set(ctx, "groups", json_object_get(res, "groups")) != 0) {
        json_decref(res);
        json_decref(ctx);
        return -ENOMEM;
    }
    json_decref(res);
    return web_render(r, "groups", ctx, status);
}

int web_h_groups(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    const char *name;
    char loc[128];
    json_t *ctx, *g = NULL;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    ctx = web_ctx(&r, "Your groups");
    if (ctx == NULL)
        return -ENOMEM;
    if (req->method != HTTP_M_POST)
        return groups_page(&r, ctx, 200);
    if (web_need_csrf(&r)) {
        json_decref(ctx);
        return 0;
    }
    name = field(req, "name");
    rc = web_value(ctx, "name", name);
    if (rc == 0 && name[0] == '\0')
        rc = web_error(ctx, "name", "Enter a group name");
    if (rc == 0 && name[0] != '\0') {
        rc = service_group_create(r.w->svc, r.sess, name, NULL, 0, &g);
        if (rc == 0) {
            snprintf(loc, sizeof(loc), "/g/%s?done=started",
                     json_string_value(json_object_get(g, "group_id")));
            json_decref(g);
            json_decref(ctx);
            return web_redirect(&r, loc);
        }
        if (rc == -KITH_EEXIST)
            rc = web_error(ctx, "name", "You already have a group called that");
        else if (rc == -KITH_ENAME)
            rc = web_error(ctx, "name",
                           "A group name can be up to 64 letters, with no special characters");
    }
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return groups_page(&r, ctx, 400);
}

/* ---- join ---- */

int web_h_join(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    const char *code;
    char loc[128];
    json_t *ctx, *g = NULL;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    ctx = web_ctx(&r, "Join a group");
    if (ctx == NULL)
        return -ENOMEM;
    if (req->method != HTTP_M_POST)
        return web_render(&r, "join", ctx, 200);
    if (web_need_csrf(&r)) {
        json_decref(ctx);
        return 0;
    }
    code = field(req, "code");
    rc = web_value(ctx, "code", code);
    if (rc == 0 && code[0] == '\0')
        rc = web_error(ctx, "code", "Enter the invite code");
    if (rc == 0 && code[0] != '\0') {
        rc = service_group_join(r.w->svc, r.sess, code, &g);
        if (rc == 0) {
            snprintf(loc, sizeof(loc), "/g/%s?done=joined",
                     json_string_value(json_object_get(g, "group_id")));
            json_decref(g);
            json_decref(ctx);
            return web_redirect(&r, loc);
        }
        if (rc == -KITH_EEXIST)
            rc = web_error(ctx, "code", "You are already in that group");
        else if (rc == -KITH_EINVITE || rc == -KITH_EVERSION || rc == -KITH_ENAME)
            rc = web_error(ctx, "code", "That invite code is not right. Check it and try again");
    }
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(&r, "join", ctx, 400);
}

/* ---- one group ---- */

/* The group object of gid among the member's groups, or NULL (404). */
static json_t *group_of(struct web_req *r, const char *gid)
{
    json_t *res = NULL, *g, *found = NULL;
    size_t i;

    if (service_group_list(r->w->svc, r->sess, &res) < 0)
        return NULL;
    json_array_foreach(json_object_get(res, "groups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "group_id")), gid) == 0)
            found = json_incref(g);
    }
    json_decref(res);
    return found;
}

/* Percent-encode s for a query value into out. */
static void query_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s != '\0' && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

/* Topics with their number of conversations. */
static int topics_page(struct web_req *r, json_t *g, const char *gid)
{
    json_t *res = NULL, *topics = json_array(), *t, *th;
    json_t *ctx = web_ctx(r, json_string_value(json_object_get(g, "name")));
    size_t i, k;
    int rc = ctx != NULL && topics != NULL ? 0 : -ENOMEM;

    if (rc == 0)
        rc = service_thread_list(r->w->svc, r->sess, gid, NULL, SERVICE_THREAD_LIMIT_MAX, &res);
    json_array_foreach(json_object_get(g, "topics"), i, t)
    {
        json_int_t n = 0;
        char q[3 * KITH_POST_TOPIC_MAX + 1];

        if (rc < 0)
            break;
        json_array_foreach(json_object_get(res, "threads"), k, th)
        {
            const char *tt = json_string_value(json_object_get(th, "topic"));

            n += tt != NULL && strcmp(tt, json_string_value(t)) == 0;
        }
        query_escape(json_string_value(t), q, sizeof(q));
        if (json_array_append_new(topics,
                                  json_pack("{s:O,s:I,s:s}", "name", t, "threads", n, "q", q)) != 0)
            rc = -ENOMEM;
    }
    json_decref(res);
    if (rc == 0 &&
        (json_object_set(ctx, "group", g) != 0 || json_object_set(ctx, "topics", topics) != 0))
        rc = -ENOMEM;
    json_decref(topics);
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(r, "group", ctx, 200);
}

/* The page number in ?page= (1 when absent), or 0 when it is not one. */
static size_t page_number(const struct http_request *req)
{
    const char *s = form_get(&req->query, "page");
    size_t n = 0;

    if (s == NULL || s[0] == '\0')
        return 1;
    for (; *s >= '0' && *s <= '9' && n <= WEB_PAGES_MAX; s++)
        n = n * 10 + (size_t)(*s - '0');
    return *s == '\0' && n >= 1 && n <= WEB_PAGES_MAX ? n : 0;
}

/* Keep only page `page` (WEB_THREADS_PER_PAGE a page) of res's threads. */
static int threads_slice(json_t *res, size_t page, int *more)
{
    json_t *all = json_object_get(res, "threads"), *keep = json_array();
    size_t from = (page - 1) * WEB_THREADS_PER_PAGE, n = json_array_size(all);

    *more = n > from + WEB_THREADS_PER_PAGE;
    for (size_t i = from; keep != NULL && i < n && i < from + WEB_THREADS_PER_PAGE; i++) {
        if (json_array_append(keep, json_array_get(all, i)) != 0) {
            json_decref(keep);
            keep = NULL;
        }
    }
    return keep != NULL && json_object_set_new(res, "threads", keep) == 0 ? 0 : -ENOMEM;
}

static int threads_page(struct web_req *r, json_t *g, const char *gid)
{
    const char *topic = form_get(&r->req->query, "topic");
    char q[3 * KITH_POST_TOPIC_MAX + 1] = "";
    json_t *res = NULL, *th, *ctx;
    size_t i, page = page_number(r->req);
    int rc, more = 0;

    if (page == 0)
        return web_fail(r, 404);
    if (topic != NULL && topic[0] == '\0')
        topic = NULL;
    ctx = web_ctx(r, topic != NULL ? topic : "All conversations");
    if (ctx == NULL)
        return -ENOMEM;
    /* Always the longest list: the service keeps it until something
     * changes, so every page (and the group's page) is cut from one. */
    rc = service_thread_list(r->w->svc, r->sess, gid, topic, SERVICE_THREAD_LIMIT_MAX, &res);
    if (rc == 0)
        rc = threads_slice(res, page, &more);
    json_array_foreach(json_object_get(res, "threads"), i, th)
    {
        char when[64];
        const char *title = json_string_value(json_object_get(th, "title"));
        const char *body = json_string_value(json_object_get(th, "body"));

        if (rc < 0)
            break;
        web_time((uint64_t)json_integer_value(json_object_get(th, "last_ms")), when, sizeof(when));
        rc = json_object_set_new(th, "when", json_string(when));
        /* A thread without a title is named by the start of its body. */
        if (rc == 0 && json_is_true(json_object_get(th, "deleted"))) {
            rc = json_object_set_new(th, "label", json_string("A deleted post"));
        } else if (rc == 0 && (title == NULL || title[0] == '\0') && body != NULL) {
            size_t n = strlen(body) > 80 ? 80 : strlen(body);

            while (n > 0 && n < strlen(body) && ((unsigned char)body[n] & 0xC0) == 0x80)
                n--;
            rc = json_object_set_new(
                th, "label", json_sprintf("%.*s%s", (int)n, body, n < strlen(body) ? "…" : ""));
        } else if (rc == 0) {
            rc = json_object_set_new(th, "label", json_string(title != NULL ? title : ""));
        }
        rc = rc != 0 ? -ENOMEM : 0;
    }
    if (topic != NULL)
        query_escape(topic, q, sizeof(q));
    if (rc == 0 &&
        (json_object_set(ctx, "group", g) != 0 ||
         json_object_set(ctx, "threads", json_object_get(res, "threads")) != 0 ||
         json_object_set_new(ctx, "topic_q", json_string(q)) != 0 ||
         json_object_set_new(ctx, "newer", json_integer((json_int_t)page - 1)) != 0 ||
         json_object_set_new(ctx, "older", json_integer(more ? (json_int_t)page + 1 : 0)) != 0 ||
         json_object_set_new(ctx, "pages", json_boolean(page > 1 || more)) != 0))
        rc = -ENOMEM;
    json_decref(res);
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(r, "threads", ctx, 200);
}

static int invite_page(struct web_req *r, json_t *g, const char *gid)
{
    json_t *res = NULL, *ctx;
    char *svg = NULL;
    int rc = service_group_invite(r->w->svc, r->sess, gid, &res);

    if (rc < 0)
        return rc;
    rc = qr_svg(json_string_value(json_object_get(res, "code")),
                "QR code of the invite code to this group", &svg);
    ctx = web_ctx(r, "Invite someone");
    if (rc == 0 && (ctx == NULL || json_object_set(ctx, "group", g) != 0 ||
                    json_object_set(ctx, "code", json_object_get(res, "code")) != 0 ||
                    json_object_set_new(ctx, "qr", json_string(svg)) != 0))
        rc = -ENOMEM;
    free(svg);
    json_decref(res);
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(r, "invite", ctx, 200);
}

int web_h_group(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    char gid[WEB_ID_HEX + 1];
    const char *rest;
    json_t *g;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    rest = web_path_id(req->path, "/g/", gid);
    g = rest != NULL ? group_of(&r, gid) : NULL;
    if (g == NULL)
        return web_fail(&r, 404);
    /* Only the writing form takes a POST; the rest are pages to read. */
    if (strcmp(rest, "/write") == 0)
        rc = web_write_page(&r, gid);
    else if (req->method == HTTP_M_GET && rest[0] == '\0')
        rc = topics_page(&r, g, gid);
    else if (req->method == HTTP_M_GET && strcmp(rest, "/threads") == 0)
        rc = threads_page(&r, g, gid);
    else if (req->method == HTTP_M_GET && strcmp(rest, "/invite") == 0)
        rc = invite_page(&r, g, gid);
    else
        rc = web_fail(&r, 404);
    json_decref(g);
    return rc;
}
