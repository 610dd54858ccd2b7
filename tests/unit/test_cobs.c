/*
 * Tests for proto/cobs.c: CRC-32C and COBS known-answer vectors (the CRC
 * check value, RFC 3720's iSCSI vectors, the COBS paper / Wikipedia table
 * worked by hand), frames with 0x00 bytes and 254/255-byte runs, the
 * largest frame, chunked input, and recovery from a flipped byte, a lost
 * byte, garbage between frames and a frame over the limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "kith/cobs.h"

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;

    for (; hex[0] != '\0'; hex += 2) {
        while (*hex == ' ')
            hex++;
        if (*hex == '\0')
            break;
        unsigned v;
        cr_assert_eq(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Bit-by-bit CRC-32C, independent of the table. */
static uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1u) ? 0x82f63b78u : 0u);
    }
    return ~c;
}

Test(cobs, crc32c_check_value)
{
    cr_assert_eq(kith_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
    cr_assert_eq(kith_crc32c(NULL, 0), 0u);
}

/* RFC 3720 appendix B.4. */
Test(cobs, crc32c_rfc3720)
{
    uint8_t b[32];

    memset(b, 0, sizeof(b));
    cr_assert_eq(kith_crc32c(b, 32), 0x8a9136aau);
    memset(b, 0xff, sizeof(b));
    cr_assert_eq(kith_crc32c(b, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    cr_assert_eq(kith_crc32c(b, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    cr_assert_eq(kith_crc32c(b, 32), 0x113fdb5cu);
}

/* Every table entry, through one-byte inputs, against the bitwise CRC. */
Test(cobs, crc32c_table)
{
    for (int n = 0; n < 256; n++) {
        uint8_t b = (uint8_t)n;

        cr_assert_eq(kith_crc32c(&b, 1), crc_bitwise(&b, 1), "byte %d", n);
    }
}

Test(cobs, crc32c_in_pieces)
{
    uint8_t b[1000];
    uint32_t c = 0;

    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 7 + 3);
    c = kith_crc32c_update(c, b, 1);
    c = kith_crc32c_update(c, b + 1, 400);
    c = kith_crc32c_update(c, b + 401, 599);
    cr_assert_eq(c, kith_crc32c(b, sizeof(b)));
    cr_assert_eq(c, crc_bitwise(b, sizeof(b)));
}

static void check_stuff(const uint8_t *in, size_t len, const uint8_t *want, size_t want_len)
{
    uint8_t out[600];
    size_t n = 99;

    cr_assert_eq(kith_cobs_stuff(in, len, out, sizeof(out), &n), 0);
    cr_assert_eq(n, want_len, "len %zu: got %zu, want %zu", len, n, want_len);
    cr_assert_arr_eq(out, want, want_len);
}

/* The examples of the COBS paper as Wikipedia tabulates them, each worked by
 * hand: a block's code byte is 1 + the data bytes before the next 0x00, a
 * full block (254 bytes, code 0xFF) has no implied 0x00. */
Test(cobs, stuff_known_answers)
{
    uint8_t in[300], want[300];
    size_t n;

    n = unhex("00", in);
    check_stuff(in, n, want, unhex("0101", want));
    n = unhex("0000", in);
    check_stuff(in, n, want, unhex("010101", want));
    n = unhex("001100", in);
    check_stuff(in, n, want, unhex("01021101", want));
    n = unhex("11220033", in);
    check_stuff(in, n, want, unhex("0311220233", want));
    n = unhex("11223344", in);
    check_stuff(in, n, want, unhex("0511223344", want));
    n = unhex("11000000", in);
    check_stuff(in, n, want, unhex("0211010101", want));
    check_stuff(in, 0, want, unhex("01", want));

    /* 01..FE (254 bytes) -> FF 01..FE */
    for (int i = 0; i < 254; i++)
        in[i] = (uint8_t)(i + 1);
    want[0] = 0xff;
    memcpy(want + 1, in, 254);
    check_stuff(in, 254, want, 255);

    /* 00 01..FE -> 01 FF 01..FE */
    in[0] = 0;
    for (int i = 1; i < 255; i++)
        in[i] = (uint8_t)i;
    want[0] = 0x01;
    want[1] = 0xff;
    memcpy(want + 2, in + 1, 254);
    check_stuff(in, 255, want, 256);

    /* 01..FF (255 bytes) -> FF 01..FE 02 FF */
    for (int i = 0; i < 255; i++)
        in[i] = (uint8_t)(i + 1);
    want[0] = 0xff;
    memcpy(want + 1, in, 254);
    want[255] = 0x02;
    want[256] = 0xff;
    check_stuff(in, 255, want, 257);

    /* 02..FF 00 -> FF 02..FF 01 01 */
    for (int i = 0; i < 254; i++)
        in[i] = (uint8_t)(i + 2);
    in[254] = 0;
    want[0] = 0xff;
    memcpy(want + 1, in, 254);
    want[255] = 0x01;
    want[256] = 0x01;
    check_stuff(in, 255, want, 257);

    /* 03..FF 00 01 -> FE 03..FF 02 01 */
    for (int i = 0; i < 253; i++)
        in[i] = (uint8_t)(i + 3);
    in[253] = 0;
    in[254] = 1;
    want[0] = 0xfe;
    memcpy(want + 1, in, 253);
    want[254] = 0x02;
    want[255] = 0x01;
    check_stuff(in, 255, want, 256);
}

Test(cobs, stuff_buffer_too_small)
{
    uint8_t in[4] = {1, 2, 3, 4}, out[5];
    size_t n = 7;

    cr_assert_eq(kith_cobs_stuff(in, 4, out, 4, &n), -KITH_EBUFSIZE);
    cr_assert_eq(n, 0);
    cr_assert_eq(kith_cobs_stuff(in, 4, out, 5, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_eq(kith_cobs_stuff(in, 0, out, 0, &n), -KITH_EBUFSIZE);
}

/* Whole frames: COBS(payload | CRC-32C LE) 00, as in PROTOCOL.md. */
Test(cobs, frame_known_answers)
{
    static const struct {
        const char *payload, *line;
    } v[] = {
        {"313233343536373839", "0e313233343536373839839206e300"},
        {"00", "010551537d5200"},
        {"11220033", "03112206331e43def100"},
        /* The serial link's frames of PROTOCOL.md. */
        {"0101000001020304050607080000000000000000",
         "030101010901020304050607080101010101010105ad56437a00"},
        {"0101010111121314151617180102030405060708",
         "190101010111121314151617180102030405060708f42ff77f00"},
        {"02111213141516171800010203", "0a0211121314151617180801020355e7e16500"},
        {"030102030405060708", "0e03010203040506070881c9eb6800"},
    };
    uint8_t p[64], want[64], out[64];
    size_t plen, wlen, n;

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        plen = unhex(v[i].payload, p);
        wlen = unhex(v[i].line, want);
        cr_assert_eq(kith_cobs_encode(p, plen, out, sizeof(out), &n), 0);
        cr_assert_eq(n, wlen, "vector %zu", i);
        cr_assert_arr_eq(out, want, wlen);
        cr_assert_leq(n, KITH_COBS_ENCODED_MAX(plen));
        /* The exact size is enough; one less is not. */
        cr_assert_eq(kith_cobs_encode(p, plen, out, wlen, &n), 0);
        cr_assert_eq(kith_cobs_encode(p, plen, out, wlen - 1, &n), -KITH_EBUFSIZE);
        cr_assert_eq(n, 0);
    }
}

Test(cobs, encode_errors)
{
    static uint8_t big[KITH_COBS_PAYLOAD_MAX + 1], out[KITH_COBS_ENCODED_MAX(sizeof(big))];
    size_t n = 5;

    cr_assert_eq(kith_cobs_encode(big, 0, out, sizeof(out), &n), -KITH_EINVAL);
    cr_assert_eq(n, 0);
    cr_assert_eq(kith_cobs_encode(big, sizeof(big), out, sizeof(out), &n), -KITH_ETOOBIG);
    cr_assert_eq(kith_cobs_encode(big, sizeof(big) - 1, out, sizeof(out), &n), 0);
}

Test(cobs, encoder_in_pieces)
{
    uint8_t p[700], a[800], b[800];
    struct kith_cobs_encoder e;
    size_t na, nb;

    for (size_t i = 0; i < sizeof(p); i++)
        p[i] = (uint8_t)(i % 5 == 0 ? 0 : i);
    cr_assert_eq(kith_cobs_encode(p, sizeof(p), a, sizeof(a), &na), 0);
    kith_cobs_encoder_start(&e, b, sizeof(b));
    kith_cobs_encoder_add(&e, p, 1);
    kith_cobs_encoder_add(&e, p + 1, 300);
    kith_cobs_encoder_add(&e, p + 301, 399);
    cr_assert_eq(kith_cobs_encoder_finish(&e, &nb), 0);
    cr_assert_eq(na, nb);
    cr_assert_arr_eq(a, b, na);
}

/* Decode a stream in chunks of chunk bytes; record each event. */
struct events {
    int code[16];
    size_t len[16];
    uint8_t first[16];
    int n;
};

static void decode_all(struct kith_cobs_decoder *d, const uint8_t *in, size_t len, size_t chunk,
                       struct events *ev)
{
    size_t fed = 0;

    memset(ev, 0, sizeof(*ev));
    while (fed < len) {
        size_t n = len - fed < chunk ? len - fed : chunk, off = 0;

        while (off < n) {
            const uint8_t *f = NULL;
            size_t used = 0, flen = 0;
            int r = kith_cobs_decode(d, in + fed + off, n - off, &used, &f, &flen);

            cr_assert(used > 0 || r != 0, "no progress");
            off += used;
            if (r == 0)
                continue;
            cr_assert_lt(ev->n, 16);
            ev->code[ev->n] = r;
            ev->len[ev->n] = r == 1 ? flen : 0;
            ev->first[ev->n] = r == 1 ? f[0] : 0;
            ev->n++;
        }
        fed += n;
    }
}

static struct kith_cobs_decoder *new_decoder(size_t max)
{
    struct kith_cobs_decoder *d = malloc(sizeof(*d));

    cr_assert_not_null(d);
    kith_cobs_decoder_init(d, max);
    return d;
}

/* Payloads with 0x00 bytes, 254- and 255-byte runs and the largest frame
 * survive a round trip, in any chunking. */
Test(cobs, round_trip)
{
    static const size_t sizes[] = {
        1, 2, 3, 250, 251, 253, 254, 255, 256, 508, 509, 1000, KITH_COBS_PAYLOAD_MAX};
    static const size_t chunks[] = {1, 3, 254, 255, 4096, (size_t)1 << 20};
    static uint8_t p[KITH_COBS_PAYLOAD_MAX], line[KITH_COBS_ENCODED_MAX(KITH_COBS_PAYLOAD_MAX)];
    struct kith_cobs_decoder *d = new_decoder(0);

    for (int pattern = 0; pattern < 3; pattern++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t len = sizes[s], n;

            for (size_t i = 0; i < len; i++)
                p[i] = pattern == 0   ? (uint8_t)(i % 255 + 1) /* no zero at all */
                       : pattern == 1 ? 0                      /* all zero */
                                      : (uint8_t)(i * 131 + (i >> 8));
            cr_assert_eq(kith_cobs_encode(p, len, line, sizeof(line), &n), 0);
            cr_assert_leq(n, KITH_COBS_ENCODED_MAX(len));
            cr_assert_eq(line[n - 1], 0);
            cr_assert_null(memchr(line, 0, n - 1), "a 0x00 inside a frame");
            for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                size_t fed = 0, got = 0;

                while (fed < n) {
                    const uint8_t *f = NULL;
                    size_t used = 0, flen = 0, k = n - fed < chunks[c] ? n - fed : chunks[c];
                    int r = kith_cobs_decode(d, line + fed, k, &used, &f, &flen);

                    fed += used;
                    cr_assert_geq(r, 0, "len %zu chunk %zu: %d", len, chunks[c], r);
                    if (r == 1) {
                        cr_assert_eq(flen, len);
                        cr_assert_eq(memcmp(f, p, len), 0);
                        got++;
                    }
                }
                cr_assert_eq(got, 1, "len %zu chunk %zu", len, chunks[c]);
            }
        }
    }
    free(d);
}

/* COBS costs at most one byte in 254: under 0.4% on a full frame. */
Test(cobs, overhead)
{
    static uint8_t p[65535], line[KITH_COBS_ENCODED_MAX(65535)];
    size_t n;

    for (size_t i = 0; i < sizeof(p); i++)
        p[i] = (uint8_t)(i % 255 + 1);
    cr_assert_eq(kith_cobs_encode(p, sizeof(p), line, sizeof(line), &n), 0);
    /* 65539 bytes with CRC, 258 code bytes, one delimiter. */
    cr_assert_leq(n, 65539 + 259 + 1);
    cr_assert_lt((double)(n - sizeof(p)) / (double)sizeof(p), 0.0041);
}

/* Three frames whose payloads start 0x41, 0x42, 0x43, each of len bytes
 * with no 0x00 (one COBS block when len < 250). */
static size_t three_frames(uint8_t *line, size_t cap, size_t len, size_t *ends)
{
    uint8_t p[600];
    size_t n, pos = 0;

    for (int f = 0; f < 3; f++) {
        memset(p, 0x41 + f, len);
        cr_assert_eq(kith_cobs_encode(p, len, line + pos, cap - pos, &n), 0);
        pos += n;
        ends[f] = pos;
    }
    return pos;
}

Test(cobs, flipped_byte_is_a_crc_error)
{
    uint8_t line[2048];
    size_t ends[3], n = three_frames(line, sizeof(line), 100, ends);
    struct kith_cobs_decoder *d = new_decoder(0);
    struct events ev;

    line[ends[0] + 50] ^= 0x10; /* a data byte of frame 2 */
    decode_all(d, line, n, 7, &ev);
    cr_assert_eq(ev.n, 3);
    cr_assert_eq(ev.code[0], 1);
    cr_assert_eq(ev.first[0], 0x41);
    cr_assert_eq(ev.code[1], -EBADMSG);
    cr_assert_eq(ev.code[2], 1);
    cr_assert_eq(ev.first[2], 0x43);
    cr_assert_eq(ev.len[2], 100);
    free(d);
}

Test(cobs, flipped_to_zero_cuts_the_frame)
{
    uint8_t line[2048];
    size_t ends[3], n = three_frames(line, sizeof(line), 100, ends);
    struct kith_cobs_decoder *d = new_decoder(0);
    struct events ev;

    line[ends[0] + 50] = 0; /* frame 2 is cut in two */
    decode_all(d, line, n, 1000, &ev);
    /* The head ends inside its block; the tail's first byte (0x42) reads
     * as a code byte, and its 66-byte block runs into the real delimiter. */
    cr_assert_eq(ev.n, 4);
    cr_assert_eq(ev.code[0], 1);
    cr_assert_eq(ev.code[1], -KITH_EENCODING);
    cr_assert_eq(ev.code[2], -KITH_EENCODING);
    cr_assert_eq(ev.code[3], 1);
    cr_assert_eq(ev.first[3], 0x43);
    free(d);
}

Test(cobs, dropped_byte)
{
    uint8_t line[2048];
    size_t ends[3], n = three_frames(line, sizeof(line), 100, ends);
    struct kith_cobs_decoder *d = new_decoder(0);
    struct events ev;

    /* Lose one data byte of frame 2: its block now runs into the delimiter. */
    memmove(line + ends[0] + 10, line + ends[0] + 11, n - ends[0] - 11);
    n--;
    decode_all(d, line, n, 1, &ev);
    cr_assert_eq(ev.n, 3);
    cr_assert_eq(ev.code[0], 1);
    cr_assert_eq(ev.code[1], -KITH_EENCODING);
    cr_assert_eq(ev.code[2], 1);
    cr_assert_eq(ev.first[2], 0x43);
    free(d);
}

Test(cobs, garbage_between_frames)
{
    uint8_t line[4096], f[300];
    size_t ends[3], n, fn;
    struct kith_cobs_decoder *d = new_decoder(0);
    struct events ev;

    n = three_frames(line, sizeof(line), 20, ends);
    cr_assert_eq(kith_cobs_encode((const uint8_t *)"x", 1, f, sizeof(f), &fn), 0);
    /* Before everything: idle 0x00s, a block cut short, a frame too short
     * for a CRC, a frame whose CRC is wrong; then the three good frames,
     * then one more. */
    static const uint8_t junk[] = {0x00, 0x00, 0x41, 0x42, 0x43, 0x00, 0x02, 0x41, 0x00,
                                   0x06, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00};
    uint8_t s[4096];
    size_t sn = 0;

    memcpy(s, junk, sizeof(junk));
    sn += sizeof(junk);
    memcpy(s + sn, line, n);
    sn += n;
    memcpy(s + sn, f, fn);
    sn += fn;
    decode_all(d, s, sn, 5, &ev);
    cr_assert_eq(ev.n, 7);
    cr_assert_eq(ev.code[0], -KITH_EENCODING);
    cr_assert_eq(ev.code[1], -KITH_ETRUNCATED);
    cr_assert_eq(ev.code[2], -EBADMSG);
    cr_assert_eq(ev.code[3], 1);
    cr_assert_eq(ev.first[3], 0x41);
    cr_assert_eq(ev.code[4], 1);
    cr_assert_eq(ev.code[5], 1);
    cr_assert_eq(ev.first[5], 0x43);
    cr_assert_eq(ev.code[6], 1);
    cr_assert_eq(ev.len[6], 1);
    cr_assert_eq(ev.first[6], 'x');
    free(d);
}

Test(cobs, over_the_limit)
{
    uint8_t line[4096], p[100];
    size_t n, m;
    struct kith_cobs_decoder *d = new_decoder(10);
    struct events ev;

    memset(p, 0x55, sizeof(p));
    cr_assert_eq(kith_cobs_encode(p, 11, line, sizeof(line), &n), 0);
    cr_assert_eq(kith_cobs_encode(p, 10, line + n, sizeof(line) - n, &m), 0);
    decode_all(d, line, n + m, 1, &ev);
    cr_assert_eq(ev.n, 2);
    cr_assert_eq(ev.code[0], -KITH_ETOOBIG);
    cr_assert_eq(ev.code[1], 1);
    cr_assert_eq(ev.len[1], 10);
    free(d);
}

/* A stream of 0x01..0xFF bytes that never ends a frame: reported once as
 * over the limit, then the decoder waits for a 0x00 and reads on. */
Test(cobs, endless_frame)
{
    static uint8_t junk[200000];
    uint8_t f[64];
    size_t fn;
    struct kith_cobs_decoder *d = new_decoder(0);
    struct events ev;

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i % 255 + 1);
    decode_all(d, junk, sizeof(junk), 4096, &ev);
    cr_assert_eq(ev.n, 1);
    cr_assert_eq(ev.code[0], -KITH_ETOOBIG);
    cr_assert_eq(kith_cobs_encode((const uint8_t *)"ok", 2, f, sizeof(f), &fn), 0);
    decode_all(d, f, fn, 1, &ev); /* f's first 0x00 ends the junk */
    cr_assert_eq(ev.n, 0);
    decode_all(d, f, fn, 1, &ev);
    cr_assert_eq(ev.n, 1);
    cr_assert_eq(ev.code[0], 1);
    cr_assert_eq(ev.len[0], 2);
    free(d);
}

/* The largest payload decodes; one more byte is over the limit. */
Test(cobs, limit_exact)
{
    static uint8_t p[KITH_COBS_PAYLOAD_MAX + 1], stuffed[KITH_COBS_ENCODED_MAX(sizeof(p))];
    size_t n;
    uint32_t crc;
    struct kith_cobs_decoder *d = new_decoder(0);
    struct events ev;

    for (size_t i = 0; i < sizeof(p); i++)
        p[i] = (uint8_t)(i * 13);
    cr_assert_eq(kith_cobs_encode(p, KITH_COBS_PAYLOAD_MAX, stuffed, sizeof(stuffed), &n), 0);
    decode_all(d, stuffed, n, 65536, &ev);
    cr_assert_eq(ev.n, 1);
    cr_assert_eq(ev.code[0], 1);
    cr_assert_eq(ev.len[0], KITH_COBS_PAYLOAD_MAX);

    /* Build the over-size frame by hand: the encoder refuses it. */
    static uint8_t withcrc[sizeof(p) + 4];
    memcpy(withcrc, p, sizeof(p));
    crc = kith_crc32c(p, sizeof(p));
    for (int i = 0; i < 4; i++)
        withcrc[sizeof(p) + (size_t)i] = (uint8_t)(crc >> (8 * i));
    cr_assert_eq(kith_cobs_stuff(withcrc, sizeof(withcrc), stuffed, sizeof(stuffed) - 1, &n), 0);
    stuffed[n++] = 0;
    decode_all(d, stuffed, n, 65536, &ev);
    cr_assert_eq(ev.n, 1);
    cr_assert_eq(ev.code[0], -KITH_ETOOBIG);
    free(d);
}

/* A small stream split in two at every position gives the same events. */
Test(cobs, every_split)
{
    uint8_t line[2048];
    size_t ends[3], n = three_frames(line, sizeof(line), 30, ends);
    struct kith_cobs_decoder *d = new_decoder(0);

    line[ends[1] + 3] ^= 1;
    for (size_t cut = 0; cut <= n; cut++) {
        int codes[8], k = 0;
        size_t parts[2][2] = {{0, cut}, {cut, n}};

        kith_cobs_decoder_init(d, 0);
        for (int pi = 0; pi < 2; pi++) {
            size_t off = parts[pi][0];

            while (off < parts[pi][1]) {
                const uint8_t *f;
                size_t used, flen;
                int r = kith_cobs_decode(d, line + off, parts[pi][1] - off, &used, &f, &flen);

                off += used;
                if (r != 0)
                    codes[k++] = r;
            }
        }
        cr_assert_eq(k, 3, "cut %zu", cut);
        cr_assert_eq(codes[0], 1);
        cr_assert_eq(codes[1], 1);
        cr_assert_eq(codes[2], -EBADMSG);
    }
    free(d);
}
