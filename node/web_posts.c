/*
 * web_posts: the pages about posts: write a post (with the topic's writing
 * prompts beside the box), a conversation with its replies, reply, edit and
 * delete one's own posts (delete asks first), your posts, and the export
 * downloads (node/WEB.md). Owns nothing beyond one request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "web_internal.h"

static const char *field(const struct http_request *req, const char *name)
{
    const char *v = form_get(&req->form, name);

    return v != NULL ? v : "";
}

/* The error a failed write gets, on the field it is about. */
static int write_error(json_t *ctx, int rc, int has_title)
{
    if (rc == -KITH_EREQUEST)
        return web_error(ctx, "body", "Write something in your post");
    if (rc == -KITH_ETOOBIG)
        return has_title ? web_error(ctx, "title", "The title is too long")
                         : web_error(ctx, "body", "Your post is too long");
    if (rc == -KITH_EENCODING)
        return web_error(ctx, "body", "Your post has characters that cannot be used");
    return rc;
}

static int set_prompts(struct web_req *r, json_t *ctx, const char *topic)
{
    return json_object_set(ctx, "prompts", web_prompts(r->w, topic)) == 0 ? 0 : -ENOMEM;
}

/* ---- write a post ---- */

int web_write_page(struct web_req *r, const char *gid)
{
    const struct http_request *req = r->req;
    const char *topic, *title = "", *body = "";
    json_t *ctx = web_ctx(r, "Write a post"), *res = NULL, *g = NULL, *topics, *t, *p = NULL;
    char loc[160];
    size_t i;
    int rc = ctx != NULL ? 0 : -ENOMEM, status = 200;

    if (rc == 0 && req->method == HTTP_M_POST && web_need_csrf(r)) {
        json_decref(ctx);
        return 0;
    }
    topic = req->method == HTTP_M_POST ? field(req, "topic") : form_get(&req->query, "topic");
    if (topic == NULL)
        topic = "";
    if (rc == 0 && req->method == HTTP_M_POST) {
        title = field(req, "title");
        body = field(req, "body");
        rc = service_post_create(r->w->svc, r->sess, gid, topic, title, body, strlen(body), &p);
        if (rc == 0) {
            snprintf(loc, sizeof(loc), "/p/%s?done=published",
                     json_string_value(json_object_get(p, "id")));
            json_decref(p);
            json_decref(ctx);
            return web_redirect(r, loc);
        }
        rc = write_error(ctx, rc, strlen(title) > KITH_POST_TITLE_MAX);
        status = 400;
    }
    if (rc == 0)
        rc = service_group_list(r->w->svc, r->sess, &res);
    json_array_foreach(json_object_get(res, "groups"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "group_id")), gid) == 0)
            g = t;
    }
    topics = json_array();
    json_array_foreach(g != NULL ? json_object_get(g, "topics") : NULL, i, t)
    {
        if (json_array_append_new(topics, json_pack("{s:O,s:b}", "name", t, "selected",
                                                    strcmp(json_string_value(t), topic) == 0)))
            rc = -ENOMEM;
    }
    if (rc == 0 && (g == NULL || topics == NULL || json_object_set(ctx, "group", g) != 0 ||
                    json_object_set(ctx, "topics", topics) != 0 ||
                    json_object_set_new(ctx, "body_label", json_string("Your post")) != 0 ||
                    web_value(ctx, "title", title) < 0 || web_value(ctx, "body", body) < 0 ||
                    set_prompts(r, ctx, topic) < 0))
        rc = -ENOMEM;
    json_decref(topics);
    json_decref(res);
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(r, "write", ctx, status);
}

/* ---- a conversation ---- */

/* The thread pid is in, decorated; NULL when the member cannot see it. */
static json_t *thread_of(struct web_req *r, const char *pid)
{
    json_t *t = NULL, *reply;
    size_t i;
    int rc = service_thread_show(r->w->svc, r->sess, pid, &t);

    if (rc < 0)
        return NULL;
    rc = web_post_decorate(r, json_object_get(t, "post"));
    json_array_foreach(json_object_get(t, "replies"), i, reply)
    {
        if (rc == 0)
            rc = web_post_decorate(r, reply);
    }
    if (rc < 0) {
        json_decref(t);
        return NULL;
    }
    return t;
}

/* The post called pid in thread t (borrowed), or NULL. */
static json_t *post_in(json_t *t, const char *pid)
{
    json_t *p = json_object_get(t, "post"), *reply;
    size_t i;

    if (strcmp(json_string_value(json_object_get(p, "id")), pid) == 0)
        return p;
    json_array_foreach(json_object_get(t, "replies"), i, reply)
    {
        if (strcmp(json_string_value(json_object_get(reply, "id")), pid) == 0)
            return reply;
    }
    return NULL;
}

/* A context holding the thread: title, post, replies, the root's id. */
static json_t *thread_ctx(struct web_req *r, json_t *t, const char *title)
{
    json_t *root = json_object_get(t, "post");
    const char *tt = json_string_value(json_object_get(root, "title"));
    json_t *ctx = web_ctx(r, title != NULL ? title : (tt != NULL && tt[0] ? tt : "Conversation"));

    if (ctx == NULL || json_object_set(ctx, "post", root) != 0 ||
        json_object_set(ctx, "replies", json_object_get(t, "replies")) != 0 ||
        json_object_set(ctx, "root", json_object_get(root, "id")) != 0 ||
        json_object_set_new(ctx, "body_label", json_string("Your reply")) != 0 ||
        set_prompts(r, ctx, json_string_value(json_object_get(root, "topic"))) < 0) {
        json_decref(ctx);
        return NULL;
    }
    return ctx;
}

static int reply_page(struct web_req *r, json_t *t, const char *pid)
{
    const char *body = "";
    json_t *ctx = thread_ctx(r, t, "Reply"), *p = NULL;
    char loc[200];
    int rc = ctx != NULL ? 0 : -ENOMEM;

    if (rc == 0 && r->req->method == HTTP_M_POST) {
        if (web_need_csrf(r)) {
            json_decref(ctx);
            return 0;
        }
        body = field(r->req, "body");
        rc = service_post_reply(r->w->svc, r->sess, pid, body, strlen(body), &p);
        if (rc == 0) {
            const char *id = json_string_value(json_object_get(p, "id"));

            snprintf(loc, sizeof(loc), "/p/%s?done=replied#p-%s", id, id);
            json_decref(p);
            json_decref(ctx);
            return web_redirect(r, loc);
        }
        if (rc == -KITH_EDELETED) {
            json_decref(ctx);
            return web_fail(r, 404);
        }
        rc = write_error(ctx, rc, 0);
        if (rc == 0)
            rc = web_value(ctx, "body", body);
        if (rc < 0) {
            json_decref(ctx);
            return rc;
        }
        return web_render(r, "reply", ctx, 400);
    }
    if (rc < 0)
        return rc;
    return web_render(r, "reply", ctx, 200);
}

static int edit_page(struct web_req *r, json_t *t, json_t *post, const char *pid)
{
    const char *title, *body;
    json_t *ctx = thread_ctx(r, t, "Edit your post"), *res = NULL;
    int is_root = post == json_object_get(t, "post");
    char loc[200];
    int rc = ctx != NULL ? 0 : -ENOMEM, status = 200;

    if (rc == 0 && r->req->method == HTTP_M_POST) {
        if (web_need_csrf(r)) {
            json_decref(ctx);
            return 0;
        }
        title = is_root ? field(r->req, "title") : "";
        body = field(r->req, "body");
        rc = service_post_edit(r->w->svc, r->sess, pid, title, body, strlen(body), &res);
        json_decref(res);
        if (rc == 0) {
            snprintf(loc, sizeof(loc), "/p/%s?done=edited#p-%s", pid, pid);
            json_decref(ctx);
            return web_redirect(r, loc);
        }
        rc = write_error(ctx, rc, strlen(title) > KITH_POST_TITLE_MAX);
        status = 400;
    } else {
        title = json_string_value(json_object_get(post, "title"));
        body = json_string_value(json_object_get(post, "body"));
    }
    if (rc == 0 && (web_value(ctx, "title", title) < 0 || web_value(ctx, "body", body) < 0 ||
                    json_object_set(ctx, "target", post) != 0 ||
                    json_object_set_new(ctx, "body_label", json_string("Your post")) != 0 ||
                    json_object_set_new(ctx, "is_root", json_boolean(is_root)) != 0))
        rc = -ENOMEM;
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(r, "edit", ctx, status);
}

static int delete_page(struct web_req *r, json_t *t, json_t *post, const char *pid)
{
    json_t *ctx = thread_ctx(r, t, "Delete this post?"), *res = NULL;
    json_t *root = json_object_get(t, "post");
    char loc[200];
    int rc = ctx != NULL ? 0 : -ENOMEM;

    if (rc == 0 && r->req->method == HTTP_M_POST) {
        json_decref(ctx);
        if (web_need_csrf(r))
            return 0;
        rc = service_post_delete(r->w->svc, r->sess, pid, &res);
        json_decref(res);
        if (rc < 0)
            return rc == -KITH_EDELETED || rc == -KITH_ENOTYOURS ? web_fail(r, 404) : rc;
        if (post == root)
            snprintf(loc, sizeof(loc), "/g/%s/threads?done=deleted",
                     json_string_value(json_object_get(root, "group_id")));
        else
            snprintf(loc, sizeof(loc), "/p/%s?done=deleted",
                     json_string_value(json_object_get(root, "id")));
        return web_redirect(r, loc);
    }
    if (rc < 0 || json_object_set(ctx, "target", post) != 0) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return web_render(r, "delete", ctx, 200);
}

int web_h_post(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    char pid[WEB_ID_HEX + 1];
    const char *rest;
    json_t *t, *post;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    rest = web_path_id(req->path, "/p/", pid);
    t = rest != NULL ? thread_of(&r, pid) : NULL;
    post = t != NULL ? post_in(t, pid) : NULL;
    if (post == NULL) {
        json_decref(t);
        return web_fail(&r, 404);
    }
    if (rest[0] == '\0' && req->method == HTTP_M_GET)
        rc = web_render(&r, "thread", thread_ctx(&r, t, NULL), 200);
    else if (strcmp(rest, "/reply") == 0 && !json_is_true(json_object_get(post, "deleted")))
        rc = reply_page(&r, t, pid);
    else if (strcmp(rest, "/edit") == 0 && json_is_true(json_object_get(post, "mine")))
        rc = edit_page(&r, t, post, pid);
    else if (strcmp(rest, "/delete") == 0 && json_is_true(json_object_get(post, "mine")))
        rc = delete_page(&r, t, post, pid);
    else
        rc = web_fail(&r, 404);
    json_decref(t);
    return rc;
}

/* ---- your posts and export ---- */

int web_h_mine(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    json_t *res = NULL, *posts, *p, *ctx;
    size_t i;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    rc = service_export(r.w->svc, r.sess, SERVICE_EXPORT_JSON, &res);
    if (rc < 0)
        return rc;
    posts = json_array();
    /* Newest first; the export is oldest first. */
    for (i = json_array_size(json_object_get(res, "posts")); posts != NULL && i-- > 0;) {
        p = json_array_get(json_object_get(res, "posts"), i);
        if (web_post_decorate(&r, p) < 0 || json_array_append(posts, p) != 0)
            rc = -ENOMEM;
    }
    json_decref(res);
    ctx = web_ctx(&r, "Your posts");
    if (rc < 0 || posts == NULL || ctx == NULL || json_object_set(ctx, "posts", posts) != 0) {
        json_decref(posts);
        json_decref(ctx);
        return -ENOMEM;
    }
    json_decref(posts);
    return web_render(&r, "mine", ctx, 200);
}

int web_h_export(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    int md = strcmp(req->path, "/mine/export.md") == 0;
    json_t *res = NULL;
    char *text = NULL;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    rc = service_export(r.w->svc, r.sess, md ? SERVICE_EXPORT_MD : SERVICE_EXPORT_JSON, &res);
    if (rc < 0)
        return rc;
    if (md)
        text = strdup(json_string_value(json_object_get(res, "text")));
    else
        text = json_dumps(res, JSON_INDENT(2));
    json_decref(res);
    if (text == NULL)
        return -ENOMEM;
    rc = http_resp_type(resp, md ? "text/markdown; charset=utf-8" : "application/json");
    if (rc == 0)
        rc = web_header(&r, "Content-Disposition",
                        md ? "attachment; filename=\"kith-posts.md\""
                           : "attachment; filename=\"kith-posts.json\"");
    if (rc == 0)
        rc = http_resp_write(resp, text, strlen(text));
    free(text);
    return rc;
}
