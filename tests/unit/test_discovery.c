/*
 * Tests for node/discovery.c with real multicast on this machine: two
 * instances (two node keys, one UDP port) hear each other, over the LAN
 * interfaces found automatically and over IPv4 on loopback named
 * explicitly; an instance ignores its own beacons; a new node is answered
 * at once rather than at the next interval; stop leaves the loop empty.
 *
 * Multicast loop is on, so both instances in this one process hear each
 * other through the kernel exactly as two machines on a LAN would.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery.h"

struct node {
    struct discovery *d;
    uint8_t key[KITH_BEACON_KEY_BYTES];
    uint16_t tcp_port;
    int heard;      /* beacons from the other node */
    int heard_self; /* beacons carrying our own key (must stay 0) */
    uint64_t first_heard_ms;
    struct kith_beacon last;
    struct sockaddr_storage from;
    uv_loop_t *loop;
};

static void on_beacon(struct discovery *d, const struct kith_beacon *b, const struct sockaddr *from,
                      void *arg)
{
    struct node *n = arg;

    if (memcmp(b->node_key, n->key, sizeof(n->key)) == 0) {
        n->heard_self++;
        return;
    }
    if (n->heard++ == 0)
        n->first_heard_ms = uv_now(n->loop);
    n->last = *b;
    memcpy(&n->from, from,
           from->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

struct guard {
    uv_timer_t timer;
    uint64_t left_ms;
};

static void on_guard(uv_timer_t *t)
{
    struct guard *g = (struct guard *)t;

    g->left_ms = g->left_ms > 5 ? g->left_ms - 5 : 0;
}

static int run_until(uv_loop_t *loop, const int *flag, int want, uint64_t ms)
{
    struct guard g = {.left_ms = ms};

    uv_timer_init(loop, &g.timer);
    uv_timer_start(&g.timer, on_guard, 5, 5);
    while (*flag < want && g.left_ms > 0)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&g.timer, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *flag >= want;
}

/* A UDP port nobody is using now, so parallel tests do not hear each other. */
static uint16_t free_udp_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    cr_assert_geq(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void start_node(uv_loop_t *loop, struct node *n, uint8_t fill, uint16_t port,
                       uint32_t interval_ms, const char *ifaces)
{
    struct discovery_config cfg;
    int r;

    memset(n, 0, sizeof(*n));
    memset(n->key, fill, sizeof(n->key));
    n->tcp_port = (uint16_t)(40000 + fill);
    n->loop = loop;
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.node_key, n->key, sizeof(n->key));
    cfg.tcp_port = n->tcp_port;
    cfg.port = port;
    cfg.interval_ms = interval_ms;
    cfg.interfaces = ifaces;
    cfg.on_beacon = on_beacon;
    cfg.arg = n;
    r = discovery_start(loop, &cfg, &n->d);
    cr_assert_eq(r, 0, "discovery_start: %d", r);
}

static void finish(uv_loop_t *loop, struct node *a, struct node *b)
{
    discovery_stop(a->d);
    if (b != NULL)
        discovery_stop(b->d);
    uv_run(loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(loop), 0, "a handle was left open");
}

static void hear_each_other(const char *ifaces)
{
    uv_loop_t loop;
    struct node a, b;
    struct kith_beacon_group groups[2];
    uint16_t port = free_udp_port();

    cr_assert_eq(uv_loop_init(&loop), 0);
    start_node(&loop, &a, 0x11, port, 300, ifaces);
    memset(groups, 0, sizeof(groups));
    memset(groups[0].tag, 0xaa, sizeof(groups[0].tag));
    memset(groups[1].summary, 0xbb, sizeof(groups[1].summary));
    discovery_set_groups(a.d, groups, 2);
    start_node(&loop, &b, 0x22, port, 300, ifaces);

    cr_assert(run_until(&loop, &a.heard, 1, 5000), "a never heard b (sent %llu)",
              (unsigned long long)discovery_sent(b.d));
    cr_assert(run_until(&loop, &b.heard, 1, 5000), "b never heard a (sent %llu)",
              (unsigned long long)discovery_sent(a.d));
    cr_assert_gt(discovery_sent(a.d), 0);
    /* What b learned of a. */
    cr_assert_eq(memcmp(b.last.node_key, a.key, sizeof(a.key)), 0);
    cr_assert_eq(b.last.tcp_port, a.tcp_port);
    cr_assert_eq(b.last.n_groups, 2);
    cr_assert_eq(memcmp(&b.last.groups[0], &groups[0], sizeof(groups[0])), 0);
    cr_assert_eq(memcmp(&b.last.groups[1], &groups[1], sizeof(groups[1])), 0);
    cr_assert_eq(a.last.n_groups, 0);
    if (b.from.ss_family == AF_INET)
        cr_assert_eq(ntohs(((struct sockaddr_in *)&b.from)->sin_port), a.tcp_port);
    else
        cr_assert_eq(ntohs(((struct sockaddr_in6 *)&b.from)->sin6_port), a.tcp_port);
    /* Our own beacons, looped back to us, are never reported. */
    cr_assert_eq(a.heard_self, 0);
    cr_assert_eq(b.heard_self, 0);
    finish(&loop, &a, &b);
}

Test(discovery, two_nodes_hear_each_other_auto)
{
    hear_each_other(NULL);
}

Test(discovery, two_nodes_hear_each_other_on_loopback)
{
    uv_loop_t loop;
    struct node a, b;
    uint16_t port = free_udp_port();

    hear_each_other("lo");
    /* Over loopback the sender's address is 127.0.0.1. */
    cr_assert_eq(uv_loop_init(&loop), 0);
    start_node(&loop, &a, 0x33, port, 300, "lo");
    start_node(&loop, &b, 0x44, port, 300, "lo");
    cr_assert(run_until(&loop, &b.heard, 1, 5000));
    cr_assert_eq(b.from.ss_family, AF_INET);
    cr_assert_eq(((struct sockaddr_in *)&b.from)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    finish(&loop, &a, &b);
}

Test(discovery, own_beacons_ignored)
{
    uv_loop_t loop;
    struct node a;
    int never = 0;

    cr_assert_eq(uv_loop_init(&loop), 0);
    start_node(&loop, &a, 0x55, free_udp_port(), 100, "lo");
    run_until(&loop, &never, 1, 600);
    cr_assert_geq(discovery_sent(a.d), 3);
    cr_assert_eq(a.heard, 0);
    cr_assert_eq(a.heard_self, 0);
    finish(&loop, &a, NULL);
}

Test(discovery, new_node_answered_at_once)
{
    uv_loop_t loop;
    struct node a, b;
    uint16_t port = free_udp_port();
    uint64_t b_started;
    int wait = 0;

    cr_assert_eq(uv_loop_init(&loop), 0);
    /* a's next scheduled beacons: at start, then 1.5-2.5 s later, then a
     * minute apart. b arrives 300 ms after a. */
    start_node(&loop, &a, 0x66, port, 60000, "lo");
    run_until(&loop, &wait, 1, 300);
    cr_assert_eq(discovery_sent(a.d), 1);
    start_node(&loop, &b, 0x77, port, 60000, "lo");
    b_started = uv_now(&loop);
    cr_assert(run_until(&loop, &a.heard, 1, 3000));
    cr_assert(run_until(&loop, &b.heard, 1, 3000));
    /* a answered b within its 1 s minimum gap plus a little, well before its
     * second scheduled beacon. */
    cr_assert_lt(b.first_heard_ms - b_started, 1150, "answered after %llu ms",
                 (unsigned long long)(b.first_heard_ms - b_started));
    cr_assert_eq(discovery_sent(a.d), 2);
    finish(&loop, &a, &b);
}

Test(discovery, bad_config)
{
    uv_loop_t loop;
    struct discovery *d = (struct discovery *)1;
    struct discovery_config cfg;
    char longnames[300];

    cr_assert_eq(uv_loop_init(&loop), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.on_beacon = on_beacon;
    cr_assert_eq(discovery_start(&loop, &cfg, &d), -KITH_EINVAL); /* tcp_port 0 */
    cr_assert_null(d);
    cfg.tcp_port = 1;
    cfg.on_beacon = NULL;
    cr_assert_eq(discovery_start(&loop, &cfg, &d), -KITH_EINVAL);
    cfg.on_beacon = on_beacon;
    memset(longnames, 'x', sizeof(longnames) - 1);
    longnames[sizeof(longnames) - 1] = '\0';
    cfg.interfaces = longnames;
    cr_assert_eq(discovery_start(&loop, &cfg, &d), -KITH_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}
