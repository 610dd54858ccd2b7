/*
 * fuzz_config: the config file parser (node/config.c over inih) on arbitrary
 * text, and the command-line parser on arbitrary argument vectors (the input
 * split at NUL bytes). Neither may crash, read out of bounds or leak; an
 * error must always come with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_args(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    const char *argv[34];
    int argc = 1;
    struct config_args a;
    struct config c;
    char err[CONFIG_ERR_MAX];

    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    copy[size] = '\0';
    argv[0] = "kithd";
    for (size_t i = 0; i <= size && argc < 33;) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;
    err[0] = '\0';
    if (config_parse_args(argc, argv, &a, err, sizeof(err)) == 0) {
        config_init(&c);
        if (config_from_args(&c, &a, err, sizeof(err)) == 0)
            (void)config_resolve(&c, err, sizeof(err));
        else if (err[0] == '\0')
            abort();
    } else if (err[0] == '\0') {
        abort();
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config c; /* large: keep it off the stack */
    char err[CONFIG_ERR_MAX];
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    config_init(&c);
    err[0] = '\0';
    if (config_load_string(&c, text, "fuzz.conf", err, sizeof(err)) != 0 && err[0] == '\0')
        abort();
    /* Whatever was accepted must be a usable config. */
    if (c.session_idle_minutes < CONFIG_SESSION_IDLE_MIN ||
        c.session_idle_minutes > CONFIG_SESSION_IDLE_MAX)
        abort();
    free(text);
    fuzz_args(data, size);
    return 0;
}
