/*
 * transport: one connection to a peer that carries whole frames, whatever
 * the medium (TCP now, a serial line later). The peer session uses only this
 * interface; tcp.c (and serial.c) create transports and free them.
 *
 * Life of a transport:
 *   1. The medium hands it over (tcp's accept or dial callback). In that
 *      callback the owner sets on_frame and on_close (required), on_drain
 *      (optional) and data. No frame arrives before the callback returns.
 *   2. Frames arrive through on_frame; the owner sends with transport_send.
 *      Until transport_ready() is called the transport closes itself
 *      handshake_timeout after it connected; after that it closes itself
 *      when no frame has arrived for idle_timeout (the session pings).
 *   3. It ends through transport_close(), a timeout, the peer hanging up, a
 *      framing error or a socket error. on_close then fires exactly once,
 *      from the loop (never from inside transport_close or transport_send),
 *      and after it returns the transport is freed: drop every pointer to it.
 *      After transport_close no on_frame or on_drain fires.
 *
 * Everything runs on the loop thread. Callbacks may call transport_send and
 * transport_close on any transport.
 */
#ifndef KITH_TRANSPORT_H
#define KITH_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "kith/frame.h"

/* The largest frame every transport carries: one Noise message. */
#define TRANSPORT_FRAME_MAX KITH_FRAME_MAX
/* Room for a name such as "tcp-in [fe80::1%eth0]:51234". */
#define TRANSPORT_NAME_MAX 96
/* transport_send refuses more once this much is waiting to be written. */
#define TRANSPORT_QUEUE_MAX ((size_t)8 * 1024 * 1024)

struct transport;

struct transport_ops {
    int (*send)(struct transport *t, const uint8_t *frame, size_t len);
    size_t (*queued)(const struct transport *t);
    void (*ready)(struct transport *t);
    void (*pause)(struct transport *t, int paused);
    void (*close)(struct transport *t);
};

struct transport {
    const struct transport_ops *ops; /* the medium's; private */
    /* For logs: the medium, the direction and the far end. Never a key. */
    char name[TRANSPORT_NAME_MAX];
    int inbound; /* 1 if the peer connected to us */

    /*
     * Set by the owner (see above). frame: len bytes (1..TRANSPORT_FRAME_MAX)
     * valid only during the call. reason in on_close: 0 after
     * transport_close; -EPIPE the peer hung up; -ETIMEDOUT a handshake or
     * idle timeout; -ECANCELED the medium was stopped (node shutting down);
     * -KITH_EENCODING or -KITH_ETOOBIG a bad frame (garbage on the line);
     * another -errno from the socket. on_drain: everything queued has been
     * handed to the kernel (for flow control, with transport_queued).
     */
    void (*on_frame)(struct transport *t, const uint8_t *frame, size_t len);
    void (*on_close)(struct transport *t, int reason);
    void (*on_drain)(struct transport *t);
    void *data;
};

/*
 * Queue one frame (len bytes, copied: the caller keeps frame). Frames go out
 * in order. Returns 0, -KITH_EINVAL (len 0), -KITH_ETOOBIG (len over
 * TRANSPORT_FRAME_MAX), -ENOBUFS (TRANSPORT_QUEUE_MAX bytes already queued:
 * wait for on_drain), -EPIPE (the transport is closing) or -ENOMEM. A failed
 * send changes nothing; a write that fails later closes the transport.
 */
static inline int transport_send(struct transport *t, const uint8_t *frame, size_t len)
{
    return t->ops->send(t, frame, len);
}

/* Bytes queued and not yet handed to the kernel. */
static inline size_t transport_queued(const struct transport *t)
{
    return t->ops->queued(t);
}

/* The handshake succeeded: stop the handshake timeout, start the idle one. */
static inline void transport_ready(struct transport *t)
{
    t->ops->ready(t);
}

/* Stop (paused = 1) or restart (0) delivering frames, for a session whose
 * work queue is full. While paused the peer's sends back up in the kernel
 * and the idle timeout does not run out on our account: it is restarted on
 * resume. */
static inline void transport_pause(struct transport *t, int paused)
{
    t->ops->pause(t, paused);
}

/* Close: frames already queued are still written (for at most a few
 * seconds), then on_close(t, 0) fires. Calling it again does nothing. */
static inline void transport_close(struct transport *t)
{
    t->ops->close(t);
}

#endif
