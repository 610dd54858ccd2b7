/*
 * kith_serial_bench: raw throughput of the serial transport (node/serial.c)
 * over two devices joined by a cable or by kith-serial-relay. Two links run
 * in this process, one on each device; once linked, side a streams frames
 * of --frame bytes to side b for --seconds, keeping the transport's queue
 * topped up (no stop-and-wait), and the program prints the frame bytes
 * delivered per second as a fraction of the line rate (baud / 10 for 8N1),
 * the sessions it took and the bad frames seen.
 *
 *   kith-serial-relay --baud 115200 --dir /tmp/r &
 *   kith_serial_bench /tmp/r/a /tmp/r/b --baud 115200 --seconds 20
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "log.h"
#include "serial.h"

struct side {
    struct transport *t;
    uint64_t bytes, frames;
    int sessions;
};

static struct side sa, sb;
static size_t frame_len = 4096;
static uint8_t frame[65535];

static void top_up(struct transport *t)
{
    /* Two frames ahead of the line is enough to keep it busy. */
    while (transport_queued(t) < 2 * frame_len + 1024)
        if (transport_send(t, frame, frame_len) != 0)
            break;
}

static void on_frame(struct transport *t, const uint8_t *f, size_t len)
{
    struct side *s = t->data;

    s->bytes += len;
    s->frames++;
}

static void on_drain(struct transport *t)
{
    if (t->data == &sa)
        top_up(t);
}

static void on_close(struct transport *t, int reason)
{
    struct side *s = t->data;

    if (s->t == t)
        s->t = NULL;
}

static void on_session(struct serial_link *l, struct transport *t, int initiator, void *arg)
{
    struct side *s = arg;

    s->t = t;
    s->sessions++;
    t->data = s;
    t->on_frame = on_frame;
    t->on_close = on_close;
    t->on_drain = on_drain;
    transport_ready(t);
}

static uint64_t t0, t_end;
static struct serial_link *la, *lb;
static int started;
static struct serial_stats st_a, st_b;

static void on_tick(uv_timer_t *timer)
{
    uv_loop_t *loop = timer->loop;

    if (!started && sa.t != NULL && sb.t != NULL) {
        started = 1;
        sb.bytes = 0;
        t0 = uv_now(loop);
    }
    if (started && sa.t != NULL)
        top_up(sa.t);
    if (started && uv_now(loop) - t0 >= t_end) {
        serial_link_get_stats(la, &st_a);
        serial_link_get_stats(lb, &st_b);
        serial_link_stop(la);
        serial_link_stop(lb);
        uv_close((uv_handle_t *)timer, NULL);
    }
}

int main(int argc, char **argv)
{
    struct serial_config c;
    uv_loop_t *loop = uv_default_loop();
    uv_timer_t tick;
    uint32_t baud = 115200;
    double seconds = 20, rate;

    if (argc < 3) {
        fprintf(stderr, "usage: kith_serial_bench DEV_A DEV_B [--baud N] [--seconds N] "
                        "[--frame BYTES]\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--baud") == 0)
            baud = (uint32_t)atol(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--frame") == 0)
            frame_len = (size_t)atol(argv[i + 1]);
    }
    if (frame_len == 0 || frame_len > sizeof(frame))
        return 2;
    for (size_t i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i * 131 + 7);
    log_set_level(LOG_WARN);
    memset(&c, 0, sizeof(c));
    c.baud = baud;
    c.on_session = on_session;
    c.device = argv[1];
    c.arg = &sa;
    if (serial_link_start(loop, &c, &la) != 0)
        return 1;
    c.device = argv[2];
    c.arg = &sb;
    if (serial_link_start(loop, &c, &lb) != 0)
        return 1;
    t_end = (uint64_t)(seconds * 1000);
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    uv_run(loop, UV_RUN_DEFAULT);
    rate = (double)sb.bytes / seconds;
    printf("frame=%zu baud=%u seconds=%.1f delivered=%llu bytes rate=%.0f B/s "
           "line=%.0f B/s fraction=%.3f sessions=%d bad_frames=%llu line_bytes=%llu\n",
           frame_len, (unsigned)baud, seconds, (unsigned long long)sb.bytes, rate,
           (double)baud / 10.0, rate / ((double)baud / 10.0), sb.sessions,
           (unsigned long long)(st_a.bad_frames + st_b.bad_frames),
           (unsigned long long)st_a.bytes_out);
    uv_loop_close(loop);
    return 0;
}
