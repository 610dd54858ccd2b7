/*
 * websession: the web page's sessions and sign-in rate limits. No pages.
 *
 * A web session is what a browser's cookie names: a random id (32 bytes,
 * hex) sent in an HttpOnly, SameSite=Strict session cookie, a CSRF token
 * for its forms, and, once the member has signed in, the token of a
 * service session (service.h). A browser gets a web session before signing
 * in, so the sign-in form has a CSRF token too. Sessions end when idle for
 * idle_s, when evicted to make room, or on sign-out; the id changes at
 * sign-in and sign-out (websession_rotate) so a planted id is worthless.
 *
 * Sign-in rate limits count failures per account name (ignoring ASCII
 * case) and per client address (an IPv6 address by its /64). After a free
 * number of failures each further one doubles the wait, from 1 s up to
 * WEBSESSION_DELAY_MAX_S. A success clears the account's count, never the
 * address's (else one good account would unlock guessing at others); an
 * address's count is forgotten after an hour without failures. Names and
 * addresses are kept only as keyed hashes.
 *
 * It owns every session (ids, CSRF tokens and service tokens are wiped
 * when they end). Single-threaded: the loop thread only.
 */
#ifndef KITH_WEBSESSION_H
#define KITH_WEBSESSION_H

#include <stddef.h>
#include <stdint.h>

#define WEBSESSION_COOKIE "kith_session"
#define WEBSESSION_ID_HEX 64 /* 32 random bytes, lower-case hex */
#define WEBSESSION_CSRF_HEX 64
#define WEBSESSION_TOKEN_HEX 64 /* = SERVICE_TOKEN_HEX */
#define WEBSESSION_MAX_DEFAULT 256
#define WEBSESSION_IDLE_DEFAULT_S 900
#define WEBSESSION_COOKIE_MAX 128 /* room for a Set-Cookie value */
#define WEBSESSION_ACCOUNT_FREE_TRIES 5
#define WEBSESSION_ADDR_FREE_TRIES 20
#define WEBSESSION_DELAY_MAX_S 900
#define WEBSESSION_RL_SLOTS 512 /* remembered accounts, and addresses */
#define WEBSESSION_RL_FORGET_MS 3600000

struct websession {
    char id[WEBSESSION_ID_HEX + 1];
    char csrf[WEBSESSION_CSRF_HEX + 1];
    char token[WEBSESSION_TOKEN_HEX + 1]; /* the service session; "" = not signed in */
    uint64_t created_ms;
    uint64_t last_ms;
    int used; /* internal: the slot is live */
    /* internal: BLAKE2b-256 of id. A cookie is found by comparing its hash
     * with these: fast, and how long a comparison takes says nothing about
     * the ids themselves (an attacker only learns about hashes of guesses). */
    uint8_t id_hash[32];
};

struct websession_config {
    uint32_t idle_s;     /* 0 = WEBSESSION_IDLE_DEFAULT_S */
    size_t max_sessions; /* 0 = WEBSESSION_MAX_DEFAULT */
    /* Clock in ms (any epoch, never going back); NULL = CLOCK_MONOTONIC.
     * Tests inject one. */
    uint64_t (*now_ms)(void *arg);
    void *now_arg;
    /* Called when a signed-in session ends (expiry, eviction, end) with its
     * service token, so the caller can end the service session too
     * (service_session_find + service_account_lock). May be NULL. */
    void (*on_end)(void *arg, const char *token);
    void *end_arg;
};

struct websessions;

/* A new, empty set of sessions. cfg may be NULL. Returns 0 or -ENOMEM;
 * *out is the caller's: websession_close(). */
int websession_open(const struct websession_config *cfg, struct websessions **out);

/* End every session (on_end is called for signed-in ones), wipe, free.
 * NULL is fine. */
void websession_close(struct websessions *ws);

/*
 * Start a session with a fresh id and CSRF token, not signed in. When the
 * table is full, expired sessions go first, then the least recently used
 * one not signed in, then the least recently used of all. *out lives until
 * the session ends (any later websession_* call on ws may end it: look it
 * up again per request). Returns 0 (never fails once open).
 */
int websession_create(struct websessions *ws, struct websession **out);

/*
 * The live session named by the WEBSESSION_COOKIE cookie in cookie_header
 * (a Cookie header value; NULL is fine). Marks it used now; an idle one is
 * ended instead. Compared in constant time. Returns 0 or -KITH_ENOTFOUND.
 */
int websession_find(struct websessions *ws, const char *cookie_header, struct websession **out);

/* Give s a new id and CSRF token (at sign-in and sign-out); the old cookie
 * is then worthless. Send the new cookie. */
void websession_rotate(struct websessions *ws, struct websession *s);

/* Record the service session token of a member who signed in (64 hex
 * characters). Returns 0 or -KITH_EINVAL (nothing changed). */
int websession_set_token(struct websession *s, const char *token);

/* End s now (sign-out): on_end is called if it held a token. */
void websession_end(struct websessions *ws, struct websession *s);

/* End sessions idle for idle_s; call about once a minute. */
void websession_tick(struct websessions *ws);

/* Live sessions. */
size_t websession_count(const struct websessions *ws);

/*
 * The Set-Cookie value that gives the browser s:
 * "kith_session=ID; Path=/; HttpOnly; SameSite=Strict" (no Max-Age: it
 * goes when the browser closes). Returns 0 or -KITH_EBUFSIZE (cap below
 * WEBSESSION_COOKIE_MAX).
 */
int websession_cookie(const struct websession *s, char *out, size_t cap);

/* The Set-Cookie value that removes the cookie (Max-Age=0). Returns 0 or
 * -KITH_EBUFSIZE. */
int websession_cookie_clear(char *out, size_t cap);

/*
 * Check a form's CSRF token against s, in constant time. token may be
 * NULL. Returns 0 or -KITH_EREQUEST.
 */
int websession_csrf_check(const struct websession *s, const char *token)
    __attribute__((warn_unused_result));

/*
 * May someone at address addr try to sign in as account now? Returns 0, or
 * -KITH_ERATELIMIT with *wait_ms (may be NULL) set to how long until a try
 * is allowed.
 */
int websession_signin_allowed(struct websessions *ws, const char *account, const char *addr,
                              uint64_t *wait_ms);

/* Count a failed sign-in (wrong passphrase or unknown name). */
void websession_signin_failed(struct websessions *ws, const char *account, const char *addr);

/* Count a successful sign-in: clears the account's failures. */
void websession_signin_ok(struct websessions *ws, const char *account, const char *addr);

#endif
