/*
 * libFuzzer target for proto/noise.c: the responder side of the Kith XX
 * handshake reads fuzzer bytes as message 1 and message 3, then as a
 * transport message.
 *
 * Input: flags (1 byte) | len1 (2 bytes, little-endian) | part1 (len1 bytes)
 * | part3 (the rest). Without flag bit 0, part1 is message 1 as is; with it,
 * a real initiator (fixed keys) writes message 1 carrying part1 as payload.
 * Likewise flag bit 1 for message 3 and part3. A message from the real
 * initiator must be accepted; raw bytes may be refused, but only with a
 * documented error code, and never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/noise.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (sodium_init() < 0)
        abort();
    return 0;
}

static uint8_t msg[KITH_NOISE_MSG_MAX + 1];
static uint8_t out[KITH_NOISE_MSG_MAX + 1];

static int documented(int rc)
{
    return rc == 0 || rc == -KITH_EDECRYPT || rc == -KITH_ETRUNCATED || rc == -KITH_ETOOBIG;
}

/* Message i (0 or 2) for the responder: from the real initiator, or raw. */
static int feed(struct kith_noise_handshake *ini, struct kith_noise_handshake *res, int real,
                const uint8_t *part, size_t len)
{
    size_t n = 0;
    int rc;

    if (real) {
        if (kith_noise_handshake_action(ini) != KITH_NOISE_WRITE)
            return -1;
        rc = kith_noise_handshake_write(ini, part, len, msg, sizeof(msg), &n);
        if (rc == -KITH_ETOOBIG)
            return -1;
        if (rc != 0)
            abort();
        rc = kith_noise_handshake_read(res, msg, n, out, sizeof(out), &n);
        if (rc != 0 || n != len || (len > 0 && memcmp(out, part, len) != 0))
            abort();
        return 0;
    }
    rc = kith_noise_handshake_read(res, part, len, out, sizeof(out), &n);
    if (!documented(rc))
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t s_ini[32] = {1}, e_ini[32] = {2}, s_res[32] = {3}, e_res[32] = {4};
    struct kith_noise_handshake ini, res;
    struct kith_noise_cipher rx, tx, irx, itx;
    size_t len1, n = 0, m = 0;
    const uint8_t *part1, *part3;
    size_t len3;
    int flags, rc;

    if (size < 3)
        return 0;
    flags = data[0];
    len1 = (size_t)data[1] | (size_t)data[2] << 8;
    if (len1 > size - 3)
        len1 = size - 3;
    part1 = data + 3;
    part3 = part1 + len1;
    len3 = size - 3 - len1;

    if (kith_noise_handshake_init_kith(&ini, 1, s_ini, e_ini) != 0 ||
        kith_noise_handshake_init_kith(&res, 0, s_res, e_res) != 0)
        abort();
    if (feed(&ini, &res, flags & 1, part1, len1) != 0)
        goto done;
    rc = kith_noise_handshake_write(&res, NULL, 0, msg, sizeof(msg), &n);
    if (rc == -KITH_EDECRYPT) /* a low-order e from the fuzzer */
        goto done;
    if (rc != 0)
        abort();
    if ((flags & 1) && kith_noise_handshake_read(&ini, msg, n, out, sizeof(out), &m) != 0)
        abort();
    if (feed(&ini, &res, (flags & 3) == 3, part3, len3) != 0)
        goto done;
    if (kith_noise_handshake_split(&res, &tx, &rx) != 0)
        abort();
    /* Fuzzer bytes as a transport message are refused (a forgery would
     * need the key), and the refusal leaves the nonce where it was. */
    rc = kith_noise_cipher_decrypt(&rx, NULL, 0, part3, len3, out, sizeof(out), &m);
    if (rc == 0 || !documented(rc))
        abort();
    if (kith_noise_handshake_split(&ini, &itx, &irx) == 0) {
        /* A real initiator's transport message is accepted. */
        if (kith_noise_cipher_encrypt(&itx, NULL, 0, part1, len1 < 1000 ? len1 : 1000, msg,
                                      sizeof(msg), &n) != 0)
            abort();
        if (kith_noise_cipher_decrypt(&rx, NULL, 0, msg, n, out, sizeof(out), &m) != 0)
            abort();
        kith_noise_cipher_wipe(&itx);
        kith_noise_cipher_wipe(&irx);
    }
    kith_noise_cipher_wipe(&tx);
    kith_noise_cipher_wipe(&rx);
done:
    kith_noise_handshake_wipe(&ini);
    kith_noise_handshake_wipe(&res);
    return 0;
}
