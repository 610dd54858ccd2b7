/*
 * Tests for the web page (node/web*.c) over real HTTP: a service on a real
 * store and vault in a mkdtemp directory, the web server on a loop thread,
 * and a blocking client here. Covers the flows of node/WEB.md (create an
 * account, sign in, start a group, write, reply, edit, delete, export,
 * invite, join, sign out), the rules (CSRF, sign-in limits, idle expiry,
 * another member's posts, sign-up closed without an invite), escaping of
 * post bodies, preferences, static files, caching headers and page weight.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "kith/error.h"
#include "service.h"
#include "store.h"
#include "vault.h"
#include "web.h"

#define T0 1700000000000ull

struct harness {
    char dir[64];
    struct store *st;
    struct vault *v;
    struct service *svc;
    uv_loop_t loop;
    uv_async_t done;
    pthread_t th;
    struct web *web;
    uint16_t port;
    int run_result;
    uint64_t clock; /* the service's (ms since 1970) and the web's (offset) */
};

static struct harness H;

static uint64_t svc_clock(void *arg)
{
    return *(uint64_t *)arg;
}

static uint64_t web_clock(void *arg)
{
    return *(uint64_t *)arg - T0;
}

static void on_done(uv_async_t *a)
{
    web_stop(H.web);
    H.web = NULL;
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    H.run_result = uv_run(&H.loop, UV_RUN_DEFAULT);
    return arg;
}

static void start(int allow_signup)
{
    struct service_config sc = {0};
    struct web_config wc = {0};
    char key[128], err[WEB_ERR_MAX];

    cr_assert(sodium_init() >= 0);
    memset(&H, 0, sizeof(H));
    strcpy(H.dir, "/tmp/kith-web-XXXXXX");
    cr_assert_not_null(mkdtemp(H.dir));
    cr_assert_eq(store_open(H.dir, &H.st), 0);
    snprintf(key, sizeof key, "%s/node.key", H.dir);
    cr_assert_eq(vault_open_keyfile(H.st, key, &H.v), 0);
    H.clock = T0;
    sc.content_dir = KITH_SOURCE_DIR "/content";
    sc.session_idle_s = 900;
    sc.now_ms = svc_clock;
    sc.now_arg = &H.clock;
    cr_assert_eq(service_open(H.st, H.v, &sc, &H.svc), 0);
    cr_assert_eq(uv_loop_init(&H.loop), 0);
    wc.addr = "127.0.0.1";
    wc.content_dir = KITH_SOURCE_DIR "/content";
    wc.allow_signup = allow_signup;
    wc.idle_s = 900;
    wc.now_ms = web_clock;
    wc.now_arg = &H.clock;
    cr_assert_eq(web_start(&H.loop, H.svc, &wc, &H.web, err), 0, "%s", err);
    H.port = web_port(H.web);
    cr_assert_eq(uv_async_init(&H.loop, &H.done, on_done), 0);
    cr_assert_eq(pthread_create(&H.th, NULL, loop_main, NULL), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void stop(void)
{
    uv_async_send(&H.done);
    pthread_join(H.th, NULL);
    cr_assert_eq(H.run_result, 0);
    cr_assert_eq(uv_loop_close(&H.loop), 0);
    service_close(H.svc);
    vault_close(H.v);
    store_close(H.st);
    nftw(H.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup_open(void)
{
    start(1);
}

static void setup_closed(void)
{
    start(0);
}

TestSuite(web, .init = setup_open, .fini = stop, .timeout = 120);
TestSuite(web_closed, .init = setup_closed, .fini = stop, .timeout = 120);

/* ---- a browser of sorts: one cookie jar, blocking requests ---- */

struct browser {
    char cookie[128]; /* kith_session=... */
    char prefs[64];   /* kith_prefs=... */
};

struct resp {
    int status;
    char head[8192];
    char *body; /* malloc'd, NUL-terminated */
    size_t body_len;
    char location[512];
};

static void resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

static int cl_connect(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(H.port)};
    struct timeval tv = {.tv_sec = 10};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "%s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Take Set-Cookie lines into the jar. */
static void take_cookies(struct browser *b, const char *head)
{
    const char *p = head;

    while ((p = strstr(p, "\r\nSet-Cookie: ")) != NULL) {
        char *dst = NULL;
        size_t cap = 0, n;

        p += 14;
        if (strncmp(p, "kith_session=", 13) == 0) {
            dst = b->cookie;
            cap = sizeof(b->cookie);
        } else if (strncmp(p, "kith_prefs=", 11) == 0) {
            dst = b->prefs;
            cap = sizeof(b->prefs);
        }
        n = strcspn(p, ";\r");
        if (dst != NULL && n < cap) {
            memcpy(dst, p, n);
            dst[n] = '\0';
            if (dst[n - 1] == '=')
                dst[0] = '\0'; /* cleared */
        }
    }
}

static void http(struct browser *b, const char *method, const char *path, const char *body,
                 struct resp *r)
{
    char req[16384], *end = NULL, *p;
    size_t n = 0, cl;
    int fd = cl_connect();

    if (body != NULL)
        snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s; %s\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 method, path, b->cookie, b->prefs, strlen(body), body);
    else
        snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s; %s\r\n"
                 "Connection: close\r\n\r\n",
                 method, path, b->cookie, b->prefs);
    n = strlen(req);
    cr_assert_eq(send(fd, req, n, MSG_NOSIGNAL), (ssize_t)n);
    memset(r, 0, sizeof(*r));
    n = 0;
    while (end == NULL) {
        ssize_t got = recv(fd, r->head + n, 1, 0);

        cr_assert_gt(got, 0, "no response to %s %s", method, path);
        n++;
        cr_assert_lt(n, sizeof(r->head) - 1);
        r->head[n] = '\0';
        end = strstr(r->head, "\r\n\r\n");
    }
    cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
    p = strstr(r->head, "\r\nContent-Length: ");
    cr_assert_not_null(p);
    cl = strtoul(p + 18, NULL, 10);
    r->body = malloc(cl + 1);
    while (r->body_len < cl) {
        ssize_t got = recv(fd, r->body + r->body_len, cl - r->body_len, 0);

        cr_assert_gt(got, 0);
        r->body_len += (size_t)got;
    }
    r->body[cl] = '\0';
    close(fd);
    p = strstr(r->head, "\r\nLocation: ");
    if (p != NULL)
        snprintf(r->location, sizeof(r->location), "%.*s", (int)strcspn(p + 12, "\r"), p + 12);
    take_cookies(b, r->head);
}

static int has(const struct resp *r, const char *s)
{
    return strstr(r->head, s) != NULL || (r->body != NULL && strstr(r->body, s) != NULL);
}

/* GET path, expect status, keep the page's csrf token in csrf. */
static void get(struct browser *b, const char *path, int status, char csrf[65], struct resp *r)
{
    const char *p;

    http(b, "GET", path, NULL, r);
    cr_assert_eq(r->status, status, "GET %s: %d\n%s", path, r->status, r->head);
    if (csrf == NULL)
        return;
    p = strstr(r->body, "name=\"csrf\" value=\"");
    cr_assert_not_null(p, "no form on %s", path);
    memcpy(csrf, p + 19, 64);
    csrf[64] = '\0';
}

/* POST the form at path (csrf from GET form_path first). */
static void post(struct browser *b, const char *form_path, const char *path, const char *fields,
                 int status, struct resp *r)
{
    char csrf[65], body[8192];
    struct resp g;

    get(b, form_path, 200, csrf, &g);
    resp_free(&g);
    snprintf(body, sizeof(body), "csrf=%s&%s", csrf, fields);
    http(b, "POST", path, body, r);
    cr_assert_eq(r->status, status, "POST %s: %d\n%s\n%s", path, r->status, r->head,
                 r->body != NULL ? r->body : "");
}

static void signup(struct browser *b, const char *name)
{
    char fields[256];
    struct resp r;

    snprintf(fields, sizeof(fields), "name=%s&passphrase=long+passphrase&invite=", name);
    post(b, "/signup", "/signup", fields, 303, &r);
    cr_assert_str_eq(r.location, "/groups");
    resp_free(&r);
}

/* Start a group; its id into gid. */
static void start_group(struct browser *b, const char *name, char gid[65])
{
    char fields[128];
    struct resp r;

    snprintf(fields, sizeof(fields), "name=%s", name);
    post(b, "/groups", "/groups", fields, 303, &r);
    cr_assert(strncmp(r.location, "/g/", 3) == 0);
    memcpy(gid, r.location + 3, 64);
    gid[64] = '\0';
    cr_assert_str_eq(r.location + 67, "?done=started");
    resp_free(&r);
}

static void write_post(struct browser *b, const char *gid, const char *fields, char pid[65])
{
    char path[128];
    struct resp r;

    snprintf(path, sizeof(path), "/g/%.64s/write", gid);
    post(b, path, path, fields, 303, &r);
    cr_assert(strncmp(r.location, "/p/", 3) == 0, "%s", r.location);
    memcpy(pid, r.location + 3, 64);
    pid[64] = '\0';
    resp_free(&r);
}

static int sessions_now(struct browser *b)
{
    struct resp r;
    const char *p;
    int n;

    get(b, "/status", 200, NULL, &r);
    p = strstr(r.body, "<dd id=\"sessions\">");
    cr_assert_not_null(p);
    n = atoi(p + 18);
    resp_free(&r);
    return n;
}

/* ---- tests ---- */

Test(web, pages_anyone_can_open)
{
    struct browser b = {0};
    struct resp r;

    http(&b, "GET", "/", NULL, &r);
    cr_assert_eq(r.status, 303);
    cr_assert_str_eq(r.location, "/signin");
    cr_assert(strncmp(b.cookie, "kith_session=", 13) == 0);
    cr_assert(has(&r, "HttpOnly; SameSite=Strict"));
    resp_free(&r);
    get(&b, "/signin", 200, NULL, &r);
    cr_assert(has(&r, "<title>Sign in – Kith</title>"));
    cr_assert(has(&r, "Cache-Control: no-store"));
    cr_assert(has(&r, "Content-Security-Policy: default-src 'none'"));
    cr_assert(has(&r, "autocomplete=\"current-password\""));
    cr_assert(has(&r, "<a class=\"kith-skip-link\" href=\"#main\">"));
    resp_free(&r);
    get(&b, "/help", 200, NULL, &r);
    cr_assert(has(&r, "href=\"/help/signing-in\""));
    resp_free(&r);
    get(&b, "/help/writing", 200, NULL, &r);
    cr_assert(has(&r, "<h1>Writing a post</h1>"));
    resp_free(&r);
    get(&b, "/glossary", 200, NULL, &r);
    cr_assert(has(&r, "<h2>Invite code</h2>"));
    resp_free(&r);
    get(&b, "/help/..%2Fglossary", 404, NULL, &r);
    cr_assert(has(&r, "<title>Page not found – Kith</title>"));
    resp_free(&r);
    get(&b, "/static/kith.css", 200, NULL, &r);
    cr_assert(has(&r, "Content-Type: text/css"));
    cr_assert(has(&r, "Cache-Control: public, max-age="));
    resp_free(&r);
    get(&b, "/static/../web.c", 404, NULL, &r);
    resp_free(&r);
    get(&b, "/static/%2e%2e/templates/head.html", 404, NULL, &r);
    resp_free(&r);
    get(&b, "/nothing/here", 404, NULL, &r);
    resp_free(&r);
    /* Member pages send you to sign in. */
    http(&b, "GET", "/groups", NULL, &r);
    cr_assert_eq(r.status, 303);
    cr_assert_str_eq(r.location, "/signin");
    resp_free(&r);
}

Test(web, a_member_uses_the_page)
{
    struct browser b = {0};
    char gid[65], pid[65], path[256], rid[256];
    struct resp r;

    signup(&b, "ana");
    cr_assert_eq(sessions_now(&b), 1);
    get(&b, "/groups", 200, NULL, &r);
    cr_assert(has(&r, "Signed in as ana"));
    cr_assert(has(&r, "You are not in any group yet"));
    resp_free(&r);
    start_group(&b, "Walkers", gid);
    snprintf(path, sizeof(path), "/g/%.64s?done=started", gid);
    get(&b, path, 200, NULL, &r);
    cr_assert(has(&r, "<h1>Walkers</h1>"));
    cr_assert(has(&r, "Your group is ready."));
    cr_assert(has(&r, "threads?topic=Direct%20payments\">Direct payments</a>"));
    resp_free(&r);

    write_post(&b, gid,
               "topic=Assessments&title=Hi+%3Cb%3E&body=Hello+%3Cscript%3Ealert(1)%3C%2Fscript%3E"
               "+**bold**+[x](javascript:alert(1))",
               pid);
    snprintf(path, sizeof(path), "/p/%.64s?done=published", pid);
    get(&b, path, 200, NULL, &r);
    cr_assert(has(&r, "Your post was published."));
    cr_assert(has(&r, "<h1>Hi &lt;b&gt;</h1>"));
    cr_assert(has(&r, "<strong>bold</strong>"));
    cr_assert_not(has(&r, "<script"));
    cr_assert_not(has(&r, "javascript:"));
    cr_assert(has(&r, "How did your assessment go?")); /* the topic's prompts */
    cr_assert_lt(r.body_len, 50 * 1024);
    resp_free(&r);

    snprintf(path, sizeof(path), "/p/%.64s", pid);
    snprintf(rid, sizeof(rid), "/p/%.64s/reply", pid);
    post(&b, path, rid, "body=", 400, &r);
    cr_assert(has(&r, "<title>Error: Reply – Kith</title>"));
    cr_assert(has(&r, "<a href=\"#body\">Write something in your post</a>"));
    cr_assert(has(&r, "aria-describedby=\"body-hint body-error\""));
    resp_free(&r);
    post(&b, path, rid, "body=A+reply", 303, &r);
    cr_assert(strstr(r.location, "?done=replied#p-") != NULL);
    memcpy(rid, r.location + 3, 64);
    rid[64] = '\0';
    resp_free(&r);

    snprintf(path, sizeof(path), "/p/%.64s/edit", pid);
    post(&b, path, path, "title=New+title&body=New+body", 303, &r);
    resp_free(&r);
    snprintf(path, sizeof(path), "/p/%.64s", rid);
    get(&b, path, 200, NULL, &r);
    cr_assert(has(&r, "<h1>New title</h1>"));
    cr_assert(has(&r, "(edited)"));
    cr_assert(has(&r, "<p>A reply</p>"));
    resp_free(&r);

    snprintf(path, sizeof(path), "/p/%.64s/delete", rid);
    get(&b, path, 200, NULL, &r);
    cr_assert(has(&r, "<h1>Delete this post?</h1>"));
    resp_free(&r);
    post(&b, path, path, "x=1", 303, &r);
    snprintf(path, sizeof(path), "/p/%.64s?done=deleted", pid);
    cr_assert_str_eq(r.location, path);
    resp_free(&r);
    get(&b, path, 200, NULL, &r);
    cr_assert(has(&r, "This post was deleted."));
    resp_free(&r);

    /* A deleted thread start with a reply stays listed, as deleted. */
    snprintf(path, sizeof(path), "/p/%.64s", pid);
    snprintf(rid, sizeof(rid), "/p/%.64s/reply", pid);
    post(&b, path, rid, "body=Another+reply", 303, &r);
    resp_free(&r);
    snprintf(path, sizeof(path), "/p/%.64s/delete", pid);
    post(&b, path, path, "x=1", 303, &r);
    snprintf(path, sizeof(path), "/g/%.64s/threads?done=deleted", gid);
    cr_assert_str_eq(r.location, path);
    resp_free(&r);
    get(&b, path, 200, NULL, &r);
    cr_assert(has(&r, ">A deleted post</a>"));
    cr_assert(has(&r, "Your post was deleted."));
    resp_free(&r);
    get(&b, "/mine", 200, NULL, &r);
    cr_assert(has(&r, "reply in Walkers"));
    cr_assert_not(has(&r, "New title"));
    resp_free(&r);
    get(&b, "/mine/export.md", 200, NULL, &r);
    cr_assert(has(&r, "Content-Type: text/markdown; charset=utf-8"));
    cr_assert(has(&r, "attachment; filename=\"kith-posts.md\""));
    cr_assert(has(&r, "# Posts by ana"));
    resp_free(&r);
    get(&b, "/mine/export.json", 200, NULL, &r);
    cr_assert(has(&r, "\"format\": \"json\""));
    resp_free(&r);

    snprintf(path, sizeof(path), "/g/%.64s/invite", gid);
    get(&b, path, 200, NULL, &r);
    cr_assert(has(&r, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""));
    cr_assert(has(&r, "<code id=\"invite-code\" class=\"kith-code\">kith1-"));
    resp_free(&r);

    post(&b, "/account/name", "/account/name", "display_name=Ana+B", 303, &r);
    cr_assert_str_eq(r.location, "/account?done=name");
    resp_free(&r);
    get(&b, "/account?done=name", 200, NULL, &r);
    cr_assert(has(&r, "<dd>Ana B</dd>"));
    cr_assert(has(&r, "Your display name was changed."));
    resp_free(&r);

    post(&b, "/groups", "/signout", "x=1", 303, &r);
    cr_assert_str_eq(r.location, "/signin?done=signedout");
    resp_free(&r);
    cr_assert_eq(sessions_now(&b), 0); /* ended on the node */
    http(&b, "GET", "/groups", NULL, &r);
    cr_assert_eq(r.status, 303);
    resp_free(&r);
}

Test(web, csrf_and_cross_site)
{
    struct browser b = {0};
    struct resp r;
    char csrf[65], body[256];

    signup(&b, "bo");
    get(&b, "/groups", 200, csrf, &r);
    resp_free(&r);
    http(&b, "POST", "/groups", "csrf=0000&name=Evil", &r);
    cr_assert_eq(r.status, 403);
    cr_assert(has(&r, "This form has expired"));
    resp_free(&r);
    http(&b, "POST", "/groups", "name=Evil", &r);
    cr_assert_eq(r.status, 403);
    resp_free(&r);
    snprintf(body, sizeof(body), "csrf=%s&csrf=%s&name=Evil", csrf, csrf);
    http(&b, "POST", "/groups", body, &r);
    cr_assert_eq(r.status, 403);
    resp_free(&r);
    get(&b, "/groups", 200, NULL, &r);
    cr_assert_not(has(&r, "Evil"));
    resp_free(&r);
    /* Sign-out needs the token too. */
    http(&b, "POST", "/signout", "csrf=00", &r);
    cr_assert_eq(r.status, 403);
    resp_free(&r);
    cr_assert_eq(sessions_now(&b), 1);
}

Test(web, sign_in_errors_and_limits)
{
    struct browser a = {0}, b = {0};
    struct resp r;
    int i;

    signup(&a, "cy");
    post(&b, "/signin", "/signin", "name=&passphrase=", 400, &r);
    cr_assert(has(&r, "<title>Error: Sign in – Kith</title>"));
    cr_assert(has(&r, "<a href=\"#name\">Enter your name</a>"));
    cr_assert(has(&r, "<a href=\"#passphrase\">Enter your passphrase</a>"));
    resp_free(&r);
    for (i = 0; i < 5; i++) {
        post(&b, "/signin", "/signin", "name=cy&passphrase=wrong", 400, &r);
        cr_assert(has(&r, "The name or passphrase is not right"));
        cr_assert(has(&r, "value=\"cy\""));
        resp_free(&r);
    }
    post(&b, "/signin", "/signin", "name=cy&passphrase=long+passphrase", 429, &r);
    cr_assert(has(&r, "Too many tries. Wait"));
    resp_free(&r);
    H.clock += 2000; /* the wait is over */
    post(&b, "/signin", "/signin", "name=CY&passphrase=long+passphrase", 303, &r);
    cr_assert_str_eq(r.location, "/groups");
    resp_free(&r);
}

Test(web, idle_sessions_end)
{
    struct browser b = {0};
    struct resp r;

    signup(&b, "dee");
    get(&b, "/groups", 200, NULL, &r);
    resp_free(&r);
    H.clock += 901 * 1000;
    http(&b, "GET", "/groups", NULL, &r);
    cr_assert_eq(r.status, 303);
    cr_assert_str_eq(r.location, "/signin");
    resp_free(&r);
    cr_assert_eq(sessions_now(&b), 0);
}

Test(web, others_posts_cannot_be_changed)
{
    struct browser a = {0}, b = {0};
    char gid[65], pid[65], path[256], code[256];
    struct resp r;
    const char *p;

    signup(&a, "eve");
    signup(&b, "fay");
    start_group(&a, "Group", gid);
    write_post(&a, gid, "topic=&title=&body=mine", pid);
    snprintf(path, sizeof(path), "/p/%.64s", pid);
    get(&b, path, 404, NULL, &r); /* not a member yet */
    resp_free(&r);
    snprintf(path, sizeof(path), "/g/%.64s/invite", gid);
    get(&a, path, 200, NULL, &r);
    p = strstr(r.body, "id=\"invite-code\" class=\"kith-code\">");
    cr_assert_not_null(p);
    snprintf(code, sizeof(code), "code=%.*s", (int)strcspn(p + 35, "<"), p + 35);
    resp_free(&r);
    post(&b, "/join", "/join", "code=kith1-nope", 400, &r);
    cr_assert(has(&r, "That invite code is not right"));
    resp_free(&r);
    post(&b, "/join", "/join", code, 303, &r);
    snprintf(path, sizeof(path), "/g/%.64s?done=joined", gid);
    cr_assert_str_eq(r.location, path);
    resp_free(&r);
    snprintf(path, sizeof(path), "/p/%.64s", pid);
    get(&b, path, 200, NULL, &r);
    cr_assert_not(has(&r, "/edit\""));
    resp_free(&r);
    snprintf(path, sizeof(path), "/p/%.64s/edit", pid);
    get(&b, path, 404, NULL, &r);
    resp_free(&r);
    snprintf(path, sizeof(path), "/p/%.64s/delete", pid);
    get(&b, path, 404, NULL, &r);
    resp_free(&r);
    snprintf(path, sizeof(path), "/p/%.64s", pid);
    post(&b, path, "/p/0000/delete", "x=1", 404, &r);
    resp_free(&r);
}

Test(web, preferences_stick)
{
    struct browser b = {0};
    struct resp r;

    post(&b, "/settings", "/settings", "text_size=large&contrast=high", 303, &r);
    cr_assert_str_eq(r.location, "/settings?done=saved");
    cr_assert_str_eq(b.prefs, "kith_prefs=large.high");
    resp_free(&r);
    get(&b, "/settings?done=saved", 200, NULL, &r);
    cr_assert(has(&r, "<html lang=\"en\" class=\"kith-text-large kith-contrast-high\">"));
    cr_assert(has(&r, "value=\"large\" checked"));
    cr_assert(has(&r, "Your choices are saved."));
    resp_free(&r);
    post(&b, "/settings", "/settings", "text_size=huge&contrast=high", 400, &r);
    resp_free(&r);
}

Test(web, passphrase_change)
{
    struct browser b = {0}, c = {0};
    struct resp r;

    signup(&b, "gil");
    post(&b, "/account/passphrase", "/account/passphrase",
         "current_passphrase=nope&new_passphrase=short", 400, &r);
    cr_assert(has(&r, "The passphrase must be at least 8 characters"));
    resp_free(&r);
    post(&b, "/account/passphrase", "/account/passphrase",
         "current_passphrase=nope&new_passphrase=another+one", 400, &r);
    cr_assert(has(&r, "That is not your current passphrase"));
    resp_free(&r);
    post(&b, "/account/passphrase", "/account/passphrase",
         "current_passphrase=long+passphrase&new_passphrase=another+one", 303, &r);
    cr_assert_str_eq(r.location, "/account?done=passphrase");
    resp_free(&r);
    post(&c, "/signin", "/signin", "name=gil&passphrase=long+passphrase", 400, &r);
    resp_free(&r);
    post(&c, "/signin", "/signin", "name=gil&passphrase=another+one", 303, &r);
    resp_free(&r);
}

Test(web, signup_rules)
{
    struct browser b = {0};
    struct resp r;

    signup(&b, "hal");
    post(&b, "/signup", "/signup", "name=HAL&passphrase=long+passphrase&invite=", 400, &r);
    cr_assert(has(&r, "That name is taken. Choose another"));
    resp_free(&r);
    post(&b, "/signup", "/signup", "name=&passphrase=short&invite=", 400, &r);
    cr_assert(has(&r, "<a href=\"#name\">Enter a name</a>"));
    cr_assert(has(&r, "<a href=\"#passphrase\">The passphrase must be at least 8 characters</a>"));
    resp_free(&r);
}

Test(web_closed, signup_needs_an_invite)
{
    struct browser a = {0}, b = {0};
    char fields[512], gid[65], path[256], want[128];
    struct resp r;
    const char *p;

    post(&a, "/signup", "/signup", "name=ivy&passphrase=long+passphrase&invite=", 400, &r);
    cr_assert(has(&r, "<a href=\"#invite\">Enter the invite code you were given</a>"));
    cr_assert(has(&r, "only makes new accounts for people with an invite code"));
    resp_free(&r);
    /* The operator's account, made on the node itself. */
    {
        struct service_session *s = NULL;
        json_t *g = NULL, *inv = NULL;

        cr_assert_eq(service_account_create(H.svc, "op", "x", 1, &s), 0);
        cr_assert_eq(service_group_create(H.svc, s, "Meetup", NULL, 0, &g), 0);
        strcpy(gid, json_string_value(json_object_get(g, "group_id")));
        cr_assert_eq(service_group_invite(H.svc, s, gid, &inv), 0);
        snprintf(fields, sizeof(fields), "name=ivy&passphrase=long+passphrase&invite=%s",
                 json_string_value(json_object_get(inv, "code")));
        json_decref(g);
        json_decref(inv);
    }
    post(&b, "/signup", "/signup", fields, 303, &r);
    snprintf(want, sizeof(want), "/g/%.64s?done=joined", gid);
    cr_assert_str_eq(r.location, want);
    resp_free(&r);
    snprintf(path, sizeof(path), "/g/%.64s", gid);
    get(&b, path, 200, NULL, &r);
    p = strstr(r.body, "<h1>Meetup</h1>");
    cr_assert_not_null(p);
    resp_free(&r);
}

/* A long list of conversations comes 50 a page, newest first, with links
 * between the pages; a page that is not there is not found. */
Test(web, conversations_come_a_page_at_a_time)
{
    struct browser a = {0};
    char gid[65], pid[65], first[65] = "", path[256], fields[64];
    struct resp r;

    signup(&a, "gil");
    start_group(&a, "Many", gid);
    for (int i = 0; i < 105; i++) {
        snprintf(fields, sizeof(fields), "topic=&title=Post+%d&body=text+%d", i, i);
        write_post(&a, gid, fields, pid);
        if (i == 0)
            memcpy(first, pid, sizeof(first));
    }
    snprintf(path, sizeof(path), "/g/%.64s/threads", gid);
    get(&a, path, 200, NULL, &r);
    cr_assert(has(&r, ">Post 104<"), "the newest first");
    cr_assert(has(&r, ">Post 55<"));
    cr_assert_not(has(&r, ">Post 54<"), "50 a page");
    cr_assert_not(has(&r, "Newer conversations"));
    cr_assert(has(&r, "page=2\" rel=\"next\">Older conversations</a>"));
    resp_free(&r);
    snprintf(path, sizeof(path), "/g/%.64s/threads?topic=&page=3", gid);
    get(&a, path, 200, NULL, &r);
    cr_assert(has(&r, ">Post 4<"));
    snprintf(path, sizeof(path), "/p/%.64s\"", first);
    cr_assert(has(&r, path), "the oldest on the last page");
    cr_assert(has(&r, "page=2\" rel=\"prev\">Newer conversations</a>"));
    cr_assert_not(has(&r, "Older conversations"));
    resp_free(&r);
    snprintf(path, sizeof(path), "/g/%.64s/threads?page=0", gid);
    get(&a, path, 404, NULL, &r);
    resp_free(&r);
    snprintf(path, sizeof(path), "/g/%.64s/threads?page=2x", gid);
    get(&a, path, 404, NULL, &r);
    resp_free(&r);
}
