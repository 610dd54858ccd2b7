/*
 * web_internal: what the page files of the web page share (web.c: start,
 * routes, the request context and rendering; web_account.c, web_group.c,
 * web_posts.c, web_misc.c: the pages). Not for other modules: see web.h.
 */
#ifndef KITH_WEB_INTERNAL_H
#define KITH_WEB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "http.h"
#include "service.h"
#include "web.h"
#include "webstatic.h"
#include "websession.h"
#include "webtmpl.h"

#define WEB_PW_JOBS_MAX 4 /* passphrase jobs at once; more get "busy" */
#define WEB_PREFS_COOKIE "kith_prefs"
#define WEB_ID_HEX 64

/* Post bodies already rendered, by a hash of the Markdown: a body never
 * changes under its hash, so an entry is never stale (an edit is another
 * body). Only small results are kept: at most WEB_MD_SLOTS * WEB_MD_KEEP_MAX
 * bytes in all. */
#define WEB_MD_SLOTS 256
#define WEB_MD_KEEP_MAX 16384
struct web_md {
    uint8_t key[16];
    char *html; /* malloc'd, NUL-terminated; NULL: empty slot */
    size_t len;
};

struct web {
    uv_loop_t *loop;
    struct service *svc;
    struct websessions *ws;
    struct webtmpl *tmpl;
    struct webstatic *stat;
    struct http_server *srv;
    uv_timer_t tick;
    char *web_dir;   /* content/web */
    json_t *prompts; /* {"topic": [str], "*": [str]} */
    int allow_signup;
    unsigned jobs; /* passphrase jobs in flight */
    int stopping;
    int tick_closed;
    struct web_md md[WEB_MD_SLOTS];
};

/* One request being answered. Nothing in it points into the request once a
 * handler has deferred (req is then NULL). */
struct web_req {
    struct web *w;
    const struct http_request *req;
    struct http_response *resp;
    struct websession *ws;        /* always set after web_begin */
    struct service_session *sess; /* the signed-in member, or NULL */
    char prefs[64];               /* classes for <html> from the prefs cookie */
    char text_size[16], contrast[16];
};

/* ---- web.c ---- */

/*
 * Start answering: find or create the browser's web session (a new one
 * sets the cookie), and the member signed in to it. Returns 0 or -ENOMEM.
 */
int web_begin(struct web *w, const struct http_request *req, struct http_response *resp,
              struct web_req *r);

/* 1 (and a 303 to /signin is set) when nobody is signed in, else 0. */
int web_need_member(struct web_req *r);

/* A POST's CSRF token: 0 when right; else the 403 page is set and it
 * returns 1. */
int web_need_csrf(struct web_req *r);

/* The base context of every page: title, csrf, member, prefs, notice
 * (from ?done=KEY when req is still there). NULL on no memory. */
json_t *web_ctx(struct web_req *r, const char *title);

/* Record a form error on field: ctx.errors[] gets {field, message},
 * ctx.err.FIELD = message. Returns 0 or -ENOMEM. */
int web_error(json_t *ctx, const char *field, const char *message);

/* Keep a submitted value to show again: ctx.val.FIELD = value. */
int web_value(json_t *ctx, const char *field, const char *value);

/* Render template name over ctx (stolen) into resp with status. Returns 0
 * or a negative error. */
int web_render(struct web_req *r, const char *name, json_t *ctx, int status);

/* The page for an error status (403, 404, 429, 500, 503). Returns 0 or
 * -ENOMEM. */
int web_fail(struct web_req *r, int status);

/* 303 to location. Returns 0 or -KITH_EINVAL / -ENOMEM. */
int web_redirect(struct web_req *r, const char *location);

/* Set a header; returns 0 or an error. */
int web_header(struct web_req *r, const char *name, const char *value);

/* 1 if s is 64 lower-case hex characters. */
int web_is_id(const char *s);

/* The id after prefix in path ("/g/" + 64 hex + rest): copies it to id and
 * returns the rest (may be ""), or NULL when there is no id there. */
const char *web_path_id(const char *path, const char *prefix, char id[WEB_ID_HEX + 1]);

/* "5 June 2025 at 14:05" for ms since 1970, into out. */
void web_time(uint64_t ms, char *out, size_t cap);

/* Add to a post object what pages show: "html" (the body as safe
 * Markdown), "when", "mine" (written by sess), "anchor". Returns 0 or
 * -ENOMEM. */
int web_post_decorate(struct web_req *r, json_t *post);

/* The "html" of a Markdown file under the web dir (help pages) and its
 * first "# " line as *title (malloc'd). Returns 0, -KITH_ENOTFOUND or
 * -ENOMEM. */
int web_markdown_file(struct web *w, const char *rel, char **html, char **title);

/* A passphrase job has finished (its response is sent): count it, and
 * free the web if it is stopping and this was the last thing it waited for. */
void web_job_done(struct web *w);

/* ---- pages (web_account.c, web_group.c, web_posts.c, web_misc.c) ---- */

int web_h_signin(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_signup(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_signout(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_account(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_account_name(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_account_pass(void *arg, const struct http_request *req, struct http_response *resp);

int web_h_groups(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_join(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_group(void *arg, const struct http_request *req, struct http_response *resp);

int web_h_post(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_mine(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_export(void *arg, const struct http_request *req, struct http_response *resp);
/* The writing form of group gid (web_posts.c, called from web_group.c). */
int web_write_page(struct web_req *r, const char *gid);

int web_h_home(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_help(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_glossary(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_settings(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_status(void *arg, const struct http_request *req, struct http_response *resp);
int web_h_notfound(void *arg, const struct http_request *req, struct http_response *resp);

/* The writing prompts of topic (a JSON array, borrowed; never NULL while w
 * lives: the general ones when the topic has none). */
json_t *web_prompts(struct web *w, const char *topic);

/* Load content/web/prompts.txt. Returns 0, -errno or -ENOMEM. */
int web_prompts_load(struct web *w);

#endif
