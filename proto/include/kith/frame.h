/*
 * frame: length-prefixed framing for byte streams (the TCP transport).
 *
 *   frame = length u16 BE | payload[length]      (1 <= length <= 65535)
 *
 * One frame carries one Noise message, so the largest payload is
 * KITH_FRAME_MAX = KITH_NOISE_MSG_MAX. A zero length is refused: no message of
 * the session is empty, and refusing it stops a peer from keeping a
 * connection busy with frames that say nothing.
 *
 * The decoder is incremental and pure: feed it whatever the socket gave, in
 * any chunks, and it hands back whole frames one at a time. It owns a buffer
 * of KITH_FRAME_MAX bytes for frames that arrive split across chunks; a frame
 * that lies whole inside one chunk is handed back in place, with no copy.
 */
#ifndef KITH_FRAME_H
#define KITH_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"

#define KITH_FRAME_HEADER 2
#define KITH_FRAME_MAX 65535

/* Decoder state. Fields are private; a caller allocates it (it holds a
 * 64 KiB buffer, so not on a small stack) and calls kith_frame_decoder_init. */
struct kith_frame_decoder {
    uint8_t buf[KITH_FRAME_MAX];
    uint8_t hdr[KITH_FRAME_HEADER];
    size_t max;      /* largest payload accepted */
    size_t hdr_have; /* header bytes seen of the frame in progress */
    size_t need;     /* payload length of the frame in progress, once known */
    size_t have;     /* payload bytes buffered so far */
    int error;       /* sticky: 0 or the first error */
};

/*
 * Start (or restart) a decoder. max: the largest payload to accept, 1 to
 * KITH_FRAME_MAX; 0 means KITH_FRAME_MAX. A smaller max lets a caller hold a
 * stranger to short frames (e.g. during a handshake). Never fails; a max
 * over KITH_FRAME_MAX is taken as KITH_FRAME_MAX.
 */
void kith_frame_decoder_init(struct kith_frame_decoder *d, size_t max);

/*
 * Consume bytes from in (len bytes) until one frame is complete or the input
 * runs out. *used is set to the number of bytes consumed (always, also on
 * error). When a frame is complete, *frame and *frame_len describe its
 * payload: it points either into in or into the decoder, and stays valid
 * until the next call on d or until in is freed, whichever is first; copy it
 * out to keep it. Call again with in + *used for the rest of the chunk.
 *
 * Returns 1 (a frame is out), 0 (all len bytes consumed, no frame yet),
 * -KITH_EENCODING (a zero-length frame), -KITH_ETOOBIG (a length over the
 * decoder's max). Errors are sticky: once failed, every later call returns
 * the same error with *used = 0; the stream cannot be resynchronised, so the
 * caller drops the connection.
 */
int kith_frame_decode(struct kith_frame_decoder *d, const uint8_t *in, size_t len, size_t *used,
                      const uint8_t **frame, size_t *frame_len) __attribute__((warn_unused_result));

/*
 * Write the 2-byte header for a payload of len bytes into hdr, for callers
 * that send header and payload as separate buffers (writev).
 * Returns 0, -KITH_EINVAL (len 0) or -KITH_ETOOBIG (len > KITH_FRAME_MAX).
 */
int kith_frame_header(size_t len, uint8_t hdr[KITH_FRAME_HEADER]);

/*
 * Write one whole frame (header and a copy of payload) into out (capacity
 * cap; len + KITH_FRAME_HEADER is enough); *out_len is its size. payload and
 * out must not overlap. Returns 0, -KITH_EINVAL (len 0), -KITH_ETOOBIG
 * (len > KITH_FRAME_MAX) or -KITH_EBUFSIZE. On error out is unchanged.
 */
int kith_frame_encode(const uint8_t *payload, size_t len, uint8_t *out, size_t cap,
                      size_t *out_len);

#endif
