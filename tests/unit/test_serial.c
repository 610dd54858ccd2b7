/*
 * Tests for node/serial.c over real pseudo-terminals: two links, each on
 * the slave of its own pty pair, joined by a small forwarder between the two
 * masters (a null-modem cable in software). Frames cross both ways, the
 * largest too, in order; roles; a flipped byte ends the session and a new
 * one follows; a closed pty ends the session with a clear reason and the
 * link reopens the device when it comes back; a missing device is retried
 * without spinning the CPU; pause and resume; close with queued frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "kith/cobs.h"
#include "kith/error.h"
#include "serial.h"

/* ---- A pty pair whose slave is reachable through a fixed symlink ---- */

struct pty {
    int master, slave; /* -1 when closed */
    char link[128];    /* the path the serial link opens */
};

static void pty_open(struct pty *p)
{
    struct termios tio;
    char name[64], tmp[160];

    cr_assert_eq(openpty(&p->master, &p->slave, name, NULL, NULL), 0);
    /* Raw before anyone opens it, or the line discipline echoes input. */
    cr_assert_eq(tcgetattr(p->slave, &tio), 0);
    cfmakeraw(&tio);
    cr_assert_eq(tcsetattr(p->slave, TCSANOW, &tio), 0);
    fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
    snprintf(tmp, sizeof(tmp), "%s.new", p->link);
    unlink(tmp);
    cr_assert_eq(symlink(name, tmp), 0);
    cr_assert_eq(rename(tmp, p->link), 0);
}

/* Close both sides and remove the path: a pts number is soon reused by
 * another pty (another test), which the link must not find. */
static void pty_close(struct pty *p)
{
    unlink(p->link);
    if (p->master >= 0)
        close(p->master);
    if (p->slave >= 0)
        close(p->slave);
    p->master = p->slave = -1;
}

/* ---- Forwarder: master a <-> master b ---- */

struct fwd;

struct dir {
    uint8_t buf[65536];
    size_t off, len;
    long flip_after; /* flip a bit of the byte this many bytes on; -1 never */
    uint64_t bytes;
};

struct fwd {
    uv_poll_t poll[2];
    int fd[2];
    int open[2];
    struct dir d[2]; /* d[0]: 0 -> 1, d[1]: 1 -> 0 */
};

static void fwd_update(struct fwd *f, int i);

static void fwd_on_poll(uv_poll_t *h, int status, int events)
{
    struct fwd *f = h->data;
    int i = h == &f->poll[0] ? 0 : 1, o = 1 - i;
    struct dir *out = &f->d[i], *in = &f->d[o];

    if (status < 0)
        return;
    if ((events & UV_READABLE) && out->len == 0) {
        ssize_t n = read(f->fd[i], out->buf, sizeof(out->buf));

        if (n > 0) {
            out->off = 0;
            out->len = (size_t)n;
            if (out->flip_after >= 0 && (uint64_t)out->flip_after < out->bytes + (uint64_t)n) {
                out->buf[out->flip_after - (long)out->bytes] ^= 0x20;
                out->flip_after = -1;
            }
            out->bytes += (uint64_t)n;
        }
    }
    if ((events & UV_WRITABLE) && in->len > 0) {
        ssize_t n = write(f->fd[i], in->buf + in->off, in->len);

        if (n > 0) {
            in->off += (size_t)n;
            in->len -= (size_t)n;
        }
    }
    /* Push what was just read at once if the other side can take it. */
    if (out->len > 0 && f->open[o]) {
        ssize_t n = write(f->fd[o], out->buf + out->off, out->len);

        if (n > 0) {
            out->off += (size_t)n;
            out->len -= (size_t)n;
        }
    }
    fwd_update(f, 0);
    fwd_update(f, 1);
}

static void fwd_update(struct fwd *f, int i)
{
    int ev = 0;

    if (!f->open[i])
        return;
    if (f->d[i].len == 0)
        ev |= UV_READABLE;
    if (f->d[1 - i].len > 0)
        ev |= UV_WRITABLE;
    if (ev == 0)
        uv_poll_stop(&f->poll[i]);
    else
        uv_poll_start(&f->poll[i], ev, fwd_on_poll);
}

static void fwd_attach(uv_loop_t *loop, struct fwd *f, int i, int fd)
{
    f->fd[i] = fd;
    cr_assert_eq(uv_poll_init(loop, &f->poll[i], fd), 0);
    f->poll[i].data = f;
    f->open[i] = 1;
    f->d[i].len = f->d[1 - i].len = 0;
    fwd_update(f, i);
}

static void fwd_detach(struct fwd *f, int i)
{
    if (f->open[i]) {
        uv_close((uv_handle_t *)&f->poll[i], NULL);
        f->open[i] = 0;
    }
}

/* ---- A side: one link and what its owner saw ---- */

#define MAXF 512

struct side {
    struct serial_link *l;
    struct transport *t;
    int sessions, closes, last_reason, initiator;
    int pause_on_first, paused;
    size_t got;         /* frames received this session */
    uint32_t crc[MAXF]; /* of each received frame */
    size_t len[MAXF];
    int drains;
};

static void side_on_frame(struct transport *t, const uint8_t *frame, size_t len)
{
    struct side *s = t->data;

    if (s->got < MAXF) {
        s->crc[s->got] = kith_crc32c(frame, len);
        s->len[s->got] = len;
    }
    s->got++;
    if (s->pause_on_first && s->got == 1) {
        transport_pause(t, 1);
        s->paused = 1;
    }
}

static void side_on_close(struct transport *t, int reason)
{
    struct side *s = t->data;

    s->closes++;
    s->last_reason = reason;
    if (s->t == t)
        s->t = NULL;
}

static void side_on_drain(struct transport *t)
{
    ((struct side *)t->data)->drains++;
}

static void side_on_session(struct serial_link *l, struct transport *t, int initiator, void *arg)
{
    struct side *s = arg;

    s->t = t;
    s->sessions++;
    s->initiator = initiator;
    s->got = 0;
    t->on_frame = side_on_frame;
    t->on_close = side_on_close;
    t->on_drain = side_on_drain;
    t->data = s;
}

/* ---- Fixture ---- */

static uv_loop_t loop;
static char dir[64];
static struct pty pa = {.master = -1, .slave = -1}, pb = {.master = -1, .slave = -1};
static struct fwd fw;
static struct side sa, sb;

static void setup(void)
{
    strcpy(dir, "/tmp/kith-serial-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(pa.link, sizeof(pa.link), "%s/a", dir);
    snprintf(pb.link, sizeof(pb.link), "%s/b", dir);
    cr_assert_eq(uv_loop_init(&loop), 0);
    memset(&fw, 0, sizeof(fw));
    fw.d[0].flip_after = fw.d[1].flip_after = -1;
    memset(&sa, 0, sizeof(sa));
    memset(&sb, 0, sizeof(sb));
}

static void teardown(void)
{
    char p[160];

    serial_link_stop(sa.l);
    serial_link_stop(sb.l);
    sa.l = sb.l = NULL;
    fwd_detach(&fw, 0);
    fwd_detach(&fw, 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* Every handle was closed by its owner: nothing may be left. */
    cr_expect_eq(uv_loop_close(&loop), 0, "handles left open");
    pty_close(&pa);
    pty_close(&pb);
    snprintf(p, sizeof(p), "%s/a", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/b", dir);
    unlink(p);
    rmdir(dir);
}

static struct serial_config config(const char *device, struct side *s)
{
    struct serial_config c;

    memset(&c, 0, sizeof(c));
    c.device = device;
    c.baud = 115200;
    c.retry_min_ms = 50;
    c.retry_max_ms = 400;
    c.pause_ms = 50;
    c.on_session = side_on_session;
    c.arg = s;
    return c;
}

static void noop_tick(uv_timer_t *t)
{
}

/* Run the loop until cond() holds or ms pass; returns cond(). */
static int run_until(int (*cond)(void), uint64_t ms)
{
    uv_timer_t tick;
    uint64_t until;

    uv_update_time(&loop);
    until = uv_now(&loop) + ms;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, noop_tick, 10, 10);
    while (!cond() && uv_now(&loop) < until)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return cond();
}

static int never(void)
{
    return 0;
}

static int both_linked(void)
{
    return sa.t != NULL && sb.t != NULL;
}

/* Two links joined by the forwarder. */
static void start_pair(enum serial_role ra, enum serial_role rb)
{
    struct serial_config ca = config(pa.link, &sa), cb = config(pb.link, &sb);

    pty_open(&pa);
    pty_open(&pb);
    fwd_attach(&loop, &fw, 0, pa.master);
    fwd_attach(&loop, &fw, 1, pb.master);
    ca.role = ra;
    cb.role = rb;
    cr_assert_eq(serial_link_start(&loop, &ca, &sa.l), 0);
    cr_assert_eq(serial_link_start(&loop, &cb, &sb.l), 0);
    cr_assert(run_until(both_linked, 5000), "no session");
    cr_assert_eq(serial_link_state(sa.l), SERIAL_SESSION);
    cr_assert_eq(serial_link_state(sb.l), SERIAL_SESSION);
    cr_assert_eq(sa.initiator + sb.initiator, 1, "exactly one side initiates");
    cr_assert_eq(sa.t->inbound, !sa.initiator);
    cr_assert(serial_is_transport(sa.t));
}

static void make_frame(uint8_t *buf, size_t i, size_t len)
{
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)((k % 97 == 0) ? 0 : (i * 31 + k * 7));
}

static const size_t sizes[] = {1, 2, 100, 253, 254, 255, 1000, 4096, 65535, 20000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static size_t want_a, want_b;

static int all_arrived(void)
{
    return sa.got >= want_a && sb.got >= want_b;
}

/* Send n frames from s (sizes cycling); returns their CRCs in crcs. */
static void send_frames(struct side *s, size_t n, uint32_t *crcs)
{
    static uint8_t buf[65535];

    for (size_t i = 0; i < n; i++) {
        size_t len = sizes[i % NSIZES];

        make_frame(buf, i, len);
        crcs[i] = kith_crc32c(buf, len);
        cr_assert_eq(transport_send(s->t, buf, len), 0);
    }
}

static void check_frames(const struct side *s, size_t n, const uint32_t *crcs)
{
    cr_assert_eq(s->got, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(s->len[i], sizes[i % NSIZES], "frame %zu", i);
        cr_assert_eq(s->crc[i], crcs[i], "frame %zu", i);
    }
}

TestSuite(serial, .init = setup, .fini = teardown, .timeout = 60);

Test(serial, parse)
{
    char dev[32];
    uint32_t baud = 1;
    enum serial_flow fl;
    enum serial_role ro;

    cr_assert_eq(serial_parse_spec("/dev/rfcomm0", dev, sizeof(dev), &baud), 0);
    cr_assert_str_eq(dev, "/dev/rfcomm0");
    cr_assert_eq(baud, 115200);
    cr_assert_eq(serial_parse_spec("/dev/ttyUSB0@9600", dev, sizeof(dev), &baud), 0);
    cr_assert_str_eq(dev, "/dev/ttyUSB0");
    cr_assert_eq(baud, 9600);
    cr_assert_eq(serial_parse_spec("/dev/x@12345", dev, sizeof(dev), &baud), -KITH_EINVAL);
    cr_assert_eq(serial_parse_spec("/dev/x@", dev, sizeof(dev), &baud), -KITH_EINVAL);
    cr_assert_eq(serial_parse_spec("/dev/x@9k", dev, sizeof(dev), &baud), -KITH_EINVAL);
    cr_assert_eq(serial_parse_spec("@9600", dev, sizeof(dev), &baud), -KITH_EINVAL);
    cr_assert_eq(serial_parse_spec("", dev, sizeof(dev), &baud), -KITH_EINVAL);
    cr_assert_eq(serial_parse_spec("/dev/a-very-long-device-name-indeed", dev, sizeof(dev), &baud),
                 -KITH_EINVAL);
    cr_assert_eq(baud, 9600, "unchanged on error");
    cr_assert_eq(serial_parse_flow("rtscts", &fl), 0);
    cr_assert_eq(fl, SERIAL_FLOW_RTSCTS);
    cr_assert_eq(serial_parse_flow("none", &fl), 0);
    cr_assert_eq(fl, SERIAL_FLOW_NONE);
    cr_assert_eq(serial_parse_flow("xonxoff", &fl), -KITH_EINVAL);
    cr_assert_eq(serial_parse_role("initiator", &ro), 0);
    cr_assert_eq(ro, SERIAL_ROLE_INITIATOR);
    cr_assert_eq(serial_parse_role("responder", &ro), 0);
    cr_assert_eq(ro, SERIAL_ROLE_RESPONDER);
    cr_assert_eq(serial_parse_role("auto", &ro), 0);
    cr_assert_eq(ro, SERIAL_ROLE_AUTO);
    cr_assert_eq(serial_parse_role("leader", &ro), -KITH_EINVAL);
    cr_assert(serial_baud_supported(115200));
    cr_assert(serial_baud_supported(921600));
    cr_assert_not(serial_baud_supported(0));
    cr_assert_not(serial_baud_supported(115201));
}

Test(serial, start_errors)
{
    struct serial_config c = config("/dev/null", &sa);
    struct serial_link *l = (struct serial_link *)&c;
    char longpath[300];

    c.baud = 12345;
    cr_assert_eq(serial_link_start(&loop, &c, &l), -KITH_EINVAL);
    cr_assert_null(l);
    c = config(NULL, &sa);
    cr_assert_eq(serial_link_start(&loop, &c, &l), -KITH_EINVAL);
    c = config("/dev/null", &sa);
    c.on_session = NULL;
    cr_assert_eq(serial_link_start(&loop, &c, &l), -KITH_EINVAL);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    c = config(longpath, &sa);
    cr_assert_eq(serial_link_start(&loop, &c, &l), -KITH_EINVAL);
}

/* Frames both ways, every size up to the largest, in order. */
Test(serial, frames_both_ways)
{
    static uint32_t ca[40], cb[25];
    struct serial_stats st;

    start_pair(SERIAL_ROLE_AUTO, SERIAL_ROLE_AUTO);
    send_frames(&sa, 40, ca);
    send_frames(&sb, 25, cb);
    cr_assert_gt(transport_queued(sa.t), 0);
    want_a = 25;
    want_b = 40;
    cr_assert(run_until(all_arrived, 20000), "got %zu/%zu and %zu/%zu", sa.got, want_a, sb.got,
              want_b);
    check_frames(&sb, 40, ca);
    check_frames(&sa, 25, cb);
    cr_assert_gt(sa.drains, 0);
    cr_assert_eq(transport_queued(sa.t), 0);
    serial_link_get_stats(sa.l, &st);
    cr_assert_eq(st.bad_frames, 0);
    cr_assert_eq(st.sessions, 1);
    cr_assert_eq(st.opens, 1);
    cr_assert_gt(st.bytes_out, 2 * 65535);
    /* Stopping ends the sessions with -ECANCELED, from the loop. */
    serial_link_stop(sa.l);
    sa.l = NULL;
    cr_assert_eq(sa.closes, 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_eq(sa.closes, 1);
    cr_assert_eq(sa.last_reason, -ECANCELED);
}

Test(serial, send_limits)
{
    static uint8_t big[TRANSPORT_FRAME_MAX + 1];

    start_pair(SERIAL_ROLE_AUTO, SERIAL_ROLE_AUTO);
    cr_assert_eq(transport_send(sa.t, big, 0), -KITH_EINVAL);
    cr_assert_eq(transport_send(sa.t, big, sizeof(big)), -KITH_ETOOBIG);
    /* Fill the queue: the send that would pass TRANSPORT_QUEUE_MAX fails
     * and changes nothing. */
    size_t sent = 0;
    int r;
    while ((r = transport_send(sa.t, big, TRANSPORT_FRAME_MAX)) == 0)
        sent++;
    cr_assert_eq(r, -ENOBUFS);
    cr_assert_geq(sent * TRANSPORT_FRAME_MAX, TRANSPORT_QUEUE_MAX - 2 * TRANSPORT_FRAME_MAX);
    cr_assert_leq(transport_queued(sa.t), TRANSPORT_QUEUE_MAX + 2 * TRANSPORT_FRAME_MAX);
}

Test(serial, explicit_roles)
{
    start_pair(SERIAL_ROLE_RESPONDER, SERIAL_ROLE_AUTO);
    cr_assert_eq(sa.initiator, 0);
    cr_assert_eq(sb.initiator, 1);
}

Test(serial, explicit_roles_both)
{
    start_pair(SERIAL_ROLE_INITIATOR, SERIAL_ROLE_RESPONDER);
    cr_assert_eq(sa.initiator, 1);
    cr_assert_eq(sb.initiator, 0);
}

/* Both configured the same: the nonces decide, and still only one starts. */
Test(serial, role_conflict)
{
    start_pair(SERIAL_ROLE_INITIATOR, SERIAL_ROLE_INITIATOR);
}

static int second_session(void)
{
    return sa.sessions >= 2 && sb.sessions >= 2 && sa.t != NULL && sb.t != NULL;
}

/* A flipped byte: the receiver ends the session (a bad frame), tells the
 * far end, and both start a fresh session after the pause. */
Test(serial, corrupt_frame_restarts_session)
{
    static uint32_t crcs[10];
    struct serial_stats st;

    start_pair(SERIAL_ROLE_AUTO, SERIAL_ROLE_AUTO);
    fw.d[0].flip_after = (long)fw.d[0].bytes + 500; /* inside the next frame a -> b */
    send_frames(&sa, 10, crcs);
    cr_assert(run_until(second_session, 5000), "no new session");
    cr_assert_eq(sb.closes, 1);
    cr_assert_eq(sb.last_reason, -KITH_EENCODING);
    cr_assert_eq(sa.closes, 1);
    cr_assert_eq(sa.last_reason, -EPIPE); /* the far end's LINK-CLOSE */
    serial_link_get_stats(sb.l, &st);
    /* The flipped frame, and maybe the tail a's flush cut short. */
    cr_assert_geq(st.bad_frames, 1);
    cr_assert_eq(st.opens, 1, "the device stays open");
    /* The new session works. */
    send_frames(&sa, 10, crcs);
    want_a = 0;
    want_b = 10;
    cr_assert(run_until(all_arrived, 10000));
    check_frames(&sb, 10, crcs);
}

static int a_waiting(void)
{
    return sa.l != NULL && serial_link_state(sa.l) == SERIAL_WAITING && sa.closes > 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The pty goes away (a Bluetooth drop): the session ends with a clear
 * reason, the link waits without spinning and comes back with the device. */
Test(serial, hangup_and_return)
{
    struct serial_stats st;
    double cpu;

    start_pair(SERIAL_ROLE_AUTO, SERIAL_ROLE_AUTO);
    fwd_detach(&fw, 0);
    pty_close(&pa);
    cr_assert(run_until(a_waiting, 3000), "not waiting");
    cr_assert_eq(sa.closes, 1);
    cr_assert(sa.last_reason == -EPIPE || sa.last_reason == -EIO, "reason %d", sa.last_reason);
    cr_assert_null(sa.t);
    /* Missing for a second: a few retries (50 ms doubling to 400 ms), no
     * spinning. */
    cpu = cpu_seconds();
    run_until(never, 1000);
    cr_assert_lt(cpu_seconds() - cpu, 0.1, "CPU while waiting: %.3f s", cpu_seconds() - cpu);
    cr_assert_eq(serial_link_state(sa.l), SERIAL_WAITING);
    /* The device comes back (a new pty behind the same path). */
    pty_open(&pa);
    fwd_attach(&loop, &fw, 0, pa.master);
    cr_assert(run_until(second_session, 5000), "no session after return");
    serial_link_get_stats(sa.l, &st);
    cr_assert_eq(st.opens, 2);
    cr_assert_eq(sb.closes, 1);
    cr_assert_eq(sb.last_reason, -ECONNRESET); /* a's new nonce */
}

/* A device that does not exist: waiting, retries with backoff, no CPU. */
Test(serial, missing_device_no_spin)
{
    struct serial_config c = config(pa.link, &sa);
    struct serial_stats st;
    double cpu;

    c.retry_min_ms = 10;
    c.retry_max_ms = 200;
    cr_assert_eq(serial_link_start(&loop, &c, &sa.l), 0);
    cpu = cpu_seconds();
    run_until(never, 1500);
    cr_assert_lt(cpu_seconds() - cpu, 0.1, "CPU while waiting: %.3f s", cpu_seconds() - cpu);
    cr_assert_eq(serial_link_state(sa.l), SERIAL_WAITING);
    serial_link_get_stats(sa.l, &st);
    cr_assert_eq(st.opens, 0);
    cr_assert_eq(sa.sessions, 0);
}

/* Not a tty: refused (ENOTTY), retried like a missing one. */
Test(serial, not_a_tty)
{
    struct serial_config c = config("/dev/null", &sa);

    cr_assert_eq(serial_link_start(&loop, &c, &sa.l), 0);
    run_until(never, 300);
    cr_assert_eq(serial_link_state(sa.l), SERIAL_WAITING);
}

static int b_got_one(void)
{
    return sb.got >= 1;
}

static int b_got_all(void)
{
    return sb.got >= 10;
}

Test(serial, pause_and_resume)
{
    static uint32_t crcs[10];

    start_pair(SERIAL_ROLE_AUTO, SERIAL_ROLE_AUTO);
    sb.pause_on_first = 1;
    send_frames(&sa, 10, crcs);
    cr_assert(run_until(b_got_one, 5000));
    run_until(never, 300);
    cr_assert_eq(sb.got, 1, "delivered while paused");
    transport_pause(sb.t, 0);
    cr_assert_eq(sb.got, 1, "delivered inside transport_pause");
    cr_assert(run_until(b_got_all, 10000));
    check_frames(&sb, 10, crcs);
}

static int a_closed(void)
{
    return sa.closes > 0;
}

/* transport_close with frames queued: they go out first, then on_close(0);
 * the far end gets them and then the LINK-CLOSE. */
Test(serial, close_flushes)
{
    static uint32_t crcs[3];

    start_pair(SERIAL_ROLE_AUTO, SERIAL_ROLE_AUTO);
    send_frames(&sa, 3, crcs);
    transport_close(sa.t);
    transport_close(sa.t); /* again: nothing */
    cr_assert_eq(transport_send(sa.t, (const uint8_t *)"x", 1), -EPIPE);
    cr_assert_eq(sa.closes, 0, "on_close inside transport_close");
    cr_assert(run_until(a_closed, 5000));
    cr_assert_eq(sa.last_reason, 0);
    want_a = 0;
    want_b = 3;
    cr_assert(run_until(all_arrived, 5000));
    check_frames(&sb, 3, crcs);
    cr_assert(run_until(second_session, 5000));
    cr_assert_eq(sb.last_reason, -EPIPE);
}

static int a_timed_out(void)
{
    return sa.closes > 0;
}

/* No transport_ready within the handshake timeout: closed with -ETIMEDOUT. */
Test(serial, handshake_timeout)
{
    struct serial_config ca = config(pa.link, &sa), cb = config(pb.link, &sb);

    pty_open(&pa);
    pty_open(&pb);
    fwd_attach(&loop, &fw, 0, pa.master);
    fwd_attach(&loop, &fw, 1, pb.master);
    ca.handshake_timeout_ms = 200;
    cb.handshake_timeout_ms = 5000;
    cr_assert_eq(serial_link_start(&loop, &ca, &sa.l), 0);
    cr_assert_eq(serial_link_start(&loop, &cb, &sb.l), 0);
    cr_assert(run_until(a_timed_out, 5000));
    cr_assert_eq(sa.last_reason, -ETIMEDOUT);
    cr_assert(run_until(second_session, 5000));
}
