/*
 * fuzz_rpc: control-socket request lines (node/rpc.c) on arbitrary bytes,
 * against one real service over a temp store made once per process. The
 * two-byte marker "@S" in the input is replaced by a live session token, so
 * the fuzzer reaches the commands that need one. Every request must get
 * exactly one response that is a JSON object on one line with "ok" and
 * either "result" or "error" with a Kith code; nothing may crash or leak.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rpc.h"
#include "service.h"
#include "store.h"
#include "vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static struct store *st;
static struct vault *v;
static struct service *svc;
static char token[SERVICE_TOKEN_HEX + 1];
/* The service clock: 901 s on per input, so unlock delays (at most 900 s)
 * never pile up into a refusal of the fuzzer's own re-unlock. */
static uint64_t clock_ms = 1700000000000ull;

static uint64_t fuzz_clock(void *arg)
{
    return clock_ms;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void cleanup(void)
{
    service_close(svc);
    vault_close(v);
    store_close(st);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void init_once(void)
{
    char key[128];
    struct service_config cfg = {.session_idle_s = UINT32_MAX, .now_ms = fuzz_clock};
    struct service_session *s;
    json_t *g = NULL;

    if (sodium_init() < 0)
        abort();
    strcpy(dir, "/tmp/kith-fuzz-rpc-XXXXXX");
    if (mkdtemp(dir) == NULL || store_open(dir, &st) != 0)
        abort();
    snprintf(key, sizeof key, "%s/node.key", dir);
    if (vault_open_keyfile(st, key, &v) != 0 || service_open(st, v, &cfg, &svc) != 0)
        abort();
    if (service_account_create(svc, "fuzz", "pw", 2, &s) != 0)
        abort();
    strcpy(token, service_session_token(s));
    if (service_group_create(svc, s, "g", NULL, 0, &g) != 0)
        abort();
    json_decref(g);
    atexit(cleanup);
}

static void check(const char *resp)
{
    json_t *r = json_loads(resp, 0, NULL), *ok;

    if (r == NULL || strchr(resp, '\n') != NULL)
        abort();
    ok = json_object_get(r, "ok");
    if (json_is_true(ok) ? !json_is_object(json_object_get(r, "result"))
                         : !json_is_integer(json_object_get(json_object_get(r, "error"), "code")))
        abort();
    json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line, *resp = NULL;
    size_t n = 0;

    if (svc == NULL)
        init_once();
    clock_ms += 901000;
    if (size > 65536)
        return 0;
    line = malloc(size * (SERVICE_TOKEN_HEX / 2) + 1);
    if (line == NULL)
        return 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '@' && i + 1 < size && data[i + 1] == 'S') {
            memcpy(line + n, token, SERVICE_TOKEN_HEX);
            n += SERVICE_TOKEN_HEX;
            i++;
        } else {
            line[n++] = (char)data[i];
        }
    }
    if (rpc_handle(svc, line, n, &resp) != 0)
        abort();
    check(resp);
    free(resp);
    free(line);
    /* account.lock with the marker would end the fuzzer's session. */
    struct service_session *s;
    if (service_session_find(svc, token, &s) != 0) {
        if (service_account_unlock(svc, "fuzz", "pw", 2, &s) != 0)
            abort();
        strcpy(token, service_session_token(s));
    }
    return 0;
}
