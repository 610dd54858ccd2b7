/*
 * cobs: serial-line framing (kith/cobs.h): CRC-32C, the COBS encoder and
 * the resynchronising decoder. Pure: no I/O, no allocation, no state
 * outside the caller's structs.
 */
#include <errno.h>
#include <string.h>

#include "kith/cobs.h"

/*
 * CRC-32C (Castagnoli) lookup table for the reflected polynomial 0x82F63B78:
 * entry n is n run through eight shift-and-conditional-xor steps. Generated
 * once and kept constant; tests/unit/test_cobs.c recomputes every entry
 * bit by bit.
 */
static const uint32_t crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu, 0x26a1e7e8u,
    0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu, 0x4d43cfd0u, 0xbf284cd3u,
    0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu, 0xf165b798u, 0x030e349bu, 0xd7c45070u,
    0x25afd373u, 0x36ff2087u, 0xc494a384u, 0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u,
    0x5d1d08bfu, 0xaf768bbcu, 0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u,
    0x33ed7d2au, 0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau, 0x30e349b1u,
    0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu, 0x1642ae59u, 0xe4292d5au,
    0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au, 0x7da08661u, 0x8fcb0562u, 0x9c9bf696u,
    0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu, 0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u,
    0x67dafa54u, 0x95b17957u, 0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu,
    0xfe53516fu, 0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu, 0x3ac7f2ebu,
    0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u, 0x61c69362u, 0x93ad1061u,
    0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu, 0x4767748au, 0xb50cf789u, 0xeb1fcbadu,
    0x197448aeu, 0x0a24bb5au, 0xf84f3859u, 0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u,
    0x7198540du, 0x83f3d70eu, 0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u,
    0xa55230e6u, 0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu, 0x456cac67u,
    0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u, 0xe9141340u, 0x1b7f9043u,
    0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu, 0x92a8fc17u, 0x60c37f14u, 0x73938ce0u,
    0x81f80fe3u, 0x55326b08u, 0xa759e80bu, 0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu,
    0xf94ad42fu, 0x0b21572cu, 0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u,
    0x502036a5u, 0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u, 0x0e330a81u,
    0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du, 0x758fe5d6u, 0x87e466d5u,
    0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u, 0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u,
    0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu, 0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u,
    0x0417b1dbu, 0xf67c32d8u, 0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu,
    0x5a048dffu, 0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u, 0x590ab964u,
    0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u, 0x7fab5e8cu, 0x8dc0dd8fu,
    0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu, 0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u,
    0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u, 0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u,
    0x4f48173du, 0xbd23943eu, 0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au,
    0xc69f7b69u, 0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t kith_crc32c_update(uint32_t crc, const uint8_t *p, size_t len)
{
    uint32_t c = ~crc;

    for (size_t i = 0; i < len; i++)
        c = crc32c_table[(c ^ p[i]) & 0xffu] ^ (c >> 8);
    return ~c;
}

uint32_t kith_crc32c(const uint8_t *p, size_t len)
{
    return kith_crc32c_update(0, p, len);
}

/* ---- Encoder ---- */

void kith_cobs_encoder_start(struct kith_cobs_encoder *e, uint8_t *out, size_t cap)
{
    e->out = out;
    e->cap = cap;
    e->code_pos = 0;
    e->pos = 1;
    e->code = 1;
    e->crc = 0;
    e->len = 0;
    e->error = cap < 1 ? -KITH_EBUFSIZE : 0;
}

/* Close the open block with its code byte and open a new one whose code
 * byte goes at the next position. */
static void next_block(struct kith_cobs_encoder *e)
{
    e->out[e->code_pos] = e->code;
    e->code_pos = e->pos++;
    e->code = 1;
    if (e->code_pos >= e->cap)
        e->error = -KITH_EBUFSIZE;
}

static void put(struct kith_cobs_encoder *e, uint8_t b)
{
    if (e->error != 0)
        return;
    /* A full block (254 data bytes) is closed only once another byte comes,
     * so a payload that ends on a full block gets no empty block after it
     * (the canonical encoding, as in the COBS paper). */
    if (e->code == 0xff) {
        next_block(e);
        if (e->error != 0)
            return;
    }
    if (b == 0) {
        next_block(e);
        return;
    }
    if (e->pos >= e->cap) {
        e->error = -KITH_EBUFSIZE;
        return;
    }
    e->out[e->pos++] = b;
    e->code++;
}

void kith_cobs_encoder_add(struct kith_cobs_encoder *e, const uint8_t *p, size_t len)
{
    e->crc = kith_crc32c_update(e->crc, p, len);
    e->len += len;
    for (size_t i = 0; i < len && e->error == 0; i++)
        put(e, p[i]);
}

int kith_cobs_encoder_finish(struct kith_cobs_encoder *e, size_t *out_len)
{
    *out_len = 0;
    if (e->len == 0)
        return -KITH_EINVAL;
    if (e->len > KITH_COBS_PAYLOAD_MAX)
        return -KITH_ETOOBIG;
    for (int i = 0; i < KITH_COBS_CRC_BYTES; i++)
        put(e, (uint8_t)(e->crc >> (8 * i)));
    if (e->error == 0 && e->pos >= e->cap)
        e->error = -KITH_EBUFSIZE;
    if (e->error != 0)
        return e->error;
    e->out[e->code_pos] = e->code;
    e->out[e->pos++] = 0;
    *out_len = e->pos;
    return 0;
}

int kith_cobs_encode(const uint8_t *payload, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    struct kith_cobs_encoder e;

    *out_len = 0;
    if (len == 0)
        return -KITH_EINVAL;
    if (len > KITH_COBS_PAYLOAD_MAX)
        return -KITH_ETOOBIG;
    kith_cobs_encoder_start(&e, out, cap);
    kith_cobs_encoder_add(&e, payload, len);
    return kith_cobs_encoder_finish(&e, out_len);
}

int kith_cobs_stuff(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    struct kith_cobs_encoder e;

    *out_len = 0;
    kith_cobs_encoder_start(&e, out, cap);
    for (size_t i = 0; i < len && e.error == 0; i++)
        put(&e, in[i]);
    if (e.error != 0)
        return e.error;
    out[e.code_pos] = e.code;
    *out_len = e.pos;
    return 0;
}

/* ---- Decoder ---- */

static void reset(struct kith_cobs_decoder *d)
{
    d->have = 0;
    d->remain = 0;
    d->started = 0;
    d->zero = 0;
    d->last_ff = 0;
    d->skipping = 0;
}

void kith_cobs_decoder_init(struct kith_cobs_decoder *d, size_t max)
{
    d->max = max == 0 || max > KITH_COBS_PAYLOAD_MAX ? KITH_COBS_PAYLOAD_MAX : max;
    reset(d);
}

/* The frame's 0x00 has come: check its length and CRC. */
static int end_frame(struct kith_cobs_decoder *d, const uint8_t **frame, size_t *frame_len)
{
    size_t n = d->have;
    uint32_t want;

    reset(d);
    if (n < KITH_COBS_CRC_BYTES + 1)
        return -KITH_ETRUNCATED;
    n -= KITH_COBS_CRC_BYTES;
    want = (uint32_t)d->buf[n] | (uint32_t)d->buf[n + 1] << 8 | (uint32_t)d->buf[n + 2] << 16 |
           (uint32_t)d->buf[n + 3] << 24;
    if (kith_crc32c(d->buf, n) != want)
        return -EBADMSG;
    *frame = d->buf;
    *frame_len = n;
    return 1;
}

/* A frame grew past the limit: report it and drop the rest of it. */
static int too_big(struct kith_cobs_decoder *d)
{
    reset(d);
    d->skipping = 1;
    return -KITH_ETOOBIG;
}

int kith_cobs_decode(struct kith_cobs_decoder *d, const uint8_t *in, size_t len, size_t *used,
                     const uint8_t **frame, size_t *frame_len)
{
    size_t pos = 0, limit = d->max + KITH_COBS_CRC_BYTES;
    int r = 0;

    while (pos < len) {
        const uint8_t *z;
        size_t n;
        int over;

        if (d->skipping) {
            z = memchr(in + pos, 0, len - pos);
            if (z == NULL) {
                pos = len;
                break;
            }
            pos = (size_t)(z - in) + 1;
            reset(d);
            continue;
        }
        if (d->remain == 0) {
            /* A code byte, or the frame's delimiter. */
            uint8_t b = in[pos++];

            if (b == 0) {
                if (!d->started)
                    continue; /* idle filler between frames */
                r = end_frame(d, frame, frame_len);
                break;
            }
            d->started = 1;
            if (d->zero) {
                if (d->have + 1 > limit) {
                    r = too_big(d);
                    break;
                }
                d->buf[d->have++] = 0;
                d->zero = 0;
            }
            d->remain = (size_t)b - 1;
            d->last_ff = b == 0xff;
            if (d->remain == 0)
                d->zero = 1; /* code 1: a lone 0x00 (0xff always has data) */
            continue;
        }
        /* Data bytes of the current block; a 0x00 among them means the
         * block was cut short and the next frame has begun. */
        n = d->remain < len - pos ? d->remain : len - pos;
        over = d->have + n > limit;
        if (over)
            n = limit - d->have + 1; /* up to the first byte too many */
        z = memchr(in + pos, 0, n);
        if (z != NULL) {
            pos = (size_t)(z - in) + 1;
            reset(d);
            r = -KITH_EENCODING;
            break;
        }
        if (over) {
            pos += n;
            r = too_big(d);
            break;
        }
        memcpy(d->buf + d->have, in + pos, n);
        d->have += n;
        pos += n;
        d->remain -= n;
        if (d->remain == 0)
            d->zero = !d->last_ff;
    }
    *used = pos;
    return r;
}
