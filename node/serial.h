/*
 * serial: the serial-line transport (a Bluetooth RFCOMM device such as
 * /dev/rfcomm0, a USB serial adapter, a pseudo-terminal in tests). A
 * struct serial_link owns one device path and keeps it working for as long
 * as it runs: it opens the device (raw 8N1 at the configured baud, flow
 * control none or RTS/CTS), waits with backoff while the device is missing
 * or vanishes (Bluetooth drops), and runs sessions over it one after
 * another, each handed to the owner as a struct transport (transport.h), so
 * the peer session code runs over it exactly as over TCP.
 *
 * On the line each frame is COBS + CRC-32C (kith/cobs.h). A line has no
 * connect and no hang-up that both ends see, so the link runs a tiny
 * protocol of its own around sessions (proto/PROTOCOL.md, "Serial framing"):
 * both ends send LINK-HELLO frames with a fresh random nonce until each
 * has seen the other's, and session data carries the receiver's nonce, so
 * a frame left over from an earlier session is never taken for one of the
 * current session. The nonces also settle which end starts the Noise
 * handshake when both are configured `auto`: the lower nonce initiates.
 *
 * A corrupt frame (bad CRC, broken COBS, over the limit) ends the session
 * (on_close with -KITH_EENCODING or -KITH_ETOOBIG) and the link starts a
 * fresh one after a short pause; the device stays open. A hang-up or I/O
 * error ends the session (-EPIPE, -EIO or another -errno), closes the
 * device and waits for it to come back.
 *
 * Log lines, one per state change: serial.waiting, serial.open,
 * serial.linked, serial.session_end, serial.bad_frame, serial.lost,
 * serial.stopped, each with device=PATH.
 *
 * Everything runs on the loop thread. Handles are freed only in their close
 * callbacks: after serial_link_stop, run the loop until it is empty.
 */
#ifndef KITH_SERIAL_H
#define KITH_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "transport.h"

#define SERIAL_BAUD_DEFAULT 115200
#define SERIAL_RETRY_MIN_DEFAULT_MS 1000 /* first retry of a missing device */
#define SERIAL_RETRY_MAX_DEFAULT_MS 30000
#define SERIAL_PAUSE_DEFAULT_MS 100 /* between one session and the next */
#define SERIAL_HELLO_MS 1000        /* LINK-HELLO interval while linking */
#define SERIAL_HANDSHAKE_TIMEOUT_DEFAULT_MS 15000
#define SERIAL_IDLE_TIMEOUT_DEFAULT_MS 120000
#define SERIAL_LINGER_MS 5000 /* how long transport_close waits for queued frames */
#define SERIAL_PATH_MAX 256
/* Frames carried by a session, for the session to size its batches: on a
 * noisy line a frame that is lost costs the session, so smaller is safer. */
#define SERIAL_BATCH_HINT 4096

enum serial_flow { SERIAL_FLOW_NONE = 0, SERIAL_FLOW_RTSCTS = 1 };

/* Which end starts the Noise handshake. auto: decided per session from the
 * link nonces (the lower initiates). An explicit role wins over auto; two
 * ends configured the same way fall back to the nonces (and a warning). */
enum serial_role { SERIAL_ROLE_AUTO = 0, SERIAL_ROLE_INITIATOR = 1, SERIAL_ROLE_RESPONDER = 2 };

enum serial_state {
    SERIAL_WAITING = 1, /* the device is missing or would not open; retrying */
    SERIAL_LINKING,     /* open, exchanging LINK-HELLO */
    SERIAL_SESSION,     /* a transport is out */
    SERIAL_PAUSED,      /* between two sessions */
    SERIAL_STOPPED,
};

struct serial_link;

/* A session is ready on the link: set t->on_frame, t->on_close (and
 * optionally on_drain, data) before returning, then run the peer session
 * over t with the given Noise role (initiator 1 or 0). */
typedef void (*serial_session_cb)(struct serial_link *l, struct transport *t, int initiator,
                                  void *arg);

struct serial_config {
    const char *device;    /* path, copied; at most SERIAL_PATH_MAX - 1 bytes */
    uint32_t baud;         /* 0 = SERIAL_BAUD_DEFAULT; must be a standard rate */
    enum serial_flow flow; /* RTS/CTS needs the lines wired (USB cables: often not) */
    enum serial_role role;
    uint32_t handshake_timeout_ms; /* 0 = default, as tcp.h */
    uint32_t idle_timeout_ms;      /* 0 = default, as tcp.h */
    uint32_t retry_min_ms;         /* 0 = SERIAL_RETRY_MIN_DEFAULT_MS; doubles */
    uint32_t retry_max_ms;         /* 0 = SERIAL_RETRY_MAX_DEFAULT_MS */
    uint32_t pause_ms;             /* 0 = SERIAL_PAUSE_DEFAULT_MS */
    serial_session_cb on_session;  /* required */
    void *arg;
};

/* Counters since the link started. */
struct serial_stats {
    uint64_t bytes_in, bytes_out;   /* on the line */
    uint64_t frames_in, frames_out; /* good frames, link frames included */
    uint64_t bad_frames;            /* CRC, COBS or size errors */
    uint64_t sessions;              /* transports handed out */
    uint64_t opens;                 /* times the device was opened */
};

/*
 * Start a link: the first open is tried from the loop right away. Returns
 * 0, -KITH_EINVAL (no device or on_session, a path too long, a baud rate
 * the system has no constant for) or -ENOMEM. On success *out is the
 * caller's: serial_link_stop().
 */
int serial_link_start(uv_loop_t *loop, const struct serial_config *cfg, struct serial_link **out);

/*
 * Stop: a session's on_close fires with -ECANCELED (from the loop), the
 * device is closed, and l is freed once its handles have closed. l must not
 * be used after this. NULL is fine.
 */
void serial_link_stop(struct serial_link *l);

/* Hold off the next session for at least ms from now (e.g. the manager
 * backs off a peer that misbehaved). The current session is not touched. */
void serial_link_backoff(struct serial_link *l, uint32_t ms);

/* Something changed that may make a session worth having at once (this
 * node joined a group): forget the grown pause and any hold, and if the
 * link is pausing, start linking now. A session running is not touched. */
void serial_link_kick(struct serial_link *l);

enum serial_state serial_link_state(const struct serial_link *l);
const char *serial_link_device(const struct serial_link *l);
void serial_link_get_stats(const struct serial_link *l, struct serial_stats *out);

/* 1 if t was made by a serial link (so the session can size its batches
 * with SERIAL_BATCH_HINT), else 0. */
int serial_is_transport(const struct transport *t);

/*
 * Parse "DEVICE" or "DEVICE@BAUD" (kithd --serial /dev/rfcomm0@115200) into
 * dev (capacity cap) and *baud (SERIAL_BAUD_DEFAULT when not given).
 * Returns 0 or -KITH_EINVAL (empty device, a path too long for cap, a baud
 * that is not a supported rate); on error nothing is changed.
 */
int serial_parse_spec(const char *spec, char *dev, size_t cap, uint32_t *baud);

/* "none" / "rtscts" -> *out. Returns 0 or -KITH_EINVAL. */
int serial_parse_flow(const char *s, enum serial_flow *out);

/* "auto" / "initiator" / "responder" -> *out. Returns 0 or -KITH_EINVAL. */
int serial_parse_role(const char *s, enum serial_role *out);

/* 1 if baud is a rate the tty layer can be set to, else 0. */
int serial_baud_supported(uint32_t baud);

#endif
