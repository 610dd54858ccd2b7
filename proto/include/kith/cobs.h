/*
 * cobs: framing for serial lines (a Bluetooth RFCOMM device, a USB serial
 * cable, a pseudo-terminal in tests). Byte streams there have no packet
 * boundaries and no error detection, and bytes get flipped or lost, so each
 * frame is
 *
 *   COBS(payload | crc32c(payload) u32 LE) | 0x00
 *
 * COBS (Consistent Overhead Byte Stuffing, Cheshire and Baker 1999) removes
 * every 0x00 from the frame at a cost of at most one byte in 254, so 0x00
 * only ever marks the end of a frame and a receiver that lost its place
 * finds the next frame at the next 0x00. The CRC is CRC-32C (Castagnoli,
 * reflected, init and xorout 0xFFFFFFFF: the iSCSI one), which catches every
 * burst of up to 32 flipped bits. proto/PROTOCOL.md ("Serial framing") is
 * the normative description, with known-answer vectors.
 *
 * The decoder is incremental and pure: feed it whatever the device gave, in
 * any chunks. It hands back whole good frames, and reports each bad one (CRC
 * mismatch, a frame over the limit, broken COBS) once, then resynchronises
 * at the next 0x00 by itself: errors are not sticky. Empty frames (0x00 0x00)
 * are idle filler and are skipped without a word.
 *
 * The encoder writes into a caller buffer, incrementally so a frame can be
 * built from a header and a body without copying them together first.
 */
#ifndef KITH_COBS_H
#define KITH_COBS_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"
#include "kith/frame.h"

#define KITH_COBS_CRC_BYTES 4
/* The largest payload a frame carries: one Noise message (KITH_FRAME_MAX)
 * and room for the serial link's own header (node/serial.c). */
#define KITH_COBS_PAYLOAD_MAX (KITH_FRAME_MAX + 16)

/* The most bytes one frame of a len-byte payload takes on the line: the
 * payload and CRC, one COBS code byte per 254 bytes and one more, and the
 * 0x00 delimiter. */
#define KITH_COBS_ENCODED_MAX(len)                                                                 \
    ((len) + KITH_COBS_CRC_BYTES + ((len) + KITH_COBS_CRC_BYTES) / 254 + 2)

/* CRC-32C of len bytes of p, as a whole (init and xorout applied). Pure. */
uint32_t kith_crc32c(const uint8_t *p, size_t len);

/* For a CRC computed in pieces: start with crc = 0, then
 * crc = kith_crc32c_update(crc, piece, n) for each piece; the result equals
 * kith_crc32c over the concatenation. */
uint32_t kith_crc32c_update(uint32_t crc, const uint8_t *p, size_t len);

/* ---- Encoder ---- */

/* Encoder state; fields are private. */
struct kith_cobs_encoder {
    uint8_t *out;
    size_t cap;
    size_t pos;      /* next byte to write */
    size_t code_pos; /* where the open block's code byte goes */
    uint8_t code;    /* 1 + data bytes in the open block */
    uint32_t crc;
    size_t len; /* payload bytes added */
    int error;  /* sticky: 0 or -KITH_EBUFSIZE */
};

/* Start a frame in out (capacity cap; KITH_COBS_ENCODED_MAX(payload length)
 * is always enough). Never fails; a cap too small shows at finish. */
void kith_cobs_encoder_start(struct kith_cobs_encoder *e, uint8_t *out, size_t cap);

/* Append len payload bytes. p must not overlap out. */
void kith_cobs_encoder_add(struct kith_cobs_encoder *e, const uint8_t *p, size_t len);

/*
 * Append the CRC and the delimiter. *out_len is the frame's size on the line.
 * Returns 0, -KITH_EINVAL (no payload added), -KITH_ETOOBIG (payload over
 * KITH_COBS_PAYLOAD_MAX) or -KITH_EBUFSIZE (out was too small; its contents
 * are then unspecified and *out_len is 0).
 */
int kith_cobs_encoder_finish(struct kith_cobs_encoder *e, size_t *out_len);

/* One frame of payload (1..KITH_COBS_PAYLOAD_MAX bytes) into out, in one
 * call. Returns as kith_cobs_encoder_finish. */
int kith_cobs_encode(const uint8_t *payload, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Plain COBS of len bytes of in (0 or more; no CRC, no delimiter) into out
 * (capacity cap; len + len / 254 + 1 is enough): the building block of a
 * frame, exposed for known-answer tests and tools. Returns 0 or
 * -KITH_EBUFSIZE (*out_len is then 0).
 */
int kith_cobs_stuff(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* ---- Decoder ---- */

/* Decoder state. Fields are private; a caller allocates it (it holds a
 * buffer of about 64 KiB, so not on a small stack) and calls
 * kith_cobs_decoder_init. */
struct kith_cobs_decoder {
    uint8_t buf[KITH_COBS_PAYLOAD_MAX + KITH_COBS_CRC_BYTES];
    size_t max;    /* largest payload accepted */
    size_t have;   /* decoded bytes of the frame in progress */
    size_t remain; /* data bytes left in the current COBS block */
    int started;   /* a byte of this frame has been seen */
    int zero;      /* the block just ended owes a 0x00 if another follows */
    int last_ff;   /* the current block's code is 0xFF (no implied 0x00) */
    int skipping;  /* a bad frame was reported: drop bytes to the next 0x00 */
};

/*
 * Start (or restart) a decoder. max: the largest payload to accept, 1 to
 * KITH_COBS_PAYLOAD_MAX; 0 or more means KITH_COBS_PAYLOAD_MAX. Never fails.
 */
void kith_cobs_decoder_init(struct kith_cobs_decoder *d, size_t max);

/*
 * Consume bytes from in (len bytes) until one frame is complete, a bad frame
 * is found, or the input runs out. *used is set to the bytes consumed
 * (always). Call again with in + *used for the rest.
 *
 * Returns:
 *   1  a good frame: *frame and *frame_len give its payload (CRC removed),
 *      inside the decoder, valid until the next call on d;
 *   0  all len bytes consumed, no frame complete;
 *   -EBADMSG        a frame whose CRC does not match (reported at its 0x00);
 *   -KITH_ETOOBIG   a frame whose payload grows over max (reported at once;
 *                   the rest of it, up to the next 0x00, is dropped);
 *   -KITH_EENCODING broken COBS (a 0x00 inside a block: the frame was cut
 *                   short, e.g. a byte was lost);
 *   -KITH_ETRUNCATED a frame too short to hold a CRC and one payload byte.
 * After an error the decoder carries on by itself: the next good frame after
 * the next 0x00 comes out normally.
 */
int kith_cobs_decode(struct kith_cobs_decoder *d, const uint8_t *in, size_t len, size_t *used,
                     const uint8_t **frame, size_t *frame_len) __attribute__((warn_unused_result));

#endif
