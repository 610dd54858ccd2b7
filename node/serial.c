/*
 * serial: the serial-line transport of serial.h. A struct serial_link owns
 * its device path, two timers (the link's own: retry, LINK-HELLO, pause;
 * and a "kick" that resumes delivery from the loop), the open device (a
 * struct serial_dev: the fd and its uv_poll_t, freed in the poll's close
 * callback), the output queue (COBS frames, encoded straight into it), the
 * input buffer and the frame decoder. Each session is a struct serial_conn
 * (the struct transport and its timer: handshake, idle and linger deadlines,
 * then the close notice), freed after its on_close has run.
 *
 * Why uv_poll on the fd rather than uv_pipe_open or uv_tty: the link must
 * own the fd (its termios, exclusive mode, and closing it on a hang-up
 * before reopening the path); it must see a hang-up even while it is not
 * reading (a paused session), which uv_poll reports as UV_DISCONNECT; and
 * it writes one queue of frames with as few write() calls as the device
 * allows, with no write request per frame. uv_tty reopens the device by its
 * name and sets its own raw mode without baud or flow control; uv_pipe_open
 * works on a tty but reports a hang-up only while reading.
 *
 * Link states: WAITING (no device; the timer retries with backoff) ->
 * LINKING (LINK-HELLO every SERIAL_HELLO_MS) -> SESSION (a transport is out)
 * -> PAUSED (a short wait) -> LINKING ... A hang-up or I/O error from any
 * open state goes back to WAITING.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "kith/cobs.h"
#include "kith/error.h"
#include "log.h"
#include "serial.h"

/* Link frames: the first payload byte. See PROTOCOL.md, "Serial framing". */
#define LINK_VERSION 1
#define LINK_HELLO 0x01
#define LINK_DATA 0x02
#define LINK_CLOSE 0x03
#define NONCE 8
#define HELLO_LEN (4 + 2 * NONCE) /* type, version, role, flags, nonce, peer nonce */
#define HELLO_CONFIRM 0x01        /* flags: the sender has seen our nonce and is linked */
#define DATA_HDR (1 + NONCE)

#define READ_CHUNK ((size_t)16 * 1024)
#define PEND_MAX ((size_t)256 * 1024) /* input held while a session is paused */
#define SHORT_SESSION_MS 10000        /* a session shorter than this may back off */

struct serial_dev {
    uv_poll_t poll;
    int fd;
    struct serial_link *l;
};

struct serial_conn {
    struct transport t; /* first: a transport pointer is a conn pointer */
    struct serial_link *l;
    uv_timer_t timer;
    int ready, paused, closing;
    int reason;
    uint64_t started;
};

struct serial_link {
    uv_loop_t *loop;
    struct serial_config cfg;
    char device[SERIAL_PATH_MAX];
    speed_t speed;
    enum serial_state state;
    uv_timer_t timer;
    uv_timer_t kick;
    int handles;
    struct serial_dev *dev;
    int poll_events;
    struct serial_conn *conn;
    uint8_t mine[NONCE], theirs[NONCE];
    int have_theirs, their_role;
    uint32_t retry_ms, pause_ms;
    uint64_t hold_until, opened_at;
    int last_err, sessions_since_open, stopping;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    uint8_t *pend;
    size_t pend_off, pend_len;
    struct serial_stats stats;
    struct kith_cobs_decoder dec;
};

static const struct transport_ops serial_ops;

static const struct {
    uint32_t baud;
    speed_t speed;
} speeds[] = {
    {1200, B1200},       {2400, B2400},       {4800, B4800},       {9600, B9600},
    {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
    {230400, B230400},   {460800, B460800},   {500000, B500000},   {576000, B576000},
    {921600, B921600},   {1000000, B1000000}, {1500000, B1500000}, {2000000, B2000000},
    {3000000, B3000000}, {4000000, B4000000},
};

static int baud_speed(uint32_t baud, speed_t *out)
{
    for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
        if (speeds[i].baud == baud) {
            *out = speeds[i].speed;
            return 0;
        }
    }
    return -KITH_EINVAL;
}

int serial_baud_supported(uint32_t baud)
{
    speed_t s;

    return baud_speed(baud, &s) == 0;
}

static const char *role_name(int role)
{
    return role == SERIAL_ROLE_INITIATOR   ? "initiator"
           : role == SERIAL_ROLE_RESPONDER ? "responder"
                                           : "auto";
}

/* ---- Output ---- */

static void update_poll(struct serial_link *l);

/* Room for need more bytes at the end of the output queue. */
static int out_reserve(struct serial_link *l, size_t need)
{
    if (l->out_off == l->out_len)
        l->out_off = l->out_len = 0;
    if (l->out_len + need <= l->out_cap)
        return 0;
    if (l->out_off > 0) {
        memmove(l->out, l->out + l->out_off, l->out_len - l->out_off);
        l->out_len -= l->out_off;
        l->out_off = 0;
    }
    if (l->out_len + need > l->out_cap) {
        size_t cap = l->out_cap * 2 > l->out_len + need ? l->out_cap * 2 : l->out_len + need;
        uint8_t *p = realloc(l->out, cap);

        if (p == NULL)
            return -ENOMEM;
        l->out = p;
        l->out_cap = cap;
    }
    return 0;
}

/* Queue one frame of hdr then body (body may be NULL). */
static int queue_frame(struct serial_link *l, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                       size_t blen)
{
    struct kith_cobs_encoder e;
    size_t n;
    int r;

    if (l->dev == NULL)
        return -EPIPE;
    r = out_reserve(l, KITH_COBS_ENCODED_MAX(hlen + blen));
    if (r < 0)
        return r;
    kith_cobs_encoder_start(&e, l->out + l->out_len, l->out_cap - l->out_len);
    kith_cobs_encoder_add(&e, hdr, hlen);
    if (blen > 0)
        kith_cobs_encoder_add(&e, body, blen);
    r = kith_cobs_encoder_finish(&e, &n);
    if (r < 0)
        return r; /* cannot happen: the room was reserved */
    l->out_len += n;
    l->stats.frames_out++;
    update_poll(l);
    return 0;
}

/* A lone 0x00: ends whatever partial frame the far end may hold. */
static void queue_delimiter(struct serial_link *l)
{
    if (l->dev != NULL && out_reserve(l, 1) == 0) {
        l->out[l->out_len++] = 0;
        update_poll(l);
    }
}

static void send_hello(struct serial_link *l, int confirm)
{
    uint8_t h[HELLO_LEN];

    /* A 0x00 first: whatever partial frame the far end holds (the line
     * was cut, or a flush took our own delimiter) ends before the HELLO
     * rather than swallowing it. An empty frame costs one byte. */
    queue_delimiter(l);

    h[0] = LINK_HELLO;
    h[1] = LINK_VERSION;
    h[2] = (uint8_t)l->cfg.role;
    h[3] = confirm ? HELLO_CONFIRM : 0;
    memcpy(h + 4, l->mine, NONCE);
    if (l->have_theirs)
        memcpy(h + 4 + NONCE, l->theirs, NONCE);
    else
        memset(h + 4 + NONCE, 0, NONCE);
    queue_frame(l, h, sizeof(h), NULL, 0);
}

static void send_close(struct serial_link *l)
{
    uint8_t h[DATA_HDR];

    h[0] = LINK_CLOSE;
    memcpy(h + 1, l->theirs, NONCE);
    queue_frame(l, h, sizeof(h), NULL, 0);
}

/* ---- Link states ---- */

static void on_retry(uv_timer_t *timer);
static void on_hello_timer(uv_timer_t *timer);
static void on_pause_done(uv_timer_t *timer);
static void process(struct serial_link *l);
static void on_kick(uv_timer_t *timer);

static void new_nonce(struct serial_link *l)
{
    static const uint8_t zero[NONCE];

    do
        randombytes_buf(l->mine, NONCE);
    while (memcmp(l->mine, zero, NONCE) == 0);
}

static void start_linking(struct serial_link *l)
{
    l->state = SERIAL_LINKING;
    new_nonce(l);
    send_hello(l, 0);
    uv_timer_start(&l->timer, on_hello_timer, SERIAL_HELLO_MS, SERIAL_HELLO_MS);
}

static void enter_pause(struct serial_link *l, uint32_t ms)
{
    uint64_t now = uv_now(l->loop);

    if (l->hold_until > now && l->hold_until - now > ms)
        ms = (uint32_t)(l->hold_until - now);
    l->state = SERIAL_PAUSED;
    uv_timer_start(&l->timer, on_pause_done, ms, 0);
}

static void on_pause_done(uv_timer_t *timer)
{
    start_linking(timer->data);
}

static void on_hello_timer(uv_timer_t *timer)
{
    send_hello(timer->data, 0);
}

static void on_conn_freed(uv_handle_t *h)
{
    free(h->data);
}

/* Tell the owner the session is over, from the loop. */
static void on_conn_notice(uv_timer_t *timer)
{
    struct serial_conn *c = timer->data;

    if (c->t.on_close != NULL)
        c->t.on_close(&c->t, c->reason);
    uv_close((uv_handle_t *)&c->timer, on_conn_freed);
}

/* End the current session (if any) with reason; the link's state is the
 * caller's business. send_close: tell the far end. */
static void end_session(struct serial_link *l, int reason, int send_close_frame)
{
    struct serial_conn *c = l->conn;
    uint64_t lived;

    if (c == NULL)
        return;
    l->conn = NULL;
    c->l = NULL;
    c->reason = reason;
    lived = uv_now(l->loop) - c->started;
    log_info("serial.session_end", "device=%s reason=%s seconds=%.1f", l->device,
             reason == 0 ? "closed" : kith_errname(reason), (double)lived / 1000.0);
    uv_timer_stop(&c->timer);
    uv_timer_start(&c->timer, on_conn_notice, 0, 0);
    if (reason != 0 && l->dev != NULL) {
        /* The session's unsent frames would only waste the line: drop them,
         * and what the tty still holds; a 0x00 ends a frame cut short. */
        l->out_off = l->out_len = 0;
        (void)tcflush(l->dev->fd, TCOFLUSH);
        queue_delimiter(l);
    }
    if (send_close_frame)
        send_close(l);
    l->have_theirs = 0;
    /* Line noise is expected: start again soon. A session that the owner,
     * the far end or a timeout ended early backs off, so a peer that always
     * ends it at once costs little (a HELLO from the far end cuts the pause
     * short: see on_hello; the far end's own pause then bounds the rate). */
    if ((reason == 0 || reason == -ETIMEDOUT || reason == -EPIPE) && lived < SHORT_SESSION_MS) {
        uint32_t max = l->cfg.retry_max_ms;

        l->pause_ms = l->pause_ms * 2 > max ? max : l->pause_ms * 2;
    } else {
        l->pause_ms = l->cfg.pause_ms;
    }
    if (l->pend_len > l->pend_off)
        uv_timer_start(&l->kick, on_kick, 0, 0);
}

static void on_dev_closed(uv_handle_t *h)
{
    struct serial_dev *dev = h->data;

    close(dev->fd);
    free(dev);
}

static void dev_close(struct serial_link *l)
{
    if (l->dev == NULL)
        return;
    uv_close((uv_handle_t *)&l->dev->poll, on_dev_closed);
    l->dev = NULL;
    l->poll_events = 0;
    l->out_off = l->out_len = 0;
    l->pend_off = l->pend_len = 0;
    kith_cobs_decoder_init(&l->dec, 0);
}

static void go_waiting(struct serial_link *l, int err)
{
    l->state = SERIAL_WAITING;
    if (err != l->last_err)
        log_info("serial.waiting", "device=%s error=%s retry_seconds=%.1f", l->device,
                 kith_errname(err), (double)l->retry_ms / 1000.0);
    l->last_err = err;
    uv_timer_start(&l->timer, on_retry, l->retry_ms, 0);
    l->retry_ms = l->retry_ms * 2 > l->cfg.retry_max_ms ? l->cfg.retry_max_ms : l->retry_ms * 2;
}

/* The device hung up or failed: end the session, close it, wait for it. */
static void lose(struct serial_link *l, int err)
{
    uint64_t open_for = uv_now(l->loop) - l->opened_at;

    log_info("serial.lost", "device=%s error=%s", l->device, kith_errname(err));
    end_session(l, err, 0);
    dev_close(l);
    /* A device that opens and fails at once (a stale pty, a half-gone
     * Bluetooth link) keeps backing off; one that worked starts afresh. */
    if (l->sessions_since_open > 0 || open_for >= SHORT_SESSION_MS)
        l->retry_ms = l->cfg.retry_min_ms;
    l->last_err = 0;
    go_waiting(l, err);
    l->last_err = err;
}

static int dev_open(struct serial_link *l)
{
    struct serial_dev *dev;
    struct termios tio;
    int fd, r;

    fd = open(l->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (tcgetattr(fd, &tio) < 0) {
        r = -errno;
        goto fail;
    }
    /* Raw 8N1: no echo, no line editing, no CR/LF mapping, no XON/XOFF
     * (0x11 and 0x13 are data here); reads return what has arrived. */
    cfmakeraw(&tio);
    tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
    tio.c_cflag |= CS8 | CREAD | CLOCAL;
    if (l->cfg.flow == SERIAL_FLOW_RTSCTS)
        tio.c_cflag |= CRTSCTS;
    tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (cfsetispeed(&tio, l->speed) < 0 || cfsetospeed(&tio, l->speed) < 0 ||
        tcsetattr(fd, TCSANOW, &tio) < 0) {
        r = -errno;
        goto fail;
    }
    /* Keep other programs (ModemManager, a second kithd) off the line. */
    (void)ioctl(fd, TIOCEXCL);
    /* Bytes from before we opened belong to nobody. */
    (void)tcflush(fd, TCIOFLUSH);
    dev = calloc(1, sizeof(*dev));
    if (dev == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    r = uv_poll_init(l->loop, &dev->poll, fd);
    if (r < 0) {
        free(dev);
        goto fail;
    }
    dev->fd = fd;
    dev->l = l;
    dev->poll.data = dev;
    l->dev = dev;
    l->poll_events = 0;
    return 0;
fail:
    close(fd);
    return r;
}

static void on_retry(uv_timer_t *timer)
{
    struct serial_link *l = timer->data;
    int r = dev_open(l);

    if (r < 0) {
        go_waiting(l, r);
        return;
    }
    l->stats.opens++;
    l->opened_at = uv_now(l->loop);
    l->sessions_since_open = 0;
    l->last_err = 0;
    log_info("serial.open", "device=%s baud=%u flow=%s role=%s", l->device, (unsigned)l->cfg.baud,
             l->cfg.flow == SERIAL_FLOW_RTSCTS ? "rtscts" : "none", role_name(l->cfg.role));
    queue_delimiter(l);
    start_linking(l);
}

/* ---- Sessions ---- */

static void on_conn_timer(uv_timer_t *timer);

static void arm_idle(struct serial_conn *c)
{
    if (c->l != NULL && c->ready && !c->paused && !c->closing)
        uv_timer_start(&c->timer, on_conn_timer, c->l->cfg.idle_timeout_ms, 0);
}

/* Which end starts the Noise handshake: an explicit role wins over auto;
 * otherwise (both auto, or both the same) the lower nonce initiates. */
static int pick_initiator(struct serial_link *l)
{
    int mine = l->cfg.role, theirs = l->their_role;

    if (mine != SERIAL_ROLE_AUTO && mine != theirs)
        return mine == SERIAL_ROLE_INITIATOR;
    if (mine == SERIAL_ROLE_AUTO &&
        (theirs == SERIAL_ROLE_INITIATOR || theirs == SERIAL_ROLE_RESPONDER))
        return theirs == SERIAL_ROLE_RESPONDER;
    if (mine != SERIAL_ROLE_AUTO)
        log_warn("serial.role_conflict", "device=%s role=%s", l->device, role_name(mine));
    return memcmp(l->mine, l->theirs, NONCE) < 0;
}

static void start_session(struct serial_link *l)
{
    struct serial_conn *c = calloc(1, sizeof(*c));
    int initiator;

    if (c == NULL) {
        log_warn("serial.no_memory", "device=%s", l->device);
        enter_pause(l, l->cfg.retry_max_ms);
        return;
    }
    uv_timer_stop(&l->timer);
    uv_timer_init(l->loop, &c->timer);
    c->timer.data = c;
    c->l = l;
    c->t.ops = &serial_ops;
    initiator = pick_initiator(l);
    c->t.inbound = !initiator;
    snprintf(c->t.name, sizeof(c->t.name), "serial %.80s", l->device);
    c->started = uv_now(l->loop);
    l->conn = c;
    l->state = SERIAL_SESSION;
    l->stats.sessions++;
    l->sessions_since_open++;
    log_info("serial.linked", "device=%s noise=%s", l->device,
             initiator ? "initiator" : "responder");
    uv_timer_start(&c->timer, on_conn_timer, l->cfg.handshake_timeout_ms, 0);
    l->cfg.on_session(l, &c->t, initiator, l->cfg.arg);
    assert(c->l == NULL || (c->t.on_frame != NULL && c->t.on_close != NULL));
}

/* A transport_close has flushed (or given up): the session is over. */
static void finish_close(struct serial_link *l)
{
    send_close(l);
    end_session(l, 0, 0);
    enter_pause(l, l->pause_ms);
}

static void on_conn_timer(uv_timer_t *timer)
{
    struct serial_conn *c = timer->data;
    struct serial_link *l = c->l;

    if (l == NULL)
        return;
    if (c->closing) {
        /* Linger over: drop what is still queued; the 0x00 ends a frame cut
         * short so the far end's decoder reports it and moves on. */
        l->out_off = l->out_len = 0;
        queue_delimiter(l);
        finish_close(l);
        return;
    }
    log_info(c->ready ? "serial.idle_timeout" : "serial.handshake_timeout", "device=%s", l->device);
    end_session(l, -ETIMEDOUT, 1);
    enter_pause(l, l->pause_ms);
}

static int conn_send(struct transport *t, const uint8_t *frame, size_t len)
{
    struct serial_conn *c = (struct serial_conn *)t;
    struct serial_link *l = c->l;
    uint8_t h[DATA_HDR];
    size_t queued;

    if (len == 0)
        return -KITH_EINVAL;
    if (len > TRANSPORT_FRAME_MAX)
        return -KITH_ETOOBIG;
    if (l == NULL || c->closing)
        return -EPIPE;
    queued = l->out_len - l->out_off;
    if (queued > 0 && queued + len > TRANSPORT_QUEUE_MAX)
        return -ENOBUFS;
    h[0] = LINK_DATA;
    memcpy(h + 1, l->theirs, NONCE);
    return queue_frame(l, h, sizeof(h), frame, len);
}

static size_t conn_queued(const struct transport *t)
{
    const struct serial_conn *c = (const struct serial_conn *)t;

    return c->l == NULL ? 0 : c->l->out_len - c->l->out_off;
}

static void conn_ready(struct transport *t)
{
    struct serial_conn *c = (struct serial_conn *)t;

    if (c->ready || c->l == NULL || c->closing)
        return;
    c->ready = 1;
    if (c->paused)
        uv_timer_stop(&c->timer);
    else
        arm_idle(c);
}

static void conn_pause(struct transport *t, int paused)
{
    struct serial_conn *c = (struct serial_conn *)t;

    if (c->l == NULL || c->closing || c->paused == !!paused)
        return;
    c->paused = !!paused;
    if (c->paused) {
        if (c->ready)
            uv_timer_stop(&c->timer);
        return;
    }
    arm_idle(c);
    /* Deliver what waited, from the loop rather than inside the caller. */
    uv_timer_start(&c->l->kick, on_kick, 0, 0);
}

static void conn_close(struct transport *t)
{
    struct serial_conn *c = (struct serial_conn *)t;
    struct serial_link *l = c->l;

    if (l == NULL || c->closing)
        return;
    c->closing = 1;
    if (l->out_len == l->out_off) {
        finish_close(l);
        return;
    }
    uv_timer_start(&c->timer, on_conn_timer, SERIAL_LINGER_MS, 0);
}

static const struct transport_ops serial_ops = {
    .send = conn_send,
    .queued = conn_queued,
    .ready = conn_ready,
    .pause = conn_pause,
    .close = conn_close,
};

int serial_is_transport(const struct transport *t)
{
    return t != NULL && t->ops == &serial_ops;
}

/* ---- Input ---- */

static void on_hello(struct serial_link *l, const uint8_t *f)
{
    int role = f[2], confirm = f[3] & HELLO_CONFIRM;
    const uint8_t *x = f + 4, *y = f + 4 + NONCE;

    switch (l->state) {
    case SERIAL_LINKING:
        memcpy(l->theirs, x, NONCE);
        l->have_theirs = 1;
        l->their_role = role;
        if (memcmp(y, l->mine, NONCE) == 0) {
            if (!confirm)
                send_hello(l, 1);
            start_session(l);
        } else {
            send_hello(l, 0);
        }
        break;
    case SERIAL_SESSION:
        if (memcmp(x, l->theirs, NONCE) == 0) {
            if (!confirm)
                send_hello(l, 1); /* our confirmation was lost */
            break;
        }
        /* A new nonce: the far end has started over. */
        end_session(l, -ECONNRESET, 0);
        memcpy(l->theirs, x, NONCE);
        l->have_theirs = 1;
        l->their_role = role;
        enter_pause(l, l->pause_ms);
        break;
    case SERIAL_PAUSED:
        memcpy(l->theirs, x, NONCE);
        l->have_theirs = 1;
        l->their_role = role;
        /* The far end is linking: a pause grown by short sessions need not
         * run out (a hold from serial_link_backoff still does). Its own
         * pause bounds how often this can happen. */
        if (uv_timer_get_due_in(&l->timer) > l->cfg.pause_ms)
            enter_pause(l, l->cfg.pause_ms);
        break;
    default:
        break;
    }
}

static void on_link_frame(struct serial_link *l, const uint8_t *f, size_t n)
{
    struct serial_conn *c;

    if (f[0] == LINK_HELLO && n == HELLO_LEN && f[1] == LINK_VERSION) {
        on_hello(l, f);
        return;
    }
    if (n < DATA_HDR || memcmp(f + 1, l->mine, NONCE) != 0)
        return; /* an unknown type, or from another session: not ours */
    if (f[0] == LINK_CLOSE && n == DATA_HDR && l->state == SERIAL_SESSION) {
        end_session(l, -EPIPE, 0);
        enter_pause(l, l->pause_ms);
        return;
    }
    if (f[0] != LINK_DATA || n == DATA_HDR)
        return;
    /* Data for us while still linking: the far end has seen our nonce and
     * is linked (its confirmation was lost), so we are too. */
    if (l->state == SERIAL_LINKING && l->have_theirs)
        start_session(l);
    c = l->conn;
    if (l->state != SERIAL_SESSION || c == NULL || c->closing)
        return;
    arm_idle(c);
    c->t.on_frame(&c->t, f + DATA_HDR, n - DATA_HDR);
}

static void on_bad_frame(struct serial_link *l, int err)
{
    struct serial_conn *c = l->conn;

    l->stats.bad_frames++;
    if (l->state != SERIAL_SESSION || c == NULL || c->closing) {
        log_debug("serial.bad_frame", "device=%s error=%s state=idle", l->device,
                  kith_errname(err));
        return;
    }
    log_info("serial.bad_frame", "device=%s error=%s", l->device,
             err == -EBADMSG ? "crc" : kith_errname(err));
    end_session(l, err == -KITH_ETOOBIG ? -KITH_ETOOBIG : -KITH_EENCODING, 1);
    enter_pause(l, l->pause_ms);
}

/* Decode and act on buffered input until it runs out or a session pauses. */
static void process(struct serial_link *l)
{
    while (l->dev != NULL && l->pend_off < l->pend_len && (l->conn == NULL || !l->conn->paused)) {
        const uint8_t *f = NULL;
        size_t used = 0, n = 0;
        int r = kith_cobs_decode(&l->dec, l->pend + l->pend_off, l->pend_len - l->pend_off, &used,
                                 &f, &n);

        l->pend_off += used;
        if (r == 1) {
            l->stats.frames_in++;
            on_link_frame(l, f, n);
        } else if (r < 0) {
            on_bad_frame(l, r);
        }
    }
    if (l->pend_off == l->pend_len)
        l->pend_off = l->pend_len = 0;
    update_poll(l);
}

static void on_kick(uv_timer_t *timer)
{
    process(timer->data);
}

static void do_read(struct serial_link *l, int hangup)
{
    struct serial_dev *dev = l->dev;

    for (int i = 0; i < 8 && l->dev == dev; i++) {
        ssize_t n;

        if (l->pend_off > 0) {
            memmove(l->pend, l->pend + l->pend_off, l->pend_len - l->pend_off);
            l->pend_len -= l->pend_off;
            l->pend_off = 0;
        }
        if (l->pend_len >= PEND_MAX)
            break;
        n = read(dev->fd, l->pend + l->pend_len, READ_CHUNK);
        if (n > 0) {
            l->stats.bytes_in += (uint64_t)n;
            l->pend_len += (size_t)n;
            process(l);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        lose(l, n == 0 ? -EPIPE : -errno);
        return;
    }
    /* A hang-up with nothing left to read: poll would report it forever. */
    if (hangup && l->dev == dev)
        lose(l, -EPIPE);
}

static void do_write(struct serial_link *l)
{
    struct serial_dev *dev = l->dev;
    struct serial_conn *c;

    while (l->out_off < l->out_len) {
        ssize_t n = write(dev->fd, l->out + l->out_off, l->out_len - l->out_off);

        if (n > 0) {
            l->out_off += (size_t)n;
            l->stats.bytes_out += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        lose(l, n == 0 ? -EIO : -errno);
        return;
    }
    if (l->out_off < l->out_len) {
        update_poll(l);
        return;
    }
    l->out_off = l->out_len = 0;
    update_poll(l);
    c = l->conn;
    if (c != NULL && c->closing)
        finish_close(l);
    else if (c != NULL && c->t.on_drain != NULL)
        c->t.on_drain(&c->t);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct serial_dev *dev = h->data;
    struct serial_link *l = dev->l;

    if (l->dev != dev || l->stopping)
        return;
    if (status < 0) {
        lose(l, status == UV_EBADF ? -EIO : status);
        return;
    }
    if (events & UV_WRITABLE) {
        do_write(l);
        if (l->dev != dev || l->stopping)
            return;
    }
    if (events & (UV_READABLE | UV_DISCONNECT))
        do_read(l, events & UV_DISCONNECT);
}

static void update_poll(struct serial_link *l)
{
    int ev;

    if (l->dev == NULL || l->stopping)
        return;
    ev = UV_DISCONNECT;
    if (l->pend_len < PEND_MAX)
        ev |= UV_READABLE;
    if (l->out_len > l->out_off)
        ev |= UV_WRITABLE;
    if (ev == l->poll_events)
        return;
    if (uv_poll_start(&l->dev->poll, ev, on_poll) == 0)
        l->poll_events = ev;
}

/* ---- The link ---- */

static void on_link_handle_closed(uv_handle_t *h)
{
    struct serial_link *l = h->data;

    if (--l->handles == 0) {
        free(l->out);
        free(l->pend);
        free(l);
    }
}

int serial_link_start(uv_loop_t *loop, const struct serial_config *cfg, struct serial_link **out)
{
    struct serial_link *l;
    speed_t speed;
    size_t n;

    *out = NULL;
    if (cfg->device == NULL || cfg->on_session == NULL)
        return -KITH_EINVAL;
    n = strlen(cfg->device);
    if (n == 0 || n >= SERIAL_PATH_MAX)
        return -KITH_EINVAL;
    if (baud_speed(cfg->baud == 0 ? SERIAL_BAUD_DEFAULT : cfg->baud, &speed) < 0)
        return -KITH_EINVAL;
    if (cfg->role > SERIAL_ROLE_RESPONDER || cfg->flow > SERIAL_FLOW_RTSCTS)
        return -KITH_EINVAL;
    l = malloc(sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    memset(l, 0, offsetof(struct serial_link, dec));
    l->pend = malloc(PEND_MAX + READ_CHUNK);
    if (l->pend == NULL) {
        free(l);
        return -ENOMEM;
    }
    kith_cobs_decoder_init(&l->dec, 0);
    l->loop = loop;
    l->cfg = *cfg;
    memcpy(l->device, cfg->device, n + 1);
    l->cfg.device = l->device;
    l->speed = speed;
    if (l->cfg.baud == 0)
        l->cfg.baud = SERIAL_BAUD_DEFAULT;
    if (l->cfg.handshake_timeout_ms == 0)
        l->cfg.handshake_timeout_ms = SERIAL_HANDSHAKE_TIMEOUT_DEFAULT_MS;
    if (l->cfg.idle_timeout_ms == 0)
        l->cfg.idle_timeout_ms = SERIAL_IDLE_TIMEOUT_DEFAULT_MS;
    if (l->cfg.retry_min_ms == 0)
        l->cfg.retry_min_ms = SERIAL_RETRY_MIN_DEFAULT_MS;
    if (l->cfg.retry_max_ms == 0)
        l->cfg.retry_max_ms = SERIAL_RETRY_MAX_DEFAULT_MS;
    if (l->cfg.retry_max_ms < l->cfg.retry_min_ms)
        l->cfg.retry_max_ms = l->cfg.retry_min_ms;
    if (l->cfg.pause_ms == 0)
        l->cfg.pause_ms = SERIAL_PAUSE_DEFAULT_MS;
    l->retry_ms = l->cfg.retry_min_ms;
    l->pause_ms = l->cfg.pause_ms;
    uv_timer_init(loop, &l->timer);
    uv_timer_init(loop, &l->kick);
    l->timer.data = l->kick.data = l;
    l->handles = 2;
    l->state = SERIAL_WAITING;
    /* The first attempt runs from the loop, like every later one. */
    uv_timer_start(&l->timer, on_retry, 0, 0);
    *out = l;
    return 0;
}

void serial_link_stop(struct serial_link *l)
{
    if (l == NULL || l->stopping)
        return;
    l->stopping = 1;
    end_session(l, -ECANCELED, 0);
    dev_close(l);
    l->state = SERIAL_STOPPED;
    log_info("serial.stopped", "device=%s", l->device);
    uv_close((uv_handle_t *)&l->timer, on_link_handle_closed);
    uv_close((uv_handle_t *)&l->kick, on_link_handle_closed);
}

void serial_link_backoff(struct serial_link *l, uint32_t ms)
{
    uint64_t now = uv_now(l->loop);

    if (now + ms > l->hold_until)
        l->hold_until = now + ms;
    if (l->state == SERIAL_PAUSED)
        enter_pause(l, ms);
}

void serial_link_kick(struct serial_link *l)
{
    l->hold_until = 0;
    l->pause_ms = l->cfg.pause_ms;
    if (l->state == SERIAL_PAUSED)
        enter_pause(l, 0);
}

enum serial_state serial_link_state(const struct serial_link *l)
{
    return l->state;
}

const char *serial_link_device(const struct serial_link *l)
{
    return l->device;
}

void serial_link_get_stats(const struct serial_link *l, struct serial_stats *out)
{
    *out = l->stats;
}

/* ---- Parsing ---- */

int serial_parse_spec(const char *spec, char *dev, size_t cap, uint32_t *baud)
{
    const char *at = strrchr(spec, '@');
    size_t n = at != NULL ? (size_t)(at - spec) : strlen(spec);
    uint32_t b = SERIAL_BAUD_DEFAULT;

    if (n == 0 || n >= cap)
        return -KITH_EINVAL;
    if (at != NULL) {
        uint64_t v = 0;
        const char *p = at + 1;

        if (*p == '\0' || strlen(p) > 8)
            return -KITH_EINVAL;
        for (; *p != '\0'; p++) {
            if (*p < '0' || *p > '9')
                return -KITH_EINVAL;
            v = v * 10 + (uint64_t)(*p - '0');
        }
        b = (uint32_t)v;
        if (!serial_baud_supported(b))
            return -KITH_EINVAL;
    }
    memcpy(dev, spec, n);
    dev[n] = '\0';
    *baud = b;
    return 0;
}

int serial_parse_flow(const char *s, enum serial_flow *out)
{
    if (strcmp(s, "none") == 0)
        *out = SERIAL_FLOW_NONE;
    else if (strcmp(s, "rtscts") == 0)
        *out = SERIAL_FLOW_RTSCTS;
    else
        return -KITH_EINVAL;
    return 0;
}

int serial_parse_role(const char *s, enum serial_role *out)
{
    if (strcmp(s, "auto") == 0)
        *out = SERIAL_ROLE_AUTO;
    else if (strcmp(s, "initiator") == 0)
        *out = SERIAL_ROLE_INITIATOR;
    else if (strcmp(s, "responder") == 0)
        *out = SERIAL_ROLE_RESPONDER;
    else
        return -KITH_EINVAL;
    return 0;
}
