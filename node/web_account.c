/*
 * web_account: the pages about who you are: sign in, create an account,
 * sign out, your account, change display name and passphrase (node/WEB.md).
 * Sign-in, account creation and passphrase change check the passphrase with
 * Argon2id on the libuv threadpool (service_pw_*): the handler defers its
 * response, and the page is finished on the loop thread when the work is
 * done. It owns each job in flight (struct pw_work) until then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "kith/invite.h"
#include "kith/post.h"
#include "log.h"
#include "web_internal.h"

#define PASS_MIN 8
#define FIELD_MAX 256

enum pw_page { PW_SIGNIN, PW_SIGNUP, PW_CHANGE };

struct pw_work {
    uv_work_t req;
    struct web *w;
    struct http_response *resp;
    struct service_pw_job *job;
    enum pw_page page;
    char ws_id[WEBSESSION_ID_HEX + 1];
    char prefs[64], text_size[16], contrast[16];
    char name[FIELD_MAX];
    char addr[64];
    char invite[KITH_INVITE_TEXT_MAX];
};

static const char *field(const struct http_request *req, const char *name)
{
    const char *v = form_get(&req->form, name);

    return v != NULL ? v : "";
}

/* ---- the forms ---- */

static int signin_page(struct web_req *r, json_t *ctx, int status)
{
    return web_render(r, "signin", ctx, status);
}

static int signup_page(struct web_req *r, json_t *ctx, int status)
{
    if (json_object_set_new(ctx, "signup_open", json_boolean(r->w->allow_signup)) != 0) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return web_render(r, "signup", ctx, status);
}

/* ---- passphrase jobs ---- */

static void work_run(uv_work_t *req)
{
    struct pw_work *pw = req->data;

    service_pw_run(pw->job);
}

/* Sign the browser's web session in to sess (a new id against fixation). */
static int sign_in(struct web_req *r, struct service_session *sess)
{
    char c[WEBSESSION_COOKIE_MAX];
    struct service_session *old;

    if (r->ws->token[0] != '\0' && service_session_find(r->w->svc, r->ws->token, &old) == 0 &&
        old != sess)
        service_account_lock(r->w->svc, old);
    websession_rotate(r->w->ws, r->ws);
    if (websession_set_token(r->ws, service_session_token(sess)) < 0 ||
        websession_cookie(r->ws, c, sizeof(c)) < 0)
        return -KITH_EINVAL;
    r->sess = sess;
    return web_header(r, "Set-Cookie", c);
}

static int finish_signin(struct web_req *r, struct pw_work *pw, int rc,
                         struct service_session *sess)
{
    json_t *ctx;

    if (rc == 0) {
        websession_signin_ok(r->w->ws, pw->name, pw->addr);
        rc = sign_in(r, sess);
        return rc < 0 ? rc : web_redirect(r, "/groups");
    }
    if (rc != -KITH_EPASSPHRASE)
        return rc;
    websession_signin_failed(r->w->ws, pw->name, pw->addr);
    ctx = web_ctx(r, "Sign in");
    if (ctx == NULL || web_value(ctx, "name", pw->name) < 0 ||
        web_error(ctx, "passphrase", "The name or passphrase is not right") < 0) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return signin_page(r, ctx, 400);
}

static int finish_signup(struct web_req *r, struct pw_work *pw, int rc,
                         struct service_session *sess)
{
    json_t *ctx, *g = NULL;
    char loc[128];

    if (rc == 0) {
        rc = sign_in(r, sess);
        if (rc < 0)
            return rc;
        if (pw->invite[0] == '\0')
            return web_redirect(r, "/groups");
        rc = service_group_join(r->w->svc, sess, pw->invite, &g);
        if (rc < 0) {
            log_warn("web.signup_join_failed", "error=%s", kith_strerror(rc));
            return web_redirect(r, "/join");
        }
        snprintf(loc, sizeof(loc), "/g/%s?done=joined",
                 json_string_value(json_object_get(g, "group_id")));
        json_decref(g);
        return web_redirect(r, loc);
    }
    if (rc != -KITH_EEXIST)
        return rc;
    ctx = web_ctx(r, "Create an account");
    if (ctx == NULL || web_value(ctx, "name", pw->name) < 0 ||
        web_value(ctx, "invite", pw->invite) < 0 ||
        web_error(ctx, "name", "That name is taken. Choose another") < 0) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return signup_page(r, ctx, 400);
}

static int finish_change(struct web_req *r, int rc)
{
    json_t *ctx;

    if (rc == 0)
        return web_redirect(r, "/account?done=passphrase");
    if (rc != -KITH_EPASSPHRASE)
        return rc;
    ctx = web_ctx(r, "Change your passphrase");
    if (ctx == NULL ||
        web_error(ctx, "current_passphrase", "That is not your current passphrase") < 0) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return web_render(r, "account_pass", ctx, 400);
}

static void work_done(uv_work_t *req, int status)
{
    struct pw_work *pw = req->data;
    struct web *w = pw->w;
    struct service_session *sess = NULL;
    struct web_req r;
    char cookie[WEBSESSION_ID_HEX + 32];
    int rc;

    if (status < 0) {
        service_pw_free(pw->job);
        rc = -ECANCELED;
    } else {
        rc = service_pw_finish(w->svc, pw->job, &sess);
    }
    pw->job = NULL;
    memset(&r, 0, sizeof(r));
    r.w = w;
    r.resp = pw->resp;
    memcpy(r.prefs, pw->prefs, sizeof(r.prefs));
    memcpy(r.text_size, pw->text_size, sizeof(r.text_size));
    memcpy(r.contrast, pw->contrast, sizeof(r.contrast));
    /* The request is gone: find its web session again by id. */
    snprintf(cookie, sizeof(cookie), "%s=%s", WEBSESSION_COOKIE, pw->ws_id);
    if (websession_find(w->ws, cookie, &r.ws) < 0) {
        websession_create(w->ws, &r.ws);
        if (websession_cookie(r.ws, cookie, sizeof(cookie)) == 0)
            web_header(&r, "Set-Cookie", cookie);
    }
    if (r.ws->token[0] != '\0' && service_session_find(w->svc, r.ws->token, &r.sess) < 0)
        r.sess = NULL;
    if (pw->page == PW_SIGNIN)
        rc = finish_signin(&r, pw, rc, sess);
    else if (pw->page == PW_SIGNUP)
        rc = finish_signup(&r, pw, rc, sess);
    else
        rc = finish_change(&r, rc);
    if (rc < 0) {
        log_error("web.passphrase_job_failed", "error=%s", kith_strerror(rc));
        web_fail(&r, 500);
    }
    http_resp_finish(pw->resp);
    sodium_memzero(pw, sizeof(*pw));
    free(pw);
    web_job_done(w);
}

/* Queue job for the threadpool; the response is finished in work_done.
 * Takes job in every case. Returns HTTP_DEFER or a negative error. */
static int queue(struct web_req *r, enum pw_page page, struct service_pw_job *job, const char *name,
                 const char *invite)
{
    struct pw_work *pw = calloc(1, sizeof(*pw));
    int rc;

    if (pw == NULL) {
        service_pw_free(job);
        return -ENOMEM;
    }
    pw->req.data = pw;
    pw->w = r->w;
    pw->resp = r->resp;
    pw->job = job;
    pw->page = page;
    memcpy(pw->ws_id, r->ws->id, sizeof(pw->ws_id));
    memcpy(pw->prefs, r->prefs, sizeof(pw->prefs));
    memcpy(pw->text_size, r->text_size, sizeof(pw->text_size));
    memcpy(pw->contrast, r->contrast, sizeof(pw->contrast));
    snprintf(pw->name, sizeof(pw->name), "%s", name != NULL ? name : "");
    snprintf(pw->addr, sizeof(pw->addr), "%s", r->req->peer);
    snprintf(pw->invite, sizeof(pw->invite), "%s", invite != NULL ? invite : "");
    rc = uv_queue_work(r->w->loop, &pw->req, work_run, work_done);
    if (rc < 0) {
        service_pw_free(job);
        free(pw);
        return rc;
    }
    r->w->jobs++;
    return HTTP_DEFER;
}

/* ---- sign in ---- */

static int too_many(struct web_req *r, json_t *ctx, uint64_t wait_ms)
{
    char msg[96];

    snprintf(msg, sizeof(msg), "Too many tries. Wait %llu seconds, then try again",
             (unsigned long long)((wait_ms + 999) / 1000));
    if (web_error(ctx, "passphrase", msg) < 0) {
        json_decref(ctx);
        return -ENOMEM;
    }
    return signin_page(r, ctx, 429);
}

int web_h_signin(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    struct service_pw_job *job;
    const char *name, *pass;
    uint64_t wait_ms = 0;
    json_t *ctx;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    ctx = web_ctx(&r, "Sign in");
    if (ctx == NULL)
        return -ENOMEM;
    if (req->method != HTTP_M_POST)
        return signin_page(&r, ctx, 200);
    if (web_need_csrf(&r)) {
        json_decref(ctx);
        return 0;
    }
    name = field(req, "name");
    pass = field(req, "passphrase");
    rc = web_value(ctx, "name", name);
    if (rc == 0 && name[0] == '\0')
        rc = web_error(ctx, "name", "Enter your name");
    if (rc == 0 && pass[0] == '\0')
        rc = web_error(ctx, "passphrase", "Enter your passphrase");
    if (rc < 0 || json_is_true(json_object_get(ctx, "has_errors")))
        return rc < 0 ? (json_decref(ctx), rc) : signin_page(&r, ctx, 400);
    if (websession_signin_allowed(r.w->ws, name, req->peer, &wait_ms) < 0)
        return too_many(&r, ctx, wait_ms);
    if (r.w->jobs >= WEB_PW_JOBS_MAX) {
        json_decref(ctx);
        return web_fail(&r, 503);
    }
    rc = service_pw_unlock_begin(r.w->svc, name, pass, strlen(pass), &job);
    if (rc == -KITH_ERATELIMIT)
        return too_many(&r, ctx, 1000);
    if (rc == -KITH_ENAME || rc == -KITH_ETOOBIG) {
        websession_signin_failed(r.w->ws, name, req->peer);
        rc = web_error(ctx, "passphrase", "The name or passphrase is not right");
        return rc < 0 ? (json_decref(ctx), rc) : signin_page(&r, ctx, 400);
    }
    json_decref(ctx);
    if (rc < 0)
        return rc;
    return queue(&r, PW_SIGNIN, job, name, NULL);
}

/* ---- create an account ---- */

int web_h_signup(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    struct service_pw_job *job = NULL;
    struct kith_invite inv;
    const char *name, *pass, *invite;
    json_t *ctx;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    ctx = web_ctx(&r, "Create an account");
    if (ctx == NULL)
        return -ENOMEM;
    if (req->method != HTTP_M_POST)
        return signup_page(&r, ctx, 200);
    if (web_need_csrf(&r)) {
        json_decref(ctx);
        return 0;
    }
    name = field(req, "name");
    pass = field(req, "passphrase");
    invite = field(req, "invite");
    rc = web_value(ctx, "name", name);
    if (rc == 0)
        rc = web_value(ctx, "invite", invite);
    if (rc == 0 && name[0] == '\0')
        rc = web_error(ctx, "name", "Enter a name");
    if (rc == 0 && pass[0] == '\0')
        rc = web_error(ctx, "passphrase", "Enter a passphrase");
    else if (rc == 0 && strlen(pass) < PASS_MIN)
        rc = web_error(ctx, "passphrase", "The passphrase must be at least 8 characters");
    if (rc == 0 && invite[0] == '\0' && !r.w->allow_signup)
        rc = web_error(ctx, "invite", "Enter the invite code you were given");
    if (rc == 0 && invite[0] != '\0') {
        if (kith_invite_decode(invite, strlen(invite), &inv) < 0)
            rc = web_error(ctx, "invite", "That invite code is not right. Check it and try again");
        sodium_memzero(&inv, sizeof(inv));
    }
    if (rc == 0 && !json_is_true(json_object_get(ctx, "has_errors"))) {
        if (r.w->jobs >= WEB_PW_JOBS_MAX) {
            json_decref(ctx);
            return web_fail(&r, 503);
        }
        rc = service_pw_create_begin(r.w->svc, name, pass, strlen(pass), &job);
        if (rc == -KITH_EEXIST)
            rc = web_error(ctx, "name", "That name is taken. Choose another");
        else if (rc == -KITH_ENAME)
            rc = web_error(ctx, "name",
                           "A name can be up to 64 letters, with no special characters");
        else if (rc == -KITH_ETOOBIG)
            rc = web_error(ctx, "passphrase", "The passphrase is too long");
    }
    if (rc < 0 || job == NULL)
        return rc < 0 ? (json_decref(ctx), rc) : signup_page(&r, ctx, 400);
    json_decref(ctx);
    return queue(&r, PW_SIGNUP, job, name, invite);
}

/* ---- sign out ---- */

int web_h_signout(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    char c[WEBSESSION_COOKIE_MAX];
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_csrf(&r))
        return 0;
    /* Ends the member session on the node too (on_end), wiping the key. */
    websession_end(r.w->ws, r.ws);
    r.ws = NULL;
    if (websession_cookie_clear(c, sizeof(c)) == 0)
        web_header(&r, "Set-Cookie", c);
    return web_redirect(&r, "/signin?done=signedout");
}

/* ---- your account ---- */

int web_h_account(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    char name[KITH_POST_TITLE_MAX + 1];
    json_t *ctx;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    ctx = web_ctx(&r, "Your account");
    if (ctx == NULL)
        return -ENOMEM;
    rc = service_display_name(r.w->svc, r.sess, name, sizeof(name));
    if (rc < 0 || json_object_set_new(ctx, "display_name", json_string(name)) != 0) {
        json_decref(ctx);
        return rc < 0 ? rc : -ENOMEM;
    }
    return web_render(&r, "account", ctx, 200);
}

int web_h_account_name(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    const char *name;
    json_t *ctx, *res = NULL;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    ctx = web_ctx(&r, "Change your display name");
    if (ctx == NULL)
        return -ENOMEM;
    if (req->method != HTTP_M_POST) {
        char now[KITH_POST_TITLE_MAX + 1];

        if (service_display_name(r.w->svc, r.sess, now, sizeof(now)) == 0 &&
            web_value(ctx, "display_name", now) < 0) {
            json_decref(ctx);
            return -ENOMEM;
        }
        return web_render(&r, "account_name", ctx, 200);
    }
    if (web_need_csrf(&r)) {
        json_decref(ctx);
        return 0;
    }
    name = field(req, "display_name");
    rc = web_value(ctx, "display_name", name);
    if (rc == 0 && name[0] == '\0')
        rc = web_error(ctx, "display_name", "Enter a display name");
    if (rc == 0 && name[0] != '\0') {
        rc = service_profile_set(r.w->svc, r.sess, name, &res);
        json_decref(res);
        if (rc == 0) {
            json_decref(ctx);
            return web_redirect(&r, "/account?done=name");
        }
        if (rc == -KITH_ENAME)
            rc = web_error(ctx, "display_name",
                           "A name can be up to 64 letters, with no special characters");
    }
    if (rc < 0) {
        json_decref(ctx);
        return rc;
    }
    return web_render(&r, "account_name", ctx, 400);
}

int web_h_account_pass(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct web_req r;
    struct service_pw_job *job = NULL;
    const char *cur, *nw;
    json_t *ctx;
    int rc = web_begin(arg, req, resp, &r);

    if (rc < 0)
        return rc;
    if (web_need_member(&r))
        return 0;
    ctx = web_ctx(&r, "Change your passphrase");
    if (ctx == NULL)
        return -ENOMEM;
    if (req->method != HTTP_M_POST)
        return web_render(&r, "account_pass", ctx, 200);
    if (web_need_csrf(&r)) {
        json_decref(ctx);
        return 0;
    }
    cur = field(req, "current_passphrase");
    nw = field(req, "new_passphrase");
    rc = 0;
    if (cur[0] == '\0')
        rc = web_error(ctx, "current_passphrase", "Enter your current passphrase");
    if (rc == 0 && nw[0] == '\0')
        rc = web_error(ctx, "new_passphrase", "Enter a new passphrase");
    else if (rc == 0 && strlen(nw) < PASS_MIN)
        rc = web_error(ctx, "new_passphrase", "The passphrase must be at least 8 characters");
    if (rc == 0 && !json_is_true(json_object_get(ctx, "has_errors"))) {
        if (r.w->jobs >= WEB_PW_JOBS_MAX) {
            json_decref(ctx);
            return web_fail(&r, 503);
        }
        rc = service_pw_change_begin(r.w->svc, r.sess, cur, strlen(cur), nw, strlen(nw), &job);
        if (rc == -KITH_ETOOBIG)
            rc = web_error(ctx, "new_passphrase", "The passphrase is too long");
    }
    if (rc < 0 || job == NULL)
        return rc < 0 ? (json_decref(ctx), rc) : web_render(&r, "account_pass", ctx, 400);
    json_decref(ctx);
    return queue(&r, PW_CHANGE, job, NULL, NULL);
}
