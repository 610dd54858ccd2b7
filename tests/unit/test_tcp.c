/*
 * Tests for node/tcp.c over real loopback sockets: frames both ways
 * (including the largest), the handshake and idle timeouts, the peer limit,
 * pause and resume, flushing on close, garbage on the line, refused dials,
 * name resolution, IPv6, and a clean stop that leaves the loop empty.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kith/error.h"
#include "tcp.h"

struct end {
    struct transport *t;
    int frames;
    size_t bytes;
    size_t last_len;
    uint8_t *last;
    int closed, reason;
    int echo;
    int pause_after; /* pause after this many frames (0: never) */
    int drained;
};

struct ctx {
    uv_loop_t loop;
    struct tcp *server, *client;
    struct end ends[4]; /* accepted */
    int n_accepted;
    struct end out; /* the dialer's end */
    int dial_done, dial_status;
};

static void on_frame(struct transport *t, const uint8_t *frame, size_t len)
{
    struct end *e = t->data;

    e->frames++;
    e->bytes += len;
    e->last_len = len;
    memcpy(e->last, frame, len);
    if (e->echo)
        cr_assert_eq(transport_send(t, frame, len), 0);
    if (e->pause_after != 0 && e->frames == e->pause_after)
        transport_pause(t, 1);
}

static void on_close(struct transport *t, int reason)
{
    struct end *e = t->data;

    e->closed++;
    e->reason = reason;
    e->t = NULL;
}

static void on_drain(struct transport *t)
{
    ((struct end *)t->data)->drained++;
}

static void attach(struct end *e, struct transport *t)
{
    e->t = t;
    if (e->last == NULL)
        e->last = malloc(TRANSPORT_FRAME_MAX);
    t->on_frame = on_frame;
    t->on_close = on_close;
    t->on_drain = on_drain;
    t->data = e;
}

static void on_accept(struct tcp *tcp, struct transport *t, void *arg)
{
    struct ctx *c = arg;

    cr_assert_lt(c->n_accepted, 4);
    cr_assert_eq(t->inbound, 1);
    attach(&c->ends[c->n_accepted++], t);
}

static void on_dial(struct tcp *tcp, struct transport *t, int status, void *arg)
{
    struct ctx *c = arg;

    c->dial_done++;
    c->dial_status = status;
    if (t != NULL) {
        cr_assert_eq(status, 0);
        cr_assert_eq(t->inbound, 0);
        attach(&c->out, t);
    }
}

/* The guard wakes the loop every 5 ms so run_until sees its flag soon
 * (a UV_RUN_ONCE pass may otherwise sleep until the next timer). */
struct guard {
    uv_timer_t timer;
    uint64_t left_ms;
};

static void on_guard(uv_timer_t *t)
{
    struct guard *g = (struct guard *)t;

    g->left_ms = g->left_ms > 5 ? g->left_ms - 5 : 0;
}

/* Run the loop until *flag >= want or about ms pass. Returns whether it got
 * there. */
static int run_until(struct ctx *c, const int *flag, int want, uint64_t ms)
{
    struct guard g = {.left_ms = ms};

    uv_timer_init(&c->loop, &g.timer);
    uv_timer_start(&g.timer, on_guard, 5, 5);
    while (*flag < want && g.left_ms > 0)
        uv_run(&c->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&g.timer, NULL);
    uv_run(&c->loop, UV_RUN_NOWAIT);
    return *flag >= want;
}

static struct ctx *setup(const char *listen, uint32_t max_peers, uint32_t hs_ms, uint32_t idle_ms)
{
    struct ctx *c = calloc(1, sizeof(*c));
    struct tcp_config sc = {.listen = listen,
                            .max_peers = max_peers,
                            .handshake_timeout_ms = hs_ms,
                            .idle_timeout_ms = idle_ms,
                            .on_accept = on_accept};
    struct tcp_config cc = {.handshake_timeout_ms = hs_ms, .idle_timeout_ms = idle_ms};
    int r;

    cr_assert_not_null(c);
    sc.arg = c;
    cr_assert_eq(uv_loop_init(&c->loop), 0);
    r = tcp_start(&c->loop, &sc, &c->server);
    cr_assert_eq(r, 0, "tcp_start %s: %s", listen, kith_strerror(r));
    cr_assert_neq(tcp_port(c->server), 0);
    cr_assert_eq(tcp_start(&c->loop, &cc, &c->client), 0);
    return c;
}

static int dial_server(struct ctx *c, const char *ip)
{
    struct sockaddr_storage ss;

    if (strchr(ip, ':') != NULL)
        uv_ip6_addr(ip, tcp_port(c->server), (struct sockaddr_in6 *)&ss);
    else
        uv_ip4_addr(ip, tcp_port(c->server), (struct sockaddr_in *)&ss);
    return tcp_dial(c->client, (struct sockaddr *)&ss, on_dial, c);
}

static void teardown(struct ctx *c)
{
    tcp_stop(c->server);
    tcp_stop(c->client);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&c->loop), 0, "a handle was left open");
    for (int i = 0; i < 4; i++)
        free(c->ends[i].last);
    free(c->out.last);
    free(c);
}

static void exchange(const char *listen, const char *ip)
{
    struct ctx *c = setup(listen, 0, 5000, 5000);
    uint8_t *big = malloc(TRANSPORT_FRAME_MAX);

    cr_assert_eq(dial_server(c, ip), 0);
    cr_assert(run_until(c, &c->dial_done, 1, 5000));
    cr_assert_eq(c->dial_status, 0);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    c->ends[0].echo = 1;
    cr_assert_eq(tcp_count(c->server), 1);
    cr_assert_eq(tcp_count(c->client), 1);
    cr_assert(strncmp(c->out.t->name, "tcp-out ", 8) == 0, "%s", c->out.t->name);
    cr_assert(strncmp(c->ends[0].t->name, "tcp-in ", 7) == 0, "%s", c->ends[0].t->name);

    for (size_t i = 0; i < TRANSPORT_FRAME_MAX; i++)
        big[i] = (uint8_t)(i * 31 + 7);
    cr_assert_eq(transport_send(c->out.t, (const uint8_t *)"hello", 5), 0);
    cr_assert_eq(transport_send(c->out.t, big, TRANSPORT_FRAME_MAX), 0);
    cr_assert_eq(transport_queued(c->out.t), 5 + 2 + TRANSPORT_FRAME_MAX + 2);
    cr_assert(run_until(c, &c->out.frames, 2, 5000));
    cr_assert_eq(c->ends[0].frames, 2);
    cr_assert_eq(c->out.last_len, TRANSPORT_FRAME_MAX);
    cr_assert_eq(memcmp(c->out.last, big, TRANSPORT_FRAME_MAX), 0);
    cr_assert_eq(c->out.bytes, 5 + TRANSPORT_FRAME_MAX);
    cr_assert_geq(c->out.drained, 1);
    cr_assert_eq(transport_queued(c->out.t), 0);

    /* Limits on send. */
    cr_assert_eq(transport_send(c->out.t, big, 0), -KITH_EINVAL);
    cr_assert_eq(transport_send(c->out.t, big, TRANSPORT_FRAME_MAX + 1), -KITH_ETOOBIG);

    /* Our close: the peer sees the hang-up. */
    transport_close(c->out.t);
    transport_close(c->out.t); /* twice is fine */
    cr_assert(run_until(c, &c->ends[0].closed, 1, 5000));
    cr_assert_eq(c->out.closed, 1);
    cr_assert_eq(c->out.reason, 0);
    cr_assert_eq(c->ends[0].reason, -EPIPE);
    cr_assert_eq(tcp_count(c->server), 0);
    free(big);
    teardown(c);
}

Test(tcp, frames_both_ways_ipv4)
{
    exchange("127.0.0.1:0", "127.0.0.1");
}

static int have_ipv6_loopback(void)
{
    struct sockaddr_in6 a;
    int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

Test(tcp, frames_both_ways_ipv6)
{
    if (!have_ipv6_loopback()) {
        cr_skip_test("no IPv6 loopback here");
        return;
    }
    exchange("[::1]:0", "::1");
}

Test(tcp, dual_stack_listener_takes_ipv4)
{
    if (!have_ipv6_loopback()) {
        cr_skip_test("no IPv6 here");
        return;
    }
    exchange("[::]:0", "127.0.0.1");
}

Test(tcp, half_open_connection_times_out)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 200, 5000);

    cr_assert_eq(dial_server(c, "127.0.0.1"), 0);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    /* Frames do not count as a handshake: only transport_ready does. */
    cr_assert(run_until(c, &c->dial_done, 1, 5000));
    cr_assert_eq(transport_send(c->out.t, (const uint8_t *)"x", 1), 0);
    cr_assert(run_until(c, &c->ends[0].closed, 1, 3000));
    cr_assert_eq(c->ends[0].reason, -ETIMEDOUT);
    cr_assert_eq(c->ends[0].frames, 1);
    /* The dialer's own handshake clock ran out too, or it saw the hang-up. */
    cr_assert(run_until(c, &c->out.closed, 1, 3000));
    cr_assert(c->out.reason == -ETIMEDOUT || c->out.reason == -EPIPE ||
                  c->out.reason == -ECONNRESET,
              "%d", c->out.reason);
    teardown(c);
}

Test(tcp, idle_timeout_after_ready)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 150, 400);

    cr_assert_eq(dial_server(c, "127.0.0.1"), 0);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    cr_assert(run_until(c, &c->dial_done, 1, 5000));
    transport_ready(c->ends[0].t);
    transport_ready(c->out.t);
    /* Pings every 100 ms keep it open well past the handshake timeout. */
    for (int i = 0; i < 6; i++) {
        int tick = 0;

        cr_assert_eq(transport_send(c->out.t, (const uint8_t *)"p", 1), 0);
        cr_assert_eq(transport_send(c->ends[0].t, (const uint8_t *)"p", 1), 0);
        run_until(c, &tick, 1, 100);
    }
    cr_assert_eq(c->ends[0].closed, 0);
    cr_assert_eq(c->ends[0].frames, 6);
    /* Then silence: closed for idleness. */
    cr_assert(run_until(c, &c->ends[0].closed, 1, 3000));
    cr_assert_eq(c->ends[0].reason, -ETIMEDOUT);
    teardown(c);
}

Test(tcp, peer_limit)
{
    struct ctx *c = setup("127.0.0.1:0", 1, 5000, 5000);
    struct ctx *c2 = calloc(1, sizeof(*c2)); /* results of a second dialer */
    struct tcp *client2 = NULL;
    struct tcp_config cc = {0};
    struct sockaddr_in a;

    cr_assert_eq(dial_server(c, "127.0.0.1"), 0);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    cr_assert(run_until(c, &c->dial_done, 1, 5000));

    /* A second peer: accepted and closed at once, never handed over. */
    cr_assert_eq(tcp_start(&c->loop, &cc, &client2), 0);
    uv_ip4_addr("127.0.0.1", tcp_port(c->server), &a);
    cr_assert_eq(tcp_dial(client2, (struct sockaddr *)&a, on_dial, c2), 0);
    cr_assert(run_until(c, &c2->dial_done, 1, 5000));
    cr_assert_eq(c2->dial_status, 0);
    cr_assert(run_until(c, &c2->out.closed, 1, 5000));
    cr_assert(c2->out.reason == -EPIPE || c2->out.reason == -ECONNRESET, "%d", c2->out.reason);
    cr_assert_eq(c->n_accepted, 1);
    cr_assert_eq(tcp_count(c->server), 1);
    tcp_stop(client2);
    uv_run(&c->loop, UV_RUN_NOWAIT);
    free(c2->out.last);
    free(c2);

    /* The first is still served. */
    cr_assert_eq(transport_send(c->out.t, (const uint8_t *)"still", 5), 0);
    cr_assert(run_until(c, &c->ends[0].frames, 1, 5000));

    /* Outgoing limit: a tcp with max_peers 1 and one connection refuses. */
    struct tcp *one = NULL;
    struct tcp_config oc = {.max_peers = 1};

    cr_assert_eq(tcp_start(&c->loop, &oc, &one), 0);
    cr_assert_eq(tcp_dial(one, (struct sockaddr *)&a, on_dial, c), 0);
    cr_assert_eq(tcp_dial(one, (struct sockaddr *)&a, on_dial, c), -EBUSY);
    tcp_stop(one); /* its dial is reported cancelled */
    cr_assert(run_until(c, &c->dial_done, 2, 5000));
    cr_assert_eq(c->dial_status, -ECANCELED);
    teardown(c);
}

Test(tcp, pause_holds_frames_until_resume)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 5000, 5000);
    int tick = 0;

    cr_assert_eq(dial_server(c, "127.0.0.1"), 0);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    cr_assert(run_until(c, &c->dial_done, 1, 5000));
    c->ends[0].pause_after = 1;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(transport_send(c->out.t, (const uint8_t *)"abc", 3), 0);
    cr_assert(run_until(c, &c->ends[0].frames, 1, 5000));
    run_until(c, &tick, 1, 200);
    cr_assert_eq(c->ends[0].frames, 1);
    transport_pause(c->ends[0].t, 0);
    cr_assert_eq(c->ends[0].frames, 1); /* not from inside the call */
    cr_assert(run_until(c, &c->ends[0].frames, 3, 5000));
    teardown(c);
}

Test(tcp, close_flushes_queued_frames)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 5000, 5000);
    uint8_t *big = calloc(1, TRANSPORT_FRAME_MAX);

    cr_assert_eq(dial_server(c, "127.0.0.1"), 0);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    cr_assert(run_until(c, &c->dial_done, 1, 5000));
    for (int i = 0; i < 40; i++)
        cr_assert_eq(transport_send(c->out.t, big, TRANSPORT_FRAME_MAX), 0);
    transport_close(c->out.t);
    cr_assert_eq(c->out.closed, 0); /* on_close only from the loop */
    cr_assert(run_until(c, &c->ends[0].closed, 1, 5000));
    cr_assert_eq(c->ends[0].frames, 40);
    cr_assert_eq(c->ends[0].reason, -EPIPE);
    cr_assert_eq(c->out.reason, 0);
    free(big);
    teardown(c);
}

/* Write raw bytes at the server from a plain socket. */
static int raw_connect(struct ctx *c)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    uv_ip4_addr("127.0.0.1", tcp_port(c->server), &a);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

Test(tcp, garbage_closes)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 5000, 5000);
    int fd = raw_connect(c);

    cr_assert_eq(write(fd, "\x00\x02ok\x00\x00", 6), 6);
    cr_assert(run_until(c, &c->ends[0].closed, 1, 5000));
    cr_assert_eq(c->ends[0].frames, 1);
    cr_assert_eq(c->ends[0].reason, -KITH_EENCODING);
    close(fd);
    teardown(c);
}

Test(tcp, peer_hangs_up_mid_frame)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 5000, 5000);
    int fd = raw_connect(c);

    cr_assert_eq(write(fd, "\x01\x00partial", 9), 9);
    close(fd);
    cr_assert(run_until(c, &c->ends[0].closed, 1, 5000));
    cr_assert_eq(c->ends[0].frames, 0);
    cr_assert_eq(c->ends[0].reason, -EPIPE);
    teardown(c);
}

Test(tcp, refused_and_resolved_dials)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 5000, 5000);
    struct sockaddr_in a;
    uint16_t port = tcp_port(c->server);

    /* A port nobody listens on: take the server's and stop it. */
    tcp_stop(c->server);
    c->server = NULL;
    uv_run(&c->loop, UV_RUN_NOWAIT);
    uv_ip4_addr("127.0.0.1", port, &a);
    cr_assert_eq(tcp_dial(c->client, (struct sockaddr *)&a, on_dial, c), 0);
    cr_assert(run_until(c, &c->dial_done, 1, 5000));
    cr_assert_eq(c->dial_status, -ECONNREFUSED);
    cr_assert_eq(tcp_count(c->client), 0);

    struct tcp_config sc = {.listen = "127.0.0.1:0", .on_accept = on_accept, .arg = c};
    cr_assert_eq(tcp_start(&c->loop, &sc, &c->server), 0);
    cr_assert_eq(tcp_dial_host(c->client, "localhost", tcp_port(c->server), on_dial, c), 0);
    cr_assert(run_until(c, &c->dial_done, 2, 5000));
    cr_assert_eq(c->dial_status, 0, "%d", c->dial_status);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    cr_assert_eq(tcp_dial_host(c->client, "", 1, on_dial, c), -KITH_EINVAL);
    cr_assert_eq(tcp_dial_host(c->client, "localhost", 0, on_dial, c), -KITH_EINVAL);
    teardown(c);
}

Test(tcp, stop_cancels_everything)
{
    struct ctx *c = setup("127.0.0.1:0", 0, 5000, 5000);

    cr_assert_eq(dial_server(c, "127.0.0.1"), 0);
    cr_assert(run_until(c, &c->n_accepted, 1, 5000));
    cr_assert(run_until(c, &c->dial_done, 1, 5000));
    cr_assert_eq(transport_send(c->out.t, (const uint8_t *)"bye", 3), 0);
    tcp_stop(c->server);
    tcp_stop(c->client);
    c->server = c->client = NULL;
    uv_run(&c->loop, UV_RUN_DEFAULT);
    cr_assert_eq(c->ends[0].closed, 1);
    cr_assert_eq(c->ends[0].reason, -ECANCELED);
    cr_assert_eq(c->out.closed, 1);
    cr_assert_eq(c->out.reason, -ECANCELED);
    teardown(c);
}

Test(tcp, bad_listen_addresses)
{
    uv_loop_t loop;
    struct tcp *t = (struct tcp *)1;
    struct tcp_config cfg = {.on_accept = on_accept};
    static const char *bad[] = {"localhost:7711", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                                "::1:7711",       "[::1]7711", ":7711",      "1.2.3.4:x"};

    cr_assert_eq(uv_loop_init(&loop), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.listen = bad[i];
        cr_assert_eq(tcp_start(&loop, &cfg, &t), -KITH_EINVAL, "%s", bad[i]);
        cr_assert_null(t);
    }
    cfg.listen = "127.0.0.1:0";
    cfg.on_accept = NULL;
    cr_assert_eq(tcp_start(&loop, &cfg, &t), -KITH_EINVAL);

    /* A port in use. */
    struct tcp *first = NULL;
    char spec[32];

    cfg.on_accept = on_accept;
    cr_assert_eq(tcp_start(&loop, &cfg, &first), 0);
    snprintf(spec, sizeof(spec), "127.0.0.1:%u", (unsigned)tcp_port(first));
    cr_assert_str_eq(tcp_address(first), spec);
    cfg.listen = spec;
    cr_assert_eq(tcp_start(&loop, &cfg, &t), -EADDRINUSE);
    tcp_stop(first);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(tcp, split_hostport)
{
    char host[TCP_HOST_MAX] = "unchanged";
    uint16_t port = 1;

    cr_assert_eq(tcp_split_hostport("pi.local:7711", host, sizeof(host), &port), 0);
    cr_assert_str_eq(host, "pi.local");
    cr_assert_eq(port, 7711);
    cr_assert_eq(tcp_split_hostport("[fe80::1%eth0]:0", host, sizeof(host), &port), 0);
    cr_assert_str_eq(host, "fe80::1%eth0");
    cr_assert_eq(port, 0);
    cr_assert_eq(tcp_split_hostport("10.0.0.1:65535", host, sizeof(host), &port), 0);
    cr_assert_eq(port, 65535);
    static const char *bad[] = {
        "",         "pi",      "pi:",        ":1",     "pi:-1", "pi:1x", "pi:123456",
        "a:b:1",    "[::1]",   "[::1]:",     "[]:1",   "p i:1", "pi: 1", "pi:65536",
        "[::1]x:1", "[a[b]:1", "pi:0000001", "\x01:1", "pi\t:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(host, "unchanged");
        cr_assert_eq(tcp_split_hostport(bad[i], host, sizeof(host), &port), -KITH_EINVAL, "%s",
                     bad[i]);
        cr_assert_str_eq(host, "unchanged");
    }
    cr_assert_eq(tcp_split_hostport("abcdef:1", host, 6, &port), -KITH_EINVAL); /* no room */
}

Test(tcp, format_address)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    char buf[TCP_ADDR_STR_MAX];

    uv_ip4_addr("192.0.2.1", 7711, &a4);
    cr_assert_eq(tcp_format_address((struct sockaddr *)&a4, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "192.0.2.1:7711");
    uv_ip6_addr("::ffff:192.0.2.1", 80, &a6);
    cr_assert_eq(tcp_format_address((struct sockaddr *)&a6, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "192.0.2.1:80");
    uv_ip6_addr("fe80::1", 7711, &a6);
    a6.sin6_scope_id = 1; /* lo */
    cr_assert_eq(tcp_format_address((struct sockaddr *)&a6, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "[fe80::1%lo]:7711");
    cr_assert_eq(tcp_format_address((struct sockaddr *)&a6, buf, 10), -KITH_EBUFSIZE);
    struct sockaddr bad = {.sa_family = AF_UNIX};
    cr_assert_eq(tcp_format_address(&bad, buf, sizeof(buf)), -KITH_EINVAL);
}
