/*
 * web: the member's web page served by kithd (node/WEB.md is the URL map).
 * It owns the HTTP server (http.h), the web sessions (websession.h), the
 * templates (webtmpl.h), the static files (webstatic.h), the writing
 * prompts, and the passphrase jobs it runs on the libuv threadpool. Pages
 * call the same service (service.h) as the control socket.
 *
 * Everything runs on the loop thread except the Argon2id work of sign-in,
 * account creation and passphrase change (service_pw_run).
 */
#ifndef KITH_WEB_H
#define KITH_WEB_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "service.h"

#define WEB_ERR_MAX 256

struct web_config {
    const char *addr;        /* numeric address to listen on ("127.0.0.1", "::") */
    uint16_t port;           /* 0 = any (see web_port) */
    const char *content_dir; /* the content/ tree: templates etc. under web/ */
    int allow_signup;        /* 1: anyone may create an account; 0: invite code needed */
    uint32_t idle_s;         /* web sessions end after this long idle; 0 = default */
    const char *host_name;   /* another Host name to answer to, or NULL */
    /* Clock for web sessions (tests); NULL = monotonic. */
    uint64_t (*now_ms)(void *arg);
    void *now_arg;
};

struct web;

/*
 * Load the templates, prompts and static files from cfg->content_dir/web
 * and start serving. svc is borrowed and must outlive the web (until the
 * loop has run after web_stop). Returns 0, -KITH_EINVAL (bad address, or
 * no content_dir), -errno (content missing, port in use...), a template
 * error (err says which file and line) or -ENOMEM. err (WEB_ERR_MAX bytes,
 * may be NULL) gets one line for people on failure. On error nothing is
 * left but handles closing: run the loop.
 */
int web_start(uv_loop_t *loop, struct service *svc, const struct web_config *cfg, struct web **out,
              char *err);

/* The port served (useful after port 0). */
uint16_t web_port(const struct web *w);

/*
 * Stop serving: close the server and the timer, end every web session
 * (and the member sessions they held). The struct frees itself once its
 * handles have closed and passphrase jobs in flight are done: run the loop
 * until it is empty. NULL is fine.
 */
void web_stop(struct web *w);

#endif
