/*
 * libFuzzer target for proto/invite.c: decode any text; a code that decodes
 * must encode again, and that canonical spelling must decode to the same
 * invite.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/invite.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (sodium_init() < 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kith_invite inv, again;
    char text[KITH_INVITE_TEXT_MAX];

    if (kith_invite_decode((const char *)data, size, &inv) != 0)
        return 0;
    if (kith_invite_encode(&inv, text, sizeof(text)) != 0)
        abort();
    if (kith_invite_decode(text, strlen(text), &again) != 0 ||
        memcmp(&inv, &again, sizeof(inv)) != 0)
        abort();
    return 0;
}
