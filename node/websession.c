/*
 * websession: web sessions and sign-in rate limits (see websession.h).
 *
 * Sessions live in a fixed array sized at open: a lookup scans all of it
 * and compares every live id with sodium_memcmp, so the time taken does not
 * say how much of an id was right. A few hundred sessions make that scan
 * cheap.
 *
 * Rate-limit slots are keyed by a BLAKE2b hash (keyed with a random
 * per-process key) of "a:" + the lower-cased name or "i:" + the address
 * bytes, so the table holds neither names nor addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "form.h"
#include "kith/error.h"
#include "websession.h"

#define KEY_BYTES 16

struct rl_slot {
    uint8_t key[KEY_BYTES];
    uint32_t failures;
    uint64_t last_ms;  /* the last failure */
    uint64_t until_ms; /* no try before this */
    int used;
};

struct websessions {
    struct websession_config cfg;
    struct websession *s;
    uint8_t hash_key[crypto_generichash_KEYBYTES];
    struct rl_slot accounts[WEBSESSION_RL_SLOTS];
    struct rl_slot addrs[WEBSESSION_RL_SLOTS];
};

static uint64_t mono_ms(void *arg)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now(const struct websessions *ws)
{
    return ws->cfg.now_ms(ws->cfg.now_arg);
}

static void random_hex(char *out, size_t hex_len)
{
    uint8_t b[64];

    randombytes_buf(b, hex_len / 2);
    sodium_bin2hex(out, hex_len + 1, b, hex_len / 2);
    sodium_memzero(b, sizeof(b));
}

int websession_open(const struct websession_config *cfg, struct websessions **out)
{
    struct websessions *ws;

    if (sodium_init() < 0)
        return -ENOMEM;
    ws = calloc(1, sizeof(*ws));
    if (ws == NULL)
        return -ENOMEM;
    if (cfg != NULL)
        ws->cfg = *cfg;
    if (ws->cfg.idle_s == 0)
        ws->cfg.idle_s = WEBSESSION_IDLE_DEFAULT_S;
    if (ws->cfg.max_sessions == 0)
        ws->cfg.max_sessions = WEBSESSION_MAX_DEFAULT;
    if (ws->cfg.now_ms == NULL)
        ws->cfg.now_ms = mono_ms;
    ws->s = calloc(ws->cfg.max_sessions, sizeof(*ws->s));
    if (ws->s == NULL) {
        free(ws);
        return -ENOMEM;
    }
    randombytes_buf(ws->hash_key, sizeof(ws->hash_key));
    *out = ws;
    return 0;
}

static void end_session(struct websessions *ws, struct websession *s)
{
    if (!s->used)
        return;
    if (s->token[0] != '\0' && ws->cfg.on_end != NULL)
        ws->cfg.on_end(ws->cfg.end_arg, s->token);
    sodium_memzero(s, sizeof(*s));
}

void websession_close(struct websessions *ws)
{
    if (ws == NULL)
        return;
    for (size_t i = 0; i < ws->cfg.max_sessions; i++)
        end_session(ws, &ws->s[i]);
    free(ws->s);
    sodium_memzero(ws, sizeof(*ws));
    free(ws);
}

static int expired(const struct websessions *ws, const struct websession *s, uint64_t t)
{
    return t >= s->last_ms && t - s->last_ms >= (uint64_t)ws->cfg.idle_s * 1000;
}

void websession_tick(struct websessions *ws)
{
    uint64_t t = now(ws);

    for (size_t i = 0; i < ws->cfg.max_sessions; i++)
        if (ws->s[i].used && expired(ws, &ws->s[i], t))
            end_session(ws, &ws->s[i]);
}

size_t websession_count(const struct websessions *ws)
{
    size_t n = 0;

    for (size_t i = 0; i < ws->cfg.max_sessions; i++)
        n += ws->s[i].used != 0;
    return n;
}

/* A free slot, making one if needed (see websession_create). */
static struct websession *free_slot(struct websessions *ws)
{
    struct websession *lru_anon = NULL, *lru = &ws->s[0];

    websession_tick(ws);
    for (size_t i = 0; i < ws->cfg.max_sessions; i++) {
        struct websession *s = &ws->s[i];

        if (!s->used)
            return s;
        if (lru == NULL || s->last_ms < lru->last_ms)
            lru = s;
        if (s->token[0] == '\0' && (lru_anon == NULL || s->last_ms < lru_anon->last_ms))
            lru_anon = s;
    }
    lru = lru_anon != NULL ? lru_anon : lru;
    end_session(ws, lru);
    return lru;
}

static void id_hash(const char *id, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)id, WEBSESSION_ID_HEX, NULL, 0);
}

int websession_create(struct websessions *ws, struct websession **out)
{
    struct websession *s = free_slot(ws);

    s->used = 1;
    random_hex(s->id, WEBSESSION_ID_HEX);
    id_hash(s->id, s->id_hash);
    random_hex(s->csrf, WEBSESSION_CSRF_HEX);
    s->token[0] = '\0';
    s->created_ms = s->last_ms = now(ws);
    *out = s;
    return 0;
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0';
}

int websession_find(struct websessions *ws, const char *cookie_header, struct websession **out)
{
    char id[WEBSESSION_ID_HEX + 1];
    uint8_t h[32];
    struct websession *found = NULL;
    uint64_t t;

    if (form_cookie_get(cookie_header, WEBSESSION_COOKIE, id, sizeof(id)) < 0 ||
        strlen(id) != WEBSESSION_ID_HEX || !is_hex(id, WEBSESSION_ID_HEX))
        return -KITH_ENOTFOUND;
    id_hash(id, h);
    sodium_memzero(id, sizeof(id));
    for (size_t i = 0; i < ws->cfg.max_sessions && found == NULL; i++) {
        struct websession *s = &ws->s[i];

        if (s->used && memcmp(s->id_hash, h, sizeof(h)) == 0)
            found = s;
    }
    if (found == NULL)
        return -KITH_ENOTFOUND;
    t = now(ws);
    if (expired(ws, found, t)) {
        end_session(ws, found);
        return -KITH_ENOTFOUND;
    }
    found->last_ms = t;
    *out = found;
    return 0;
}

void websession_rotate(struct websessions *ws, struct websession *s)
{
    random_hex(s->id, WEBSESSION_ID_HEX);
    id_hash(s->id, s->id_hash);
    random_hex(s->csrf, WEBSESSION_CSRF_HEX);
    s->last_ms = now(ws);
}

int websession_set_token(struct websession *s, const char *token)
{
    if (token == NULL || strlen(token) != WEBSESSION_TOKEN_HEX ||
        !is_hex(token, WEBSESSION_TOKEN_HEX))
        return -KITH_EINVAL;
    memcpy(s->token, token, WEBSESSION_TOKEN_HEX + 1);
    return 0;
}

void websession_end(struct websessions *ws, struct websession *s)
{
    end_session(ws, s);
}

int websession_cookie(const struct websession *s, char *out, size_t cap)
{
    int n =
        snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict", WEBSESSION_COOKIE, s->id);

    return n < 0 || (size_t)n >= cap ? -KITH_EBUFSIZE : 0;
}

int websession_cookie_clear(char *out, size_t cap)
{
    int n =
        snprintf(out, cap, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict", WEBSESSION_COOKIE);

    return n < 0 || (size_t)n >= cap ? -KITH_EBUFSIZE : 0;
}

int websession_csrf_check(const struct websession *s, const char *token)
{
    if (token == NULL || strlen(token) != WEBSESSION_CSRF_HEX)
        return -KITH_EREQUEST;
    return sodium_memcmp(s->csrf, token, WEBSESSION_CSRF_HEX) == 0 ? 0 : -KITH_EREQUEST;
}

/* ---- sign-in rate limits ---- */

static void account_key(const struct websessions *ws, const char *account, uint8_t key[KEY_BYTES])
{
    crypto_generichash_state st;
    const char *p = account, *end;

    while (*p == ' ')
        p++;
    end = p + strlen(p);
    while (end > p && end[-1] == ' ')
        end--;
    crypto_generichash_init(&st, ws->hash_key, sizeof(ws->hash_key), KEY_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)"a:", 2);
    for (; p < end; p++) {
        uint8_t c = (uint8_t)*p;

        if (c >= 'A' && c <= 'Z')
            c += 32;
        crypto_generichash_update(&st, &c, 1);
    }
    crypto_generichash_final(&st, key, KEY_BYTES);
}

static void addr_key(const struct websessions *ws, const char *addr, uint8_t key[KEY_BYTES])
{
    crypto_generichash_state st;
    uint8_t b[16];

    crypto_generichash_init(&st, ws->hash_key, sizeof(ws->hash_key), KEY_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)"i:", 2);
    if (inet_pton(AF_INET6, addr, b) == 1) {
        memset(b + 8, 0, 8); /* one host has a whole /64 to pick from */
        crypto_generichash_update(&st, b, 16);
    } else if (inet_pton(AF_INET, addr, b) == 1) {
        crypto_generichash_update(&st, b, 4);
    } else {
        crypto_generichash_update(&st, (const uint8_t *)addr, strlen(addr));
    }
    crypto_generichash_final(&st, key, KEY_BYTES);
}

/* The slot for key; with create, a new or reused one (else NULL if none). */
static struct rl_slot *rl_slot(struct rl_slot *tab, const uint8_t key[KEY_BYTES], uint64_t t,
                               int create)
{
    struct rl_slot *victim = NULL;

    for (size_t i = 0; i < WEBSESSION_RL_SLOTS; i++) {
        struct rl_slot *sl = &tab[i];

        if (sl->used && t >= sl->until_ms && t - sl->last_ms >= WEBSESSION_RL_FORGET_MS)
            sl->used = 0; /* forgotten */
        if (sl->used && memcmp(sl->key, key, KEY_BYTES) == 0)
            return sl;
        if (!sl->used) {
            if (victim == NULL || victim->used)
                victim = sl;
        } else if (victim == NULL || (victim->used && sl->last_ms < victim->last_ms)) {
            victim = sl;
        }
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    memcpy(victim->key, key, KEY_BYTES);
    victim->used = 1;
    return victim;
}

static uint64_t wait_of(const struct rl_slot *sl, uint64_t t)
{
    return sl != NULL && sl->until_ms > t ? sl->until_ms - t : 0;
}

int websession_signin_allowed(struct websessions *ws, const char *account, const char *addr,
                              uint64_t *wait_ms)
{
    uint8_t ka[KEY_BYTES], ki[KEY_BYTES];
    uint64_t t = now(ws), wa, wi;

    account_key(ws, account, ka);
    addr_key(ws, addr, ki);
    wa = wait_of(rl_slot(ws->accounts, ka, t, 0), t);
    wi = wait_of(rl_slot(ws->addrs, ki, t, 0), t);
    if (wait_ms != NULL)
        *wait_ms = wa > wi ? wa : wi;
    return wa > 0 || wi > 0 ? -KITH_ERATELIMIT : 0;
}

static void fail_slot(struct rl_slot *sl, uint32_t free_tries, uint64_t t)
{
    uint64_t delay;
    uint32_t over;

    sl->failures++;
    sl->last_ms = t;
    if (sl->failures < free_tries)
        return;
    over = sl->failures - free_tries;
    delay = over >= 10 ? (uint64_t)WEBSESSION_DELAY_MAX_S * 1000 : (uint64_t)1000 << over;
    if (delay > (uint64_t)WEBSESSION_DELAY_MAX_S * 1000)
        delay = (uint64_t)WEBSESSION_DELAY_MAX_S * 1000;
    sl->until_ms = t + delay;
}

void websession_signin_failed(struct websessions *ws, const char *account, const char *addr)
{
    uint8_t ka[KEY_BYTES], ki[KEY_BYTES];
    uint64_t t = now(ws);

    account_key(ws, account, ka);
    addr_key(ws, addr, ki);
    fail_slot(rl_slot(ws->accounts, ka, t, 1), WEBSESSION_ACCOUNT_FREE_TRIES, t);
    fail_slot(rl_slot(ws->addrs, ki, t, 1), WEBSESSION_ADDR_FREE_TRIES, t);
}

void websession_signin_ok(struct websessions *ws, const char *account, const char *addr)
{
    uint8_t ka[KEY_BYTES];
    struct rl_slot *sl;
    uint64_t t = now(ws);

    account_key(ws, account, ka);
    sl = rl_slot(ws->accounts, ka, t, 0);
    if (sl != NULL)
        memset(sl, 0, sizeof(*sl));
}
