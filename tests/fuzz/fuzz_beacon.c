/*
 * libFuzzer target for proto/beacon.c: decode any datagram; a beacon that
 * decodes must encode to exactly the same bytes (the format has one
 * spelling), and a failed decode must leave the struct zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kith/beacon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct kith_beacon zero;
    struct kith_beacon b;
    uint8_t out[KITH_BEACON_MAX];
    size_t n = 0;

    if (kith_beacon_decode(data, size, &b) != 0) {
        if (memcmp(&b, &zero, sizeof(b)) != 0)
            abort();
        return 0;
    }
    if (kith_beacon_encode(&b, out, sizeof(out), &n) != 0 || n != size ||
        memcmp(out, data, size) != 0)
        abort();
    return 0;
}
