/*
 * Tests for node/peers.c: the backoff schedule under an injected clock and
 * random source, due times, key and address bookkeeping, eviction, JSON.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "kith/error.h"
#include "peers.h"

static uint64_t clock_ms;
static uint32_t rand_value; /* what the random source answers, capped to upper-1 */
static uint32_t last_upper;

static uint64_t fake_now(void *arg)
{
    return clock_ms;
}

static uint32_t fake_random(void *arg, uint32_t upper)
{
    last_upper = upper;
    return rand_value < upper ? rand_value : upper - 1;
}

static struct peers *new_table(void)
{
    struct peers_config cfg = {.now_ms = fake_now, .random = fake_random};
    struct peers *p = NULL;

    clock_ms = 1000000;
    rand_value = 0;
    cr_assert_eq(peers_new(&cfg, &p), 0);
    return p;
}

static void addr4(struct sockaddr_in *a, const char *ip, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, ip, &a->sin_addr);
}

Test(peers, backoff_doubles_to_five_minutes)
{
    static const uint64_t want[] = {1000,  2000,   4000,   8000,   16000,  32000,
                                    64000, 128000, 256000, 300000, 300000, 300000};
    struct peers *p = new_table();
    struct peer_info *e = NULL;

    cr_assert_eq(peers_add_configured(p, "pi.local", 7711, &e), 0);
    cr_assert(peers_is_due(p, e));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        peers_attempt(p, e);
        cr_assert_eq(e->dialing, 1);
        cr_assert(!peers_is_due(p, e)); /* not while dialing */
        cr_assert_eq(e->last_attempt_ms, clock_ms);
        peers_failed(p, e, 0);
        cr_assert_eq(e->failures, i + 1);
        /* No jitter drawn (random 0): exactly the schedule. */
        cr_assert_eq(e->next_attempt_ms, clock_ms + want[i], "failure %zu", i + 1);
        cr_assert_eq(last_upper, want[i] / 4 + 1);
        cr_assert_eq(peers_next_due_ms(p), clock_ms + want[i]);
        clock_ms += want[i] - 1;
        cr_assert(!peers_is_due(p, e));
        clock_ms += 1;
        cr_assert(peers_is_due(p, e));
        cr_assert_eq(peers_next_due_ms(p), 0);
    }
    peers_free(p);
}

Test(peers, jitter_takes_up_to_a_quarter)
{
    struct peers *p = new_table();
    struct peer_info *e = NULL;

    cr_assert_eq(peers_add_configured(p, "10.0.0.2", 7711, &e), 0);
    rand_value = UINT32_MAX; /* the largest draw allowed */
    peers_failed(p, e, 0);
    cr_assert_eq(e->next_attempt_ms, clock_ms + 750);
    peers_failed(p, e, 0);
    cr_assert_eq(e->next_attempt_ms, clock_ms + 1500);
    rand_value = 100;
    peers_failed(p, e, 0);
    cr_assert_eq(e->next_attempt_ms, clock_ms + 3900);
    peers_free(p);
}

Test(peers, success_resets_and_severe_jumps)
{
    struct peers *p = new_table();
    struct peer_info *e = NULL;

    cr_assert_eq(peers_add_configured(p, "10.0.0.2", 7711, &e), 0);
    for (int i = 0; i < 5; i++)
        peers_failed(p, e, 0);
    cr_assert_eq(e->failures, 5);
    peers_attempt(p, e);
    peers_connected(p, e);
    cr_assert_eq(e->failures, 0);
    cr_assert_eq(e->dialing, 0);
    cr_assert_eq(e->connected, 1);
    cr_assert_eq(e->last_seen_ms, clock_ms);
    cr_assert(!peers_is_due(p, e)); /* connected */
    cr_assert_eq(peers_next_due_ms(p), UINT64_MAX);
    /* A forged post: the longest wait at once. */
    peers_failed(p, e, 1);
    peers_disconnected(p, e);
    cr_assert_eq(e->connected, 0);
    cr_assert_eq(e->failures, 1);
    cr_assert_eq(e->next_attempt_ms, clock_ms + PEERS_BACKOFF_MAX_MS);
    /* The next ordinary failure continues from the count, not from severe. */
    peers_failed(p, e, 0);
    cr_assert_eq(e->next_attempt_ms, clock_ms + 2000);
    peers_free(p);
}

Test(peers, configured_duplicates_and_bad)
{
    struct peers *p = new_table();
    struct peer_info *a = NULL, *b = NULL;
    char longhost[PEERS_HOST_MAX + 1];

    cr_assert_eq(peers_add_configured(p, "pi.local", 7711, &a), 0);
    cr_assert_eq(peers_add_configured(p, "pi.local", 7711, &b), -EEXIST);
    cr_assert_eq(a, b);
    cr_assert_eq(peers_add_configured(p, "pi.local", 7712, &b), 0);
    cr_assert_neq(a, b);
    cr_assert_eq(peers_add_configured(p, "", 7711, &b), -KITH_EINVAL);
    cr_assert_eq(peers_add_configured(p, "x", 0, &b), -KITH_EINVAL);
    memset(longhost, 'h', PEERS_HOST_MAX);
    longhost[PEERS_HOST_MAX] = '\0';
    cr_assert_eq(peers_add_configured(p, longhost, 1, &b), -KITH_EINVAL);
    cr_assert_eq(peers_count(p), 2);
    cr_assert_eq(peers_at(p, 0), a);
    cr_assert_null(peers_at(p, 2));
    peers_free(p);
}

Test(peers, inbound_refused_only_after_a_severe_failure)
{
    struct peers *p = new_table();
    struct peer_info *e = NULL, *f = NULL;
    struct sockaddr_in a;
    uint8_t k[32];

    memset(k, 7, sizeof(k));
    addr4(&a, "192.0.2.9", 40000);
    cr_assert_geq(peers_inbound(p, k, (struct sockaddr *)&a, &e), 0);
    cr_assert(!peers_backed_off(p, e));
    /* A dropped connection: it may come straight back. */
    peers_failed(p, e, 0);
    peers_disconnected(p, e);
    cr_assert(!peers_backed_off(p, e));
    /* A forged post: refused until the backoff runs out, and coming back
     * does not clear it. */
    peers_failed(p, e, 1);
    cr_assert(peers_backed_off(p, e));
    cr_assert_geq(peers_inbound(p, k, (struct sockaddr *)&a, &f), 0);
    cr_assert_eq(f, e);
    peers_disconnected(p, e);
    cr_assert(peers_backed_off(p, e));
    clock_ms += PEERS_BACKOFF_MAX_MS - 1;
    cr_assert(peers_backed_off(p, e));
    clock_ms += 1;
    cr_assert(!peers_backed_off(p, e));
    peers_free(p);
}

Test(peers, heard_and_keys)
{
    struct peers *p = new_table();
    struct peer_info *e = NULL, *f = NULL;
    struct sockaddr_in a;
    uint8_t k1[32], k2[32];

    memset(k1, 1, sizeof(k1));
    memset(k2, 2, sizeof(k2));
    addr4(&a, "192.0.2.7", 40000);
    cr_assert_eq(peers_heard(p, k1, (struct sockaddr *)&a, &e), 1);
    cr_assert_eq(e->sources, PEER_DISCOVERED);
    cr_assert_eq(e->last_seen_ms, clock_ms);
    cr_assert(peers_is_due(p, e));
    clock_ms += 5000;
    addr4(&a, "192.0.2.8", 40001); /* moved */
    cr_assert_eq(peers_heard(p, k1, (struct sockaddr *)&a, &f), 0);
    cr_assert_eq(e, f);
    cr_assert_eq(e->last_seen_ms, clock_ms);
    cr_assert_eq(((struct sockaddr_in *)&e->addr)->sin_port, htons(40001));
    cr_assert_eq(peers_find_key(p, k1), e);
    cr_assert_null(peers_find_key(p, k2));

    /* A configured peer learns its key; then its beacon finds the same entry. */
    cr_assert_eq(peers_add_configured(p, "pi.local", 7711, &f), 0);
    cr_assert(!f->has_key);
    peers_set_key(p, f, k2);
    cr_assert_eq(peers_heard(p, k2, (struct sockaddr *)&a, &e), 0);
    cr_assert_eq(e, f);
    cr_assert_eq(e->sources, PEER_CONFIGURED | PEER_DISCOVERED);

    /* Inbound: connected at once. */
    uint8_t k3[32];
    memset(k3, 3, sizeof(k3));
    cr_assert_eq(peers_inbound(p, k3, (struct sockaddr *)&a, &e), 0);
    cr_assert_eq(e->connected, 1);
    cr_assert_eq(e->sources, PEER_INBOUND);
    cr_assert_eq(peers_count(p), 3);

    struct sockaddr bad = {.sa_family = AF_UNIX};
    cr_assert_eq(peers_heard(p, k3, &bad, &e), -KITH_EINVAL);
    peers_free(p);
}

Test(peers, eviction_spares_configured_and_busy)
{
    struct peers *p = new_table();
    struct peer_info *e = NULL, *busy = NULL, *conf = NULL;
    struct sockaddr_in a;
    uint8_t key[32];

    addr4(&a, "192.0.2.9", 7711);
    cr_assert_eq(peers_add_configured(p, "pi.local", 7711, &conf), 0);
    for (int i = 0; i < PEERS_MAX - 1; i++) {
        memset(key, 0, sizeof(key));
        memcpy(key, &i, sizeof(i));
        clock_ms++;
        cr_assert_eq(peers_heard(p, key, (struct sockaddr *)&a, &e), 1);
        if (i == 0)
            busy = e;
    }
    cr_assert_eq(peers_count(p), PEERS_MAX);
    cr_assert_not_null(busy);
    peers_attempt(p, busy); /* the oldest, but dialing */
    memset(key, 0xee, sizeof(key));
    cr_assert_eq(peers_heard(p, key, (struct sockaddr *)&a, &e), 1);
    cr_assert_eq(peers_count(p), PEERS_MAX);
    cr_assert_eq(peers_at(p, 0), conf);
    cr_assert_eq(peers_at(p, 1), busy);
    memset(key, 0, sizeof(key));
    int second = 1;
    memcpy(key, &second, sizeof(second));
    cr_assert_null(peers_find_key(p, key)); /* the oldest idle one went */
    peers_free(p);
}

Test(peers, json_shape)
{
    struct peers *p = new_table();
    struct peer_info *e = NULL;
    json_t *o = NULL, *row;
    char *text;

    cr_assert_eq(peers_add_configured(p, "fe80::1", 7711, &e), 0);
    peers_synced(p, e, 3, 4, 500, 600);
    cr_assert_eq(peers_json(p, &o), 0);
    row = json_array_get(json_object_get(o, "peers"), 0);
    cr_assert_not_null(row);
    cr_assert(json_is_null(json_object_get(row, "node")));
    cr_assert_str_eq(json_string_value(json_object_get(row, "address")), "[fe80::1]:7711");
    text = json_dumps(json_object_get(row, "sources"), JSON_COMPACT);
    cr_assert_str_eq(text, "[\"configured\"]");
    free(text);
    cr_assert_eq(json_integer_value(json_object_get(row, "last_sync_ms")), (json_int_t)clock_ms);
    cr_assert_eq(json_integer_value(json_object_get(row, "syncs")), 1);
    cr_assert_eq(json_integer_value(json_object_get(row, "posts_in")), 3);
    cr_assert_eq(json_integer_value(json_object_get(row, "bytes_out")), 600);
    cr_assert(json_is_false(json_object_get(row, "connected")));
    json_decref(o);
    peers_free(p);
}

Test(peers, unconfigure_and_prune)
{
    struct peers *p = new_table();
    struct peer_info *idle = NULL, *busy = NULL, *heard = NULL, *e = NULL;
    struct sockaddr_in a;
    uint8_t key[PEERS_KEY_BYTES];
    int removed = -1;

    cr_assert_eq(peers_add_configured(p, "idle.local", 7711, &idle), 0);
    cr_assert_eq(peers_add_configured(p, "busy.local", 7711, &busy), 0);
    cr_assert_eq(peers_add_configured(p, "heard.local", 7711, &heard), 0);
    cr_assert_eq(peers_count(p), 3);
    cr_assert_eq(peers_find_configured(p, "busy.local", 7711), busy);
    cr_assert_null(peers_find_configured(p, "busy.local", 7712));

    /* Idle and known only from the config: gone at once. */
    peers_unconfigure(p, idle, &removed);
    cr_assert_eq(removed, 1);
    cr_assert_eq(peers_count(p), 2);
    cr_assert_null(peers_find_configured(p, "idle.local", 7711));

    /* Being dialed: stays until the dial is over, then prune takes it. */
    peers_attempt(p, busy);
    peers_unconfigure(p, busy, &removed);
    cr_assert_eq(removed, 0);
    cr_assert_eq(busy->sources, 0);
    cr_assert_null(peers_find_configured(p, "busy.local", 7711));
    cr_assert_eq(peers_prune(p), 0);
    cr_assert_eq(peers_count(p), 2);
    peers_failed(p, busy, 0);
    cr_assert_eq(peers_prune(p), 1);
    cr_assert_eq(peers_count(p), 1);
    cr_assert_eq(peers_at(p, 0), heard);

    /* Also heard in a beacon: stays as a discovered peer, dialed at the
     * address the beacon gave instead of the host it was configured as. */
    memset(key, 7, sizeof(key));
    peers_set_key(p, heard, key);
    addr4(&a, "192.168.1.20", 7711);
    cr_assert_eq(peers_heard(p, key, (const struct sockaddr *)&a, &e), 0);
    cr_assert_eq(e, heard);
    peers_unconfigure(p, heard, &removed);
    cr_assert_eq(removed, 0);
    cr_assert_eq(heard->sources, PEER_DISCOVERED);
    cr_assert_str_eq(heard->host, "");
    cr_assert_eq(peers_prune(p), 0);
    cr_assert_eq(peers_count(p), 1);
    peers_free(p);
}
