/*
 * libFuzzer target for proto/frame.c: the input is a byte stream fed to the
 * decoder in chunks whose sizes come from the first input byte. Whatever the
 * chunking, the frames (and the error, if any) must be exactly those of a
 * plain one-pass reading of the same stream, and re-encoding every frame
 * must give back the stream's bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kith/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kith_frame_decoder dec;
static uint8_t again[KITH_FRAME_MAX + KITH_FRAME_HEADER];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t chunk, pos = 0, ref = 0, fed = 0;
    int ref_err = 0;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] * 37 + 1;
    data++;
    size--;
    kith_frame_decoder_init(&dec, 0);

    while (fed < size) {
        size_t n = size - fed < chunk ? size - fed : chunk, off = 0;

        while (off < n) {
            const uint8_t *frame = NULL;
            size_t used = 0, flen = 0, rlen, elen = 0;
            int r = kith_frame_decode(&dec, data + fed + off, n - off, &used, &frame, &flen);

            off += used;
            if (r < 0) {
                /* The reference reading must fail at the same frame. */
                rlen = size - ref >= 2 ? ((size_t)data[ref] << 8 | data[ref + 1]) : 1;
                if (size - ref < 2 || rlen != 0 || r != -KITH_EENCODING)
                    abort();
                ref_err = 1;
                break;
            }
            if (used == 0)
                abort(); /* no progress without an error */
            if (r == 0)
                continue;
            if (size - ref < 2)
                abort();
            rlen = (size_t)data[ref] << 8 | data[ref + 1];
            if (rlen != flen || flen == 0 || size - ref - 2 < flen ||
                memcmp(frame, data + ref + 2, flen) != 0)
                abort();
            if (kith_frame_encode(frame, flen, again, sizeof(again), &elen) != 0 ||
                elen != flen + 2 || memcmp(again, data + ref, elen) != 0)
                abort();
            ref += 2 + flen;
        }
        if (ref_err)
            return 0;
        fed += n;
    }
    /* Whatever is left over is an unfinished frame. */
    pos = ref;
    if (pos < size && size - pos >= 2 && (((size_t)data[pos] << 8) | data[pos + 1]) == 0)
        abort(); /* a zero length at the end must have been refused */
    return 0;
}
