/*
 * libFuzzer target for proto/cobs.c. The first input byte picks a chunk size
 * and a frame limit; the rest is a byte stream from a serial line. Checks:
 * the decoder never reads or writes out of bounds and always makes progress;
 * the events (good frames with their contents, and errors) are the same
 * whatever the chunking; every good frame encodes again to a frame that
 * decodes to the same payload; and the raw input, taken as a payload,
 * survives an encode/decode round trip.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kith/cobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EVENTS_MAX 4096

struct event {
    int code;
    size_t len;
    uint32_t crc;
};

static struct kith_cobs_decoder dec, dec2;
static struct event ev_one[EVENTS_MAX], ev_chunked[EVENTS_MAX];
static uint8_t line[KITH_COBS_ENCODED_MAX(KITH_COBS_PAYLOAD_MAX)];

/* Decode a frame that was just encoded: exactly one good frame, equal. */
static void check_round_trip(const uint8_t *p, size_t len)
{
    size_t n = 0, used = 0, flen = 0;
    const uint8_t *f = NULL;
    int r;

    if (kith_cobs_encode(p, len, line, sizeof(line), &n) != 0)
        abort();
    if (n > KITH_COBS_ENCODED_MAX(len) || line[n - 1] != 0 || memchr(line, 0, n - 1) != NULL)
        abort();
    kith_cobs_decoder_init(&dec2, 0);
    r = kith_cobs_decode(&dec2, line, n, &used, &f, &flen);
    if (r != 1 || used != n || flen != len || memcmp(f, p, len) != 0)
        abort();
}

static size_t run(const uint8_t *in, size_t size, size_t chunk, size_t max, struct event *ev,
                  int check)
{
    size_t fed = 0, count = 0;

    kith_cobs_decoder_init(&dec, max);
    while (fed < size) {
        size_t n = size - fed < chunk ? size - fed : chunk, off = 0;

        while (off < n) {
            const uint8_t *f = NULL;
            size_t used = 0, flen = 0;
            int r = kith_cobs_decode(&dec, in + fed + off, n - off, &used, &f, &flen);

            if (used > n - off || (used == 0 && r == 0))
                abort();
            off += used;
            if (r == 0)
                continue;
            if (r != 1 && r != -EBADMSG && r != -KITH_ETOOBIG && r != -KITH_EENCODING &&
                r != -KITH_ETRUNCATED)
                abort();
            if (r == 1 && (flen == 0 || flen > (max == 0 ? KITH_COBS_PAYLOAD_MAX : max)))
                abort();
            if (count < EVENTS_MAX) {
                ev[count].code = r;
                ev[count].len = r == 1 ? flen : 0;
                ev[count].crc = r == 1 ? kith_crc32c(f, flen) : 0;
                if (r == 1 && check)
                    check_round_trip(f, flen);
            }
            count++;
        }
        fed += n;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t chunk, max, n1, n2;

    if (size < 1)
        return 0;
    chunk = (size_t)(data[0] & 0x1f) * 29 + 1;
    max = data[0] & 0x80 ? 0 : (size_t)(data[0] & 0x60) + 8;
    data++;
    size--;

    n1 = run(data, size, size == 0 ? 1 : size, max, ev_one, 0);
    n2 = run(data, size, chunk, max, ev_chunked, 1);
    if (n1 != n2)
        abort();
    if (n1 > EVENTS_MAX)
        n1 = EVENTS_MAX;
    for (size_t i = 0; i < n1; i++)
        if (ev_one[i].code != ev_chunked[i].code || ev_one[i].len != ev_chunked[i].len ||
            ev_one[i].crc != ev_chunked[i].crc)
            abort();
    if (size > 0 && size <= KITH_COBS_PAYLOAD_MAX)
        check_round_trip(data, size);
    return 0;
}
