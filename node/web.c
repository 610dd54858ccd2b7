/*
 * web: start and stop the web page, its route table, and what every page
 * shares: the request context (web session, member, preferences), CSRF
 * checks, the page context and error list, rendering, redirects, and how
 * posts are shown (see web.h and node/WEB.md). The pages themselves are in
 * web_account.c, web_group.c, web_posts.c and web_misc.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kith/error.h"
#include "log.h"
#include "markdown.h"
#include "web_internal.h"

#define TICK_MS 60000

/* ---- small helpers ---- */

int web_is_id(const char *s)
{
    size_t i = 0;

    for (; s[i] != '\0'; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return i == WEB_ID_HEX;
}

const char *web_path_id(const char *path, const char *prefix, char id[WEB_ID_HEX + 1])
{
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0 || strlen(path + n) < WEB_ID_HEX)
        return NULL;
    memcpy(id, path + n, WEB_ID_HEX);
    id[WEB_ID_HEX] = '\0';
    if (!web_is_id(id))
        return NULL;
    return path + n + WEB_ID_HEX;
}

void web_time(uint64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%e %B %Y at %H:%M UTC", &tm) == 0) {
        snprintf(out, cap, "an unknown time");
        return;
    }
    if (out[0] == ' ')
        memmove(out, out + 1, strlen(out));
}

int web_header(struct web_req *r, const char *name, const char *value)
{
    return http_resp_header(r->resp, name, value);
}

int web_redirect(struct web_req *r, const char *location)
{
    return http_resp_redirect(r->resp, location);
}

/* ---- the request context ---- */

/* The prefs cookie: "SIZE.CONTRAST", each from a fixed list. */
static void read_prefs(struct web_req *r, const char *cookie)
{
    char v[40];
    char *dot;

    snprintf(r->text_size, sizeof(r->text_size), "standard");
    snprintf(r->contrast, sizeof(r->contrast), "standard");
    r->prefs[0] = '\0';
    if (form_cookie_get(cookie, WEB_PREFS_COOKIE, v, sizeof(v)) < 0)
        return;
    dot = strchr(v, '.');
    if (dot == NULL)
        return;
    *dot = '\0';
    if (strcmp(v, "large") == 0)
        snprintf(r->text_size, sizeof(r->text_size), "large");
    else if (strcmp(v, "largest") == 0)
        snprintf(r->text_size, sizeof(r->text_size), "largest");
    if (strcmp(dot + 1, "high") == 0)
        snprintf(r->contrast, sizeof(r->contrast), "high");
    snprintf(r->prefs, sizeof(r->prefs), "%s%s%s",
             strcmp(r->text_size, "standard") != 0 ? "kith-text-" : "",
             strcmp(r->text_size, "standard") != 0 ? r->text_size : "",
             strcmp(r->contrast, "high") == 0 ? " kith-contrast-high" : "");
}

static int set_cookie(struct web_req *r)
{
    char c[WEBSESSION_COOKIE_MAX];

    if (websession_cookie(r->ws, c, sizeof(c)) < 0)
        return -KITH_EINVAL;
    return http_resp_header(r->resp, "Set-Cookie", c);
}

int web_begin(struct web *w, const struct http_request *req, struct http_response *resp,
              struct web_req *r)
{
    memset(r, 0, sizeof(*r));
    r->w = w;
    r->req = req;
    r->resp = resp;
    read_prefs(r, req->cookie);
    if (websession_find(w->ws, req->cookie, &r->ws) == 0 && r->ws->token[0] != '\0' &&
        service_session_find(w->svc, r->ws->token, &r->sess) < 0) {
        /* The member's session ended on the node (idle): so does this one. */
        websession_end(w->ws, r->ws);
        r->ws = NULL;
    }
    if (r->ws == NULL) {
        websession_create(w->ws, &r->ws);
        return set_cookie(r);
    }
    return 0;
}

int web_need_member(struct web_req *r)
{
    if (r->sess != NULL)
        return 0;
    if (web_redirect(r, "/signin") < 0)
        http_resp_error(r->resp, 500);
    return 1;
}

int web_need_csrf(struct web_req *r)
{
    const char *tok = form_get(&r->req->form, "csrf");

    if (form_count(&r->req->form, "csrf") == 1 && websession_csrf_check(r->ws, tok) == 0)
        return 0;
    log_warn("web.csrf_refused", "path=%s", r->req->path);
    web_fail(r, 403);
    return 1;
}

/* ---- page contexts ---- */

/* Notices a redirect may ask for (?done=KEY): fixed text, never echoed. */
static const char *const notices[][2] = {
    {"signedout", "You have signed out."},      {"saved", "Your choices are saved."},
    {"started", "Your group is ready."},        {"joined", "You have joined the group."},
    {"published", "Your post was published."},  {"replied", "Your reply was published."},
    {"edited", "Your changes were saved."},     {"deleted", "Your post was deleted."},
    {"name", "Your display name was changed."}, {"passphrase", "Your passphrase was changed."},
};

json_t *web_ctx(struct web_req *r, const char *title)
{
    json_t *ctx = json_object();
    const char *done = r->req != NULL ? form_get(&r->req->query, "done") : NULL;
    int e = 0;

    if (ctx == NULL)
        return NULL;
    e |= json_object_set_new(ctx, "title", json_string(title));
    e |= json_object_set_new(ctx, "csrf", json_string(r->ws->csrf));
    e |= json_object_set_new(ctx, "prefs", json_string(r->prefs));
    e |= json_object_set_new(ctx, "err", json_object());
    e |= json_object_set_new(ctx, "val", json_object());
    e |= json_object_set_new(ctx, "errors", json_array());
    if (r->sess != NULL)
        e |= json_object_set_new(ctx, "member", json_string(service_session_name(r->sess)));
    for (size_t i = 0; done != NULL && i < sizeof(notices) / sizeof(notices[0]); i++) {
        if (strcmp(done, notices[i][0]) == 0)
            e |= json_object_set_new(ctx, "notice", json_string(notices[i][1]));
    }
    if (e != 0) {
        json_decref(ctx);
        return NULL;
    }
    return ctx;
}

int web_error(json_t *ctx, const char *field, const char *message)
{
    json_t *item = json_pack("{s:s,s:s}", "field", field, "message", message);

    if (item == NULL || json_array_append_new(json_object_get(ctx, "errors"), item) != 0 ||
        json_object_set_new(json_object_get(ctx, "err"), field, json_string(message)) != 0 ||
        json_object_set_new(ctx, "has_errors", json_true()) != 0)
        return -ENOMEM;
    return 0;
}

int web_value(json_t *ctx, const char *field, const char *value)
{
    if (value == NULL)
        return 0;
    return json_object_set_new(json_object_get(ctx, "val"), field, json_string(value)) == 0
               ? 0
               : -ENOMEM;
}

int web_render(struct web_req *r, const char *name, json_t *ctx, int status)
{
    struct webtmpl_buf b = {0};
    int rc;

    if (ctx == NULL)
        return -ENOMEM;
    rc = webtmpl_render(r->w->tmpl, name, ctx, &b);
    json_decref(ctx);
    if (rc == 0)
        rc = http_resp_write(r->resp, b.p, b.len);
    free(b.p);
    if (rc == 0)
        http_resp_status(r->resp, status);
    else
        log_error("web.render_failed", "template=%s error=%s", name, kith_strerror(rc));
    return rc;
}

int web_fail(struct web_req *r, int status)
{
    static const struct {
        int status;
        const char *title, *text;
    } pages[] = {
        {400, "Something was not right",
         "The page sent something this form does not offer. Go back and choose again."},
        {403, "This form has expired",
         "The page you sent this from is out of date. Go back, reload the page and try again."},
        {404, "Page not found",
         "If you typed the web address, check it is right. If you followed a link, the post or "
         "group may have been deleted, or you may not be a member."},
        {429, "Please wait", "There have been too many tries. Wait a minute, then try again."},
        {503, "The node is busy", "Too many people are signing in at once. Try again in a moment."},
        {500, "Something went wrong", "The node could not do that. Try again in a moment."},
    };
    size_t i = 0;
    json_t *ctx;

    while (i + 1 < sizeof(pages) / sizeof(pages[0]) && pages[i].status != status)
        i++;
    ctx = web_ctx(r, pages[i].title);
    if (ctx == NULL || json_object_set_new(ctx, "text", json_string(pages[i].text)) != 0) {
        json_decref(ctx);
        return http_resp_error(r->resp, status);
    }
    if (web_render(r, "error", ctx, status) < 0)
        return http_resp_error(r->resp, status);
    return 0;
}

/* ---- posts as pages show them ---- */

/* The HTML of a post body as a JSON string, from the cache or rendered
 * (and kept when small). cmark writes UTF-8 when given UTF-8, and a post's
 * text was checked to be UTF-8 when it was opened: no second check. */
static json_t *body_html(struct web *w, const char *body)
{
    uint8_t key[16];
    struct web_md *m;
    size_t n = strlen(body), len = 0;
    char *html = NULL;
    json_t *out;

    crypto_generichash(key, sizeof(key), (const unsigned char *)body, n, NULL, 0);
    m = &w->md[key[0]];
    if (m->html != NULL && memcmp(m->key, key, sizeof(key)) == 0)
        return json_stringn_nocheck(m->html, m->len);
    if (markdown_to_html(body, n, &html, &len) < 0)
        return NULL;
    out = json_stringn_nocheck(html, len);
    if (len <= WEB_MD_KEEP_MAX) {
        free(m->html);
        memcpy(m->key, key, sizeof(key));
        m->html = html;
        m->len = len;
    } else {
        free(html);
    }
    return out;
}

int web_post_decorate(struct web_req *r, json_t *post)
{
    const char *body = json_string_value(json_object_get(post, "body"));
    const char *key = json_string_value(json_object_get(post, "author_key"));
    const char *id = json_string_value(json_object_get(post, "id"));
    char when[64], mine_hex[2 * 32 + 1];
    int e = 0;

    web_time((uint64_t)json_integer_value(json_object_get(post, "created_ms")), when, sizeof(when));
    e |= json_object_set_new(post, "when", json_string(when));
    if (body != NULL) {
        json_t *html = body_html(r->w, body);
        if (html == NULL)
            return -ENOMEM;
        e |= json_object_set_new(post, "html", html);
    }
    if (r->sess != NULL && key != NULL) {
        sodium_bin2hex(mine_hex, sizeof(mine_hex), service_session_public_key(r->sess), 32);
        if (strcmp(mine_hex, key) == 0 && !json_is_true(json_object_get(post, "deleted")))
            e |= json_object_set_new(post, "mine", json_true());
    }
    if (id != NULL)
        e |= json_object_set_new(post, "anchor", json_sprintf("p-%s", id));
    return e == 0 ? 0 : -ENOMEM;
}

int web_markdown_file(struct web *w, const char *rel, char **html, char **title)
{
    char path[4096], *text = NULL, *nl;
    size_t n, len = 0;
    FILE *f;
    int r;

    *html = *title = NULL;
    snprintf(path, sizeof(path), "%s/%s", w->web_dir, rel);
    f = fopen(path, "rb");
    if (f == NULL)
        return -KITH_ENOTFOUND;
    text = malloc(MARKDOWN_INPUT_MAX + 1);
    if (text == NULL) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(text, 1, MARKDOWN_INPUT_MAX, f);
    fclose(f);
    text[n] = '\0';
    /* The first line "# Title" is the page's h1; the rest is the page. */
    if (strncmp(text, "# ", 2) == 0) {
        nl = strchr(text, '\n');
        *title = strndup(text + 2, nl != NULL ? (size_t)(nl - text - 2) : strlen(text + 2));
        r = *title == NULL ? -ENOMEM : 0;
        if (r == 0)
            r = markdown_render(nl != NULL ? nl + 1 : "", nl != NULL ? strlen(nl + 1) : 0, 0, html,
                                &len);
    } else {
        *title = strdup("Help");
        r = *title == NULL ? -ENOMEM : markdown_render(text, n, 0, html, &len);
    }
    free(text);
    if (r < 0) {
        free(*title);
        *title = NULL;
    }
    return r;
}

/* ---- start and stop ---- */

/* The route table, in the order routes are tried. (Our own row type: an
 * array of struct http_route would be padded.) */
struct web_route {
    const char *path;
    http_handler fn;
    unsigned methods;
    int prefix;
};

static const struct web_route route_table[] = {
    {"/", web_h_home, HTTP_M_GET, 0},
    {"/signin", web_h_signin, HTTP_M_GET | HTTP_M_POST, 0},
    {"/signup", web_h_signup, HTTP_M_GET | HTTP_M_POST, 0},
    {"/signout", web_h_signout, HTTP_M_POST, 0},
    {"/help", web_h_help, HTTP_M_GET, 0},
    {"/help/", web_h_help, HTTP_M_GET, 1},
    {"/glossary", web_h_glossary, HTTP_M_GET, 0},
    {"/settings", web_h_settings, HTTP_M_GET | HTTP_M_POST, 0},
    {"/status", web_h_status, HTTP_M_GET, 0},
    {"/groups", web_h_groups, HTTP_M_GET | HTTP_M_POST, 0},
    {"/join", web_h_join, HTTP_M_GET | HTTP_M_POST, 0},
    {"/g/", web_h_group, HTTP_M_GET | HTTP_M_POST, 1},
    {"/p/", web_h_post, HTTP_M_GET | HTTP_M_POST, 1},
    {"/mine", web_h_mine, HTTP_M_GET, 0},
    {"/mine/export.md", web_h_export, HTTP_M_GET, 0},
    {"/mine/export.json", web_h_export, HTTP_M_GET, 0},
    {"/account", web_h_account, HTTP_M_GET, 0},
    {"/account/name", web_h_account_name, HTTP_M_GET | HTTP_M_POST, 0},
    {"/account/passphrase", web_h_account_pass, HTTP_M_GET | HTTP_M_POST, 0},
    {"/static/", webstatic_handler, HTTP_M_GET, 1},
    {"/", web_h_notfound, HTTP_M_GET | HTTP_M_POST, 1},
};
#define N_ROUTES (sizeof(route_table) / sizeof(route_table[0]))

/* A member session ended with its web session (idle, evicted, signed
 * out): end it on the node too, so the member key is wiped. */
static void on_session_end(void *arg, const char *token)
{
    struct web *w = arg;
    struct service_session *s;

    if (service_session_find(w->svc, token, &s) == 0)
        service_account_lock(w->svc, s);
}

static void on_tick(uv_timer_t *t)
{
    struct web *w = t->data;

    websession_tick(w->ws);
}

static void web_free(struct web *w)
{
    for (size_t i = 0; i < WEB_MD_SLOTS; i++)
        free(w->md[i].html);
    websession_close(w->ws);
    webtmpl_free(w->tmpl);
    webstatic_close(w->stat);
    json_decref(w->prompts);
    free(w->web_dir);
    free(w);
}

static void maybe_free(struct web *w)
{
    if (w->stopping && w->tick_closed && w->jobs == 0)
        web_free(w);
}

void web_job_done(struct web *w)
{
    w->jobs--;
    maybe_free(w);
}

static void on_tick_closed(uv_handle_t *h)
{
    struct web *w = h->data;

    w->tick_closed = 1;
    maybe_free(w);
}

static int load(struct web *w, const struct web_config *cfg, char *err)
{
    struct websession_config wc;
    char path[4096];
    int r;

    w->web_dir = malloc(strlen(cfg->content_dir) + 5);
    if (w->web_dir == NULL)
        return -ENOMEM;
    snprintf(w->web_dir, strlen(cfg->content_dir) + 5, "%s/web", cfg->content_dir);
    r = webtmpl_new(&w->tmpl);
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "%s/templates", w->web_dir);
    r = webtmpl_load_dir(w->tmpl, path, err);
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "%s/static", w->web_dir);
    r = webstatic_open(path, "/static/", &w->stat);
    if (r < 0) {
        if (err != NULL)
            snprintf(err, WEB_ERR_MAX, "cannot open %.200s", path);
        return r;
    }
    r = web_prompts_load(w);
    if (r < 0) {
        if (err != NULL)
            snprintf(err, WEB_ERR_MAX, "cannot read %.180s/prompts.txt", w->web_dir);
        return r;
    }
    memset(&wc, 0, sizeof(wc));
    wc.idle_s = cfg->idle_s;
    wc.now_ms = cfg->now_ms;
    wc.now_arg = cfg->now_arg;
    wc.on_end = on_session_end;
    wc.end_arg = w;
    return websession_open(&wc, &w->ws);
}

int web_start(uv_loop_t *loop, struct service *svc, const struct web_config *cfg, struct web **out,
              char *err)
{
    struct http_route *routes;
    struct http_config hc;
    struct web *w;
    int r;

    *out = NULL;
    if (err != NULL)
        err[0] = '\0';
    if (cfg->content_dir == NULL) {
        if (err != NULL)
            snprintf(err, WEB_ERR_MAX, "no content directory (set KITH_CONTENT)");
        return -KITH_EINVAL;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return -ENOMEM;
    w->loop = loop;
    w->svc = svc;
    w->allow_signup = cfg->allow_signup;
    r = load(w, cfg, err);
    if (r < 0) {
        web_free(w);
        return r;
    }
    routes = calloc(N_ROUTES, sizeof(*routes));
    if (routes == NULL) {
        web_free(w);
        return -ENOMEM;
    }
    for (size_t i = 0; i < N_ROUTES; i++) {
        routes[i].methods = route_table[i].methods;
        routes[i].path = route_table[i].path;
        routes[i].prefix = route_table[i].prefix;
        routes[i].fn = route_table[i].fn;
        routes[i].arg = routes[i].fn == webstatic_handler ? (void *)w->stat : (void *)w;
    }
    memset(&hc, 0, sizeof(hc));
    hc.host_name = cfg->host_name;
    hc.routes = routes;
    hc.n_routes = N_ROUTES;
    r = http_start(loop, cfg->addr, cfg->port, &hc, &w->srv);
    free(routes); /* the server copied them */
    if (r < 0) {
        if (err != NULL)
            snprintf(err, WEB_ERR_MAX, "cannot listen: %s", kith_strerror(r));
        web_free(w);
        return r;
    }
    uv_timer_init(loop, &w->tick);
    w->tick.data = w;
    uv_timer_start(&w->tick, on_tick, TICK_MS, TICK_MS);
    *out = w;
    return 0;
}

uint16_t web_port(const struct web *w)
{
    return http_port(w->srv);
}

void web_stop(struct web *w)
{
    if (w == NULL || w->stopping)
        return;
    w->stopping = 1;
    http_stop(w->srv);
    w->srv = NULL;
    uv_close((uv_handle_t *)&w->tick, on_tick_closed);
}
