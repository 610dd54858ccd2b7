/*
 * Tests for node/websession.c with an injected clock: cookie format and
 * attributes, lookups by cookie, rotation, CSRF checks, idle expiry,
 * eviction order, the end hook, and sign-in rate limits per account and
 * per address.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kith/error.h"
#include "websession.h"

static uint64_t clock_ms;
static int ended;
static char ended_token[WEBSESSION_TOKEN_HEX + 1];

static uint64_t fake_now(void *arg)
{
    return clock_ms;
}

static void on_end(void *arg, const char *token)
{
    ended++;
    snprintf(ended_token, sizeof(ended_token), "%s", token);
}

static struct websessions *open_ws(size_t max, uint32_t idle_s)
{
    struct websession_config cfg = {
        .idle_s = idle_s, .max_sessions = max, .now_ms = fake_now, .on_end = on_end};
    struct websessions *ws;

    clock_ms = 1000000;
    ended = 0;
    ended_token[0] = '\0';
    cr_assert_eq(websession_open(&cfg, &ws), 0);
    return ws;
}

static const char tok_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static void cookie_of(const struct websession *s, char *hdr, size_t cap)
{
    snprintf(hdr, cap, "theme=dark; %s=%s; size=l", WEBSESSION_COOKIE, s->id);
}

Test(websession, cookie_format)
{
    struct websessions *ws = open_ws(0, 0);
    struct websession *s;
    char c[WEBSESSION_COOKIE_MAX], expect[160];

    cr_assert_eq(websession_create(ws, &s), 0);
    cr_assert_eq(strlen(s->id), WEBSESSION_ID_HEX);
    cr_assert_eq(strspn(s->id, "0123456789abcdef"), WEBSESSION_ID_HEX);
    cr_assert_eq(strlen(s->csrf), WEBSESSION_CSRF_HEX);
    cr_assert_str_eq(s->token, "");
    cr_assert_eq(websession_cookie(s, c, sizeof(c)), 0);
    snprintf(expect, sizeof(expect), "kith_session=%s; Path=/; HttpOnly; SameSite=Strict", s->id);
    cr_assert_str_eq(c, expect);
    cr_assert_eq(websession_cookie(s, c, 40), -KITH_EBUFSIZE);
    cr_assert_eq(websession_cookie_clear(c, sizeof(c)), 0);
    cr_assert_str_eq(c, "kith_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    cr_assert_eq(websession_cookie_clear(c, 10), -KITH_EBUFSIZE);
    websession_close(ws);
}

Test(websession, find_by_cookie_and_rotate)
{
    struct websessions *ws = open_ws(0, 0);
    struct websession *s, *t, *got;
    char hdr[256], old[WEBSESSION_ID_HEX + 1], oldcsrf[WEBSESSION_CSRF_HEX + 1];

    cr_assert_eq(websession_create(ws, &s), 0);
    cr_assert_eq(websession_create(ws, &t), 0);
    cr_assert_str_neq(s->id, t->id);
    cr_assert_str_neq(s->csrf, t->csrf);
    cookie_of(s, hdr, sizeof(hdr));
    cr_assert_eq(websession_find(ws, hdr, &got), 0);
    cr_assert_eq(got, s);
    cr_assert_eq(websession_find(ws, NULL, &got), -KITH_ENOTFOUND);
    cr_assert_eq(websession_find(ws, "kith_session=abc", &got), -KITH_ENOTFOUND);
    /* upper case is not the id */
    {
        char up[256];

        snprintf(up, sizeof(up), "kith_session=%s", s->id);
        for (char *p = up; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 32);
        if (strcmp(up + 13, s->id) != 0)
            cr_assert_eq(websession_find(ws, up, &got), -KITH_ENOTFOUND);
    }
    strcpy(old, s->id);
    strcpy(oldcsrf, s->csrf);
    websession_rotate(ws, s);
    cr_assert_str_neq(s->id, old);
    cr_assert_str_neq(s->csrf, oldcsrf);
    cr_assert_eq(websession_find(ws, hdr, &got), -KITH_ENOTFOUND); /* the old cookie */
    cookie_of(s, hdr, sizeof(hdr));
    cr_assert_eq(websession_find(ws, hdr, &got), 0);
    cr_assert_eq(got, s);
    cr_assert_eq(websession_count(ws), 2);
    websession_close(ws);
}

Test(websession, csrf_check)
{
    struct websessions *ws = open_ws(0, 0);
    struct websession *s;
    char bad[WEBSESSION_CSRF_HEX + 1];

    cr_assert_eq(websession_create(ws, &s), 0);
    cr_assert_eq(websession_csrf_check(s, s->csrf), 0);
    strcpy(bad, s->csrf);
    bad[WEBSESSION_CSRF_HEX - 1] = bad[WEBSESSION_CSRF_HEX - 1] == '0' ? '1' : '0';
    cr_assert_eq(websession_csrf_check(s, bad), -KITH_EREQUEST);
    bad[10] = '\0';
    cr_assert_eq(websession_csrf_check(s, bad), -KITH_EREQUEST);
    cr_assert_eq(websession_csrf_check(s, ""), -KITH_EREQUEST);
    cr_assert_eq(websession_csrf_check(s, NULL), -KITH_EREQUEST);
    {
        char longer[WEBSESSION_CSRF_HEX + 2];

        snprintf(longer, sizeof(longer), "%s0", s->csrf);
        cr_assert_eq(websession_csrf_check(s, longer), -KITH_EREQUEST);
    }
    websession_close(ws);
}

Test(websession, idle_expiry_and_end_hook)
{
    struct websessions *ws = open_ws(0, 60);
    struct websession *s, *got;
    char hdr[256];

    cr_assert_eq(websession_create(ws, &s), 0);
    cr_assert_eq(websession_set_token(s, "xyz"), -KITH_EINVAL);
    cr_assert_eq(websession_set_token(s, tok_a), 0);
    cr_assert_str_eq(s->token, tok_a);
    cookie_of(s, hdr, sizeof(hdr));
    clock_ms += 59999; /* used just in time: the idle period starts again */
    cr_assert_eq(websession_find(ws, hdr, &got), 0);
    clock_ms += 59999;
    websession_tick(ws);
    cr_assert_eq(websession_count(ws), 1);
    clock_ms += 1;
    cr_assert_eq(websession_find(ws, hdr, &got), -KITH_ENOTFOUND);
    cr_assert_eq(websession_count(ws), 0);
    cr_assert_eq(ended, 1);
    cr_assert_str_eq(ended_token, tok_a);
    /* tick ends idle ones too; sessions never signed in end silently */
    cr_assert_eq(websession_create(ws, &s), 0);
    clock_ms += 60000;
    websession_tick(ws);
    cr_assert_eq(websession_count(ws), 0);
    cr_assert_eq(ended, 1);
    /* sign-out */
    cr_assert_eq(websession_create(ws, &s), 0);
    cr_assert_eq(websession_set_token(s, tok_a), 0);
    websession_end(ws, s);
    cr_assert_eq(ended, 2);
    cr_assert_eq(websession_count(ws), 0);
    websession_close(ws);
}

Test(websession, eviction_prefers_anonymous)
{
    struct websessions *ws = open_ws(3, 600);
    struct websession *a, *b, *c, *d, *got;
    char ha[256], hb[256], hc[256];

    cr_assert_eq(websession_create(ws, &a), 0);
    cr_assert_eq(websession_set_token(a, tok_a), 0);
    cookie_of(a, ha, sizeof(ha));
    clock_ms += 10;
    cr_assert_eq(websession_create(ws, &b), 0);
    cookie_of(b, hb, sizeof(hb));
    clock_ms += 10;
    cr_assert_eq(websession_create(ws, &c), 0);
    cookie_of(c, hc, sizeof(hc));
    clock_ms += 10;
    /* Full: b, the oldest one not signed in, goes (not a, older but signed in). */
    cr_assert_eq(websession_create(ws, &d), 0);
    cr_assert_eq(websession_count(ws), 3);
    cr_assert_eq(websession_find(ws, ha, &got), 0);
    cr_assert_eq(websession_find(ws, hb, &got), -KITH_ENOTFOUND);
    cr_assert_eq(websession_find(ws, hc, &got), 0);
    cr_assert_eq(ended, 0);
    websession_close(ws);
    cr_assert_eq(ended, 1); /* close ends a, the signed-in one */
}

Test(websession, rate_limit_per_account)
{
    struct websessions *ws = open_ws(0, 0);
    uint64_t wait = 7;

    for (int i = 0; i < WEBSESSION_ACCOUNT_FREE_TRIES - 1; i++) {
        cr_assert_eq(websession_signin_allowed(ws, "Ann", "10.0.0.1", &wait), 0);
        cr_assert_eq(wait, 0);
        websession_signin_failed(ws, "Ann", "10.0.0.1");
    }
    cr_assert_eq(websession_signin_allowed(ws, "Ann", "10.0.0.1", NULL), 0);
    websession_signin_failed(ws, " ann ", "10.0.0.2"); /* same account: case and spaces */
    cr_assert_eq(websession_signin_allowed(ws, "ANN", "10.0.0.3", &wait), -KITH_ERATELIMIT);
    cr_assert_eq(wait, 1000);
    cr_assert_eq(websession_signin_allowed(ws, "Bo", "10.0.0.1", &wait), 0);
    clock_ms += 1000;
    cr_assert_eq(websession_signin_allowed(ws, "Ann", "10.0.0.1", &wait), 0);
    websession_signin_failed(ws, "Ann", "10.0.0.1");
    cr_assert_eq(websession_signin_allowed(ws, "Ann", "10.0.0.1", &wait), -KITH_ERATELIMIT);
    cr_assert_eq(wait, 2000); /* doubling */
    for (int i = 0; i < 20; i++) {
        clock_ms += (uint64_t)WEBSESSION_DELAY_MAX_S * 1000;
        websession_signin_failed(ws, "Ann", "10.0.0.9");
    }
    cr_assert_eq(websession_signin_allowed(ws, "Ann", "10.0.0.1", &wait), -KITH_ERATELIMIT);
    cr_assert_eq(wait, (uint64_t)WEBSESSION_DELAY_MAX_S * 1000); /* capped */
    /* A success clears the account. */
    clock_ms += (uint64_t)WEBSESSION_DELAY_MAX_S * 1000;
    websession_signin_ok(ws, "ann", "10.0.0.1");
    websession_signin_failed(ws, "Ann", "10.0.0.1");
    cr_assert_eq(websession_signin_allowed(ws, "Ann", "10.0.0.50", &wait), 0);
    websession_close(ws);
}

Test(websession, rate_limit_per_address)
{
    struct websessions *ws = open_ws(0, 0);
    char name[32];
    uint64_t wait;

    /* Spraying many accounts from one address. */
    for (int i = 0; i < WEBSESSION_ADDR_FREE_TRIES; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        cr_assert_eq(websession_signin_allowed(ws, name, "2001:db8::1", NULL), 0);
        websession_signin_failed(ws, name, "2001:db8::1");
    }
    cr_assert_eq(websession_signin_allowed(ws, "fresh", "2001:db8::1", &wait), -KITH_ERATELIMIT);
    cr_assert_eq(wait, 1000);
    /* The same /64 is the same client; another /64 or IPv4 is not. */
    cr_assert_eq(websession_signin_allowed(ws, "fresh", "2001:db8::ffff:1", NULL),
                 -KITH_ERATELIMIT);
    cr_assert_eq(websession_signin_allowed(ws, "fresh", "2001:db8:0:1::1", NULL), 0);
    cr_assert_eq(websession_signin_allowed(ws, "fresh", "192.0.2.1", NULL), 0);
    /* A success does not clear the address. */
    websession_signin_ok(ws, "user0", "2001:db8::1");
    cr_assert_eq(websession_signin_allowed(ws, "fresh", "2001:db8::1", NULL), -KITH_ERATELIMIT);
    /* After the wait, and forgotten an hour after the last failure. */
    clock_ms += 1000;
    cr_assert_eq(websession_signin_allowed(ws, "fresh", "2001:db8::1", NULL), 0);
    websession_signin_failed(ws, "fresh", "2001:db8::1");
    cr_assert_eq(websession_signin_allowed(ws, "other", "2001:db8::1", &wait), -KITH_ERATELIMIT);
    cr_assert_eq(wait, 2000);
    clock_ms += WEBSESSION_RL_FORGET_MS;
    websession_signin_failed(ws, "x", "2001:db8::1");
    cr_assert_eq(websession_signin_allowed(ws, "y", "2001:db8::1", NULL), 0);
    websession_close(ws);
}
