/*
 * service: what a member can do on this node, whatever the front end (the
 * control socket now, the web page later). It owns the unlocked member
 * sessions, the hybrid logical clock per group, and every rule about posts:
 * who may delete what, how threads are assembled, what an export holds.
 *
 * The service is single-threaded: call it from the loop thread only.
 * (Further operations are declared below the lifecycle.)
 */
#ifndef KITH_SERVICE_H
#define KITH_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "vault.h"

struct service;

struct service_config {
    const char *content_dir;   /* content/ tree (default topics); NULL = built-in list */
    uint32_t session_idle_s;   /* an unlocked session ends after this long unused */
    /* Clock in ms since 1970; NULL = the system clock. Tests inject one. */
    uint64_t (*now_ms)(void *arg);
    void *now_arg;
};

/*
 * Start the service over an open store and vault (both stay the caller's and
 * must outlive the service). Returns 0 or -ENOMEM. *out is the caller's:
 * service_close().
 */
int service_open(struct store *st, struct vault *v, const struct service_config *cfg,
                 struct service **out);

/* End every session (wiping member keys) and free. NULL is fine. */
void service_close(struct service *svc);

/* Expire idle sessions; call about once a minute. */
void service_tick(struct service *svc);

#endif
