/*
 * frame: the u16-length-prefixed stream framing of kith/frame.h. Pure: the
 * decoder's only memory is the struct its caller gives it.
 */
#include <string.h>

#include "kith/frame.h"

void kith_frame_decoder_init(struct kith_frame_decoder *d, size_t max)
{
    d->max = (max == 0 || max > KITH_FRAME_MAX) ? KITH_FRAME_MAX : max;
    d->hdr_have = 0;
    d->need = 0;
    d->have = 0;
    d->error = 0;
}

/* The header is complete: check the length it gives. */
static int start_payload(struct kith_frame_decoder *d)
{
    d->need = ((size_t)d->hdr[0] << 8) | d->hdr[1];
    if (d->need == 0)
        d->error = -KITH_EENCODING;
    else if (d->need > d->max)
        d->error = -KITH_ETOOBIG;
    d->have = 0;
    return d->error;
}

int kith_frame_decode(struct kith_frame_decoder *d, const uint8_t *in, size_t len, size_t *used,
                      const uint8_t **frame, size_t *frame_len)
{
    size_t pos = 0, take;
    int r;

    *used = 0;
    if (d->error != 0)
        return d->error;

    /* Fast path: a whole frame at the start of the chunk is handed back in
     * place. This is the common case for small session messages. */
    if (d->hdr_have == 0 && len >= KITH_FRAME_HEADER) {
        d->hdr[0] = in[0];
        d->hdr[1] = in[1];
        r = start_payload(d);
        if (r < 0) {
            *used = KITH_FRAME_HEADER;
            return r;
        }
        if (len - KITH_FRAME_HEADER >= d->need) {
            *frame = in + KITH_FRAME_HEADER;
            *frame_len = d->need;
            *used = KITH_FRAME_HEADER + d->need;
            d->need = 0;
            return 1;
        }
        d->hdr_have = KITH_FRAME_HEADER;
        pos = KITH_FRAME_HEADER;
    }

    while (d->hdr_have < KITH_FRAME_HEADER && pos < len) {
        d->hdr[d->hdr_have++] = in[pos++];
        if (d->hdr_have == KITH_FRAME_HEADER) {
            r = start_payload(d);
            if (r < 0) {
                *used = pos;
                return r;
            }
        }
    }
    if (d->hdr_have < KITH_FRAME_HEADER) {
        *used = pos;
        return 0;
    }

    take = d->need - d->have;
    if (take > len - pos)
        take = len - pos;
    memcpy(d->buf + d->have, in + pos, take);
    d->have += take;
    pos += take;
    *used = pos;
    if (d->have < d->need)
        return 0;
    *frame = d->buf;
    *frame_len = d->need;
    d->hdr_have = 0;
    d->need = 0;
    d->have = 0;
    return 1;
}

int kith_frame_header(size_t len, uint8_t hdr[KITH_FRAME_HEADER])
{
    if (len == 0)
        return -KITH_EINVAL;
    if (len > KITH_FRAME_MAX)
        return -KITH_ETOOBIG;
    hdr[0] = (uint8_t)(len >> 8);
    hdr[1] = (uint8_t)len;
    return 0;
}

int kith_frame_encode(const uint8_t *payload, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t hdr[KITH_FRAME_HEADER];
    int r = kith_frame_header(len, hdr);

    if (r < 0)
        return r;
    if (cap < len + KITH_FRAME_HEADER)
        return -KITH_EBUFSIZE;
    memcpy(out, hdr, KITH_FRAME_HEADER);
    memcpy(out + KITH_FRAME_HEADER, payload, len);
    *out_len = len + KITH_FRAME_HEADER;
    return 0;
}
