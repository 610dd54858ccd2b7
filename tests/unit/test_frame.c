/*
 * Tests for proto/frame.c: known bytes, every way of splitting a stream into
 * chunks, the in-place fast path, the limits and the sticky errors.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kith/frame.h"

static struct kith_frame_decoder *new_decoder(size_t max)
{
    struct kith_frame_decoder *d = malloc(sizeof(*d));

    cr_assert_not_null(d);
    kith_frame_decoder_init(d, max);
    return d;
}

Test(frame, encode_known_bytes)
{
    uint8_t out[8], hdr[2];
    size_t n = 0;

    cr_assert_eq(kith_frame_encode((const uint8_t *)"abc", 3, out, sizeof(out), &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_arr_eq(out, ((uint8_t[]){0x00, 0x03, 'a', 'b', 'c'}), 5);
    cr_assert_eq(kith_frame_header(65535, hdr), 0);
    cr_assert_arr_eq(hdr, ((uint8_t[]){0xff, 0xff}), 2);
    cr_assert_eq(kith_frame_header(256, hdr), 0);
    cr_assert_arr_eq(hdr, ((uint8_t[]){0x01, 0x00}), 2);
}

Test(frame, encode_limits)
{
    static uint8_t big[KITH_FRAME_MAX + 3];
    uint8_t out[4] = {9, 9, 9, 9}, hdr[2];
    size_t n = 7;

    cr_assert_eq(kith_frame_encode(big, 0, out, sizeof(out), &n), -KITH_EINVAL);
    cr_assert_eq(kith_frame_encode(big, KITH_FRAME_MAX + 1, big, sizeof(big), &n), -KITH_ETOOBIG);
    cr_assert_eq(kith_frame_encode((const uint8_t *)"abc", 3, out, 4, &n), -KITH_EBUFSIZE);
    cr_assert_arr_eq(out, ((uint8_t[]){9, 9, 9, 9}), 4); /* unchanged on error */
    cr_assert_eq(n, 7);
    cr_assert_eq(kith_frame_header(0, hdr), -KITH_EINVAL);
    cr_assert_eq(kith_frame_header(65536, hdr), -KITH_ETOOBIG);
}

/* Three frames (1, 300 and 65535 bytes) back to back. */
static uint8_t *make_stream(size_t *len)
{
    static const size_t sizes[] = {1, 300, KITH_FRAME_MAX};
    uint8_t *s = malloc(3 * KITH_FRAME_HEADER + 1 + 300 + KITH_FRAME_MAX);
    size_t pos = 0, n = 0;

    cr_assert_not_null(s);
    for (size_t f = 0; f < 3; f++) {
        uint8_t *payload = malloc(sizes[f]);

        for (size_t i = 0; i < sizes[f]; i++)
            payload[i] = (uint8_t)(i * 7 + f);
        cr_assert_eq(kith_frame_encode(payload, sizes[f], s + pos, 1 << 20, &n), 0);
        pos += n;
        free(payload);
    }
    *len = pos;
    return s;
}

static void check_frame(size_t index, const uint8_t *frame, size_t len)
{
    static const size_t sizes[] = {1, 300, KITH_FRAME_MAX};

    cr_assert_lt(index, 3);
    cr_assert_eq(len, sizes[index]);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(frame[i], (uint8_t)(i * 7 + index), "frame %zu byte %zu", index, i);
}

/* Feed the stream in chunks of chunk bytes; every frame must come out whole. */
static void feed_in_chunks(size_t chunk)
{
    struct kith_frame_decoder *d = new_decoder(0);
    size_t len, got = 0;
    uint8_t *s = make_stream(&len);

    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk, pos = 0;

        while (pos < n) {
            const uint8_t *frame = NULL;
            size_t used = 0, flen = 0;
            int r = kith_frame_decode(d, s + off + pos, n - pos, &used, &frame, &flen);

            cr_assert_geq(r, 0);
            cr_assert_gt(used, 0);
            pos += used;
            if (r == 1)
                check_frame(got++, frame, flen);
        }
    }
    cr_assert_eq(got, 3, "chunk %zu", chunk);
    free(s);
    free(d);
}

Test(frame, any_chunking)
{
    static const size_t chunks[] = {1, 2, 3, 5, 301, 302, 303, 4096, 65536, 65537, 1 << 20};

    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
        feed_in_chunks(chunks[i]);
}

Test(frame, whole_frame_in_place)
{
    struct kith_frame_decoder *d = new_decoder(0);
    const uint8_t in[] = {0x00, 0x02, 'h', 'i', 0x00, 0x01, '!', 0x00};
    const uint8_t *frame = NULL;
    size_t used = 0, flen = 0;

    cr_assert_eq(kith_frame_decode(d, in, sizeof(in), &used, &frame, &flen), 1);
    cr_assert_eq(used, 4);
    cr_assert_eq(frame, in + 2); /* no copy */
    cr_assert_eq(flen, 2);
    cr_assert_eq(kith_frame_decode(d, in + 4, sizeof(in) - 4, &used, &frame, &flen), 1);
    cr_assert_eq(used, 3);
    cr_assert_eq(frame[0], '!');
    /* A lone header byte is kept for the next chunk. */
    cr_assert_eq(kith_frame_decode(d, in + 7, 1, &used, &frame, &flen), 0);
    cr_assert_eq(used, 1);
    cr_assert_eq(kith_frame_decode(d, (const uint8_t *)"\x03xyz", 4, &used, &frame, &flen), 1);
    cr_assert_eq(used, 4);
    cr_assert_eq(flen, 3);
    cr_assert_arr_eq(frame, "xyz", 3);
    cr_assert_eq(kith_frame_decode(d, in, 0, &used, &frame, &flen), 0);
    cr_assert_eq(used, 0);
    free(d);
}

Test(frame, zero_length_refused_and_sticky)
{
    struct kith_frame_decoder *d = new_decoder(0);
    const uint8_t *frame = NULL;
    size_t used = 9, flen = 0;

    cr_assert_eq(
        kith_frame_decode(d, (const uint8_t *)"\x00\x00\x00\x01x", 5, &used, &frame, &flen),
        -KITH_EENCODING);
    cr_assert_eq(used, 2);
    cr_assert_eq(kith_frame_decode(d, (const uint8_t *)"\x00\x01x", 3, &used, &frame, &flen),
                 -KITH_EENCODING);
    cr_assert_eq(used, 0);
    /* Split header, zero length. */
    kith_frame_decoder_init(d, 0);
    cr_assert_eq(kith_frame_decode(d, (const uint8_t *)"\x00", 1, &used, &frame, &flen), 0);
    cr_assert_eq(kith_frame_decode(d, (const uint8_t *)"\x00", 1, &used, &frame, &flen),
                 -KITH_EENCODING);
    free(d);
}

Test(frame, decoder_max)
{
    struct kith_frame_decoder *d = new_decoder(100);
    const uint8_t *frame = NULL;
    uint8_t in[103] = {0x00, 100};
    size_t used = 0, flen = 0;

    cr_assert_eq(kith_frame_decode(d, in, 102, &used, &frame, &flen), 1);
    cr_assert_eq(flen, 100);
    in[1] = 101;
    cr_assert_eq(kith_frame_decode(d, in, 103, &used, &frame, &flen), -KITH_ETOOBIG);
    cr_assert_eq(used, 2);
    cr_assert_eq(kith_frame_decode(d, in, 103, &used, &frame, &flen), -KITH_ETOOBIG);
    /* Split header over the limit, and a max over the format's is capped. */
    kith_frame_decoder_init(d, 100);
    cr_assert_eq(kith_frame_decode(d, (const uint8_t *)"\x01", 1, &used, &frame, &flen), 0);
    cr_assert_eq(kith_frame_decode(d, (const uint8_t *)"\x00", 1, &used, &frame, &flen),
                 -KITH_ETOOBIG);
    kith_frame_decoder_init(d, 1000000);
    cr_assert_eq(d->max, KITH_FRAME_MAX);
    free(d);
}
