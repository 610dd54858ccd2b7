/*
 * kith sync [--peer HOST:PORT | --serial DEVICE [--baud N]] [--timeout
 * SECONDS]: ask the node to sync now, with every node it knows, with one
 * on the network, or with the node at the other end of a serial device
 * (Bluetooth RFCOMM, a USB cable), follow the sync about four times a
 * second with a progress line on stderr, and say what went across.
 * The node does the work (node/CONTROL.md, "Sync commands"); this file only
 * asks and watches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "kith/error.h"
#include "output.h"
#include "syncview.h"

#define POLL_MS 250
#define TIMEOUT_DEFAULT_S 300
#define TIMEOUT_MAX_S 86400

static const struct args_opt opts[] = {
    {.name = "peer", .shortopt = 'p', .has_value = 1, .meta = "HOST:PORT"},
    {.name = "timeout", .shortopt = 0, .has_value = 1, .meta = "SECONDS"},
    {.name = "serial", .shortopt = 0, .has_value = 1, .meta = "DEVICE"},
    {.name = "baud", .shortopt = 0, .has_value = 1, .meta = "N"},
    {0},
};

/* Posts received and sent so far: over every peer, and over the peer whose
 * address is the --peer given (if the node lists it under that address). */
struct totals {
    long long got, sent;           /* every peer */
    long long only_got, only_sent; /* the --peer one; 0 while it is not listed */
    int matched;                   /* the --peer one is listed */
    int known;                     /* the peers answer was there */
};

static void sum_peers(const json_t *peers_result, const char *only, struct totals *t)
{
    const json_t *peers = json_object_get(peers_result, "peers");

    memset(t, 0, sizeof(*t));
    if (!json_is_array(peers))
        return;
    t->known = 1;
    for (size_t i = 0; i < json_array_size(peers); i++) {
        const json_t *p = json_array_get(peers, i);
        long long got = cmd_int(p, "posts_received"), sent = cmd_int(p, "posts_sent");
        t->got += got;
        t->sent += sent;
        if (only && strcmp(cmd_str(p, "address"), only) == 0) {
            t->matched = 1;
            t->only_got += got;
            t->only_sent += sent;
        }
    }
}

/* What moved between two snapshots: through the --peer one when the node
 * lists it, else through every peer. -1 each when it cannot be told. */
static void moved(const struct totals *b, const struct totals *a, long long *got, long long *sent)
{
    long long g = a->matched ? a->only_got - b->only_got : a->got - b->got;
    long long s = a->matched ? a->only_sent - b->only_sent : a->sent - b->sent;

    *got = *sent = -1;
    if (b->known && a->known && g >= 0 && s >= 0) {
        *got = g;
        *sent = s;
    }
}

/* The peers totals now; known = 0 if the node would not say. */
static void snapshot(struct cmd_ctx *ctx, const char *only, struct totals *t)
{
    struct client_error err;
    char name[SESSION_NAME_MAX];
    json_t *result = NULL;
    int had;

    memset(t, 0, sizeof(*t));
    if (cmd_request(ctx, "peers", NULL, 0, &result, &err, name, &had) == 0)
        sum_peers(result, only, t);
    json_decref(result);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* "kith: could not sync with ADDR: reason" for the first error, and how
 * many more there were. */
static void report_errors(const json_t *status)
{
    const json_t *errors = json_object_get(status, "errors");
    size_t n = json_array_size(errors);
    char reason[160];

    if (n == 0) {
        out_error("the sync failed (the node gave no reason; see its log)");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(errors, i);
        const char *addr = json_string_value(json_object_get(e, "address"));
        syncview_error(json_string_value(json_object_get(e, "error")), reason, sizeof(reason));
        out_error("could not sync with %s: %s", addr && *addr ? addr : "a node", reason);
    }
}

/* Send `sync` (with peer, or serial and baud > 0, or neither); returns
 * CMD_OK with *sync_id and *npeers, or says why not. */
static enum cmd_retval start(struct cmd_ctx *ctx, const char *peer, const char *serial, long baud,
                             json_int_t *sync_id, long long *npeers)
{
    struct client_error err;
    char name[SESSION_NAME_MAX];
    json_t *params = json_object(), *result = NULL;
    int had;

    if (!params) {
        out_error("out of memory");
        return CMD_FAIL;
    }
    if (peer && json_object_set_new(params, "peer", json_string(peer)) < 0) {
        json_decref(params);
        out_error("the address must be text (UTF-8)");
        return CMD_USAGE;
    }
    if (serial && (json_object_set_new(params, "serial", json_string(serial)) < 0 ||
                   (baud > 0 && json_object_set_new(params, "baud", json_integer(baud)) < 0))) {
        json_decref(params);
        out_error("the device path must be text (UTF-8)");
        return CMD_USAGE;
    }
    if (cmd_request(ctx, "sync", params, 0, &result, &err, name, &had) < 0) {
        /* CONTROL.md says KITH_EINVAL; a node may also name the field in a
         * KITH_EREQUEST ("field must be HOST:PORT: peer"). */
        if (err.from_node && peer &&
            (err.code == -KITH_EINVAL ||
             (err.code == -KITH_EREQUEST && strstr(err.message, "peer")))) {
            out_error("\"%s\" is not an address to sync with: give HOST:PORT, for example "
                      "192.168.1.20:7711 or [fd00::20]:7711",
                      peer);
            return CMD_USAGE;
        }
        if (err.from_node && serial && err.code == -KITH_EREQUEST && strstr(err.message, "baud")) {
            out_error("%ld is not a baud rate this system can set: use a standard one such as "
                      "115200, 230400, 460800 or 921600",
                      baud);
            return CMD_USAGE;
        }
        if (err.from_node && serial && err.code == -KITH_EREQUEST) {
            out_error("\"%s\" is not a serial device path (for example /dev/rfcomm0)", serial);
            return CMD_USAGE;
        }
        cmd_report(ctx, &err, NULL, name, had);
        return CMD_FAIL;
    }
    json_t *id = json_object_get(result, "sync_id");
    if (!json_is_integer(id)) {
        json_decref(result);
        out_error("the node sent an answer kith does not understand (is kith the same version "
                  "as kithd?)");
        return CMD_FAIL;
    }
    *sync_id = json_integer_value(id);
    *npeers = cmd_int(result, "peers");
    json_decref(result);
    return CMD_OK;
}

/* Poll sync.status until the sync is no longer running or the deadline
 * passes. *status is the last answer (the caller's). */
static enum cmd_retval watch(struct cmd_ctx *ctx, json_int_t sync_id, long timeout_s,
                             json_t **status)
{
    struct syncview_progress_state prog;
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    struct client_error err;
    char name[SESSION_NAME_MAX];
    int had;

    *status = NULL;
    syncview_progress_init(&prog, stderr, isatty(STDERR_FILENO));
    for (;;) {
        json_t *params = json_pack("{s:I}", "sync_id", sync_id), *r = NULL;
        if (cmd_request(ctx, "sync.status", params, 0, &r, &err, name, &had) < 0) {
            syncview_progress_end(&prog);
            if (err.from_node && err.code == -KITH_ENOTFOUND)
                out_error("the node no longer knows this sync (did it restart?); run kith "
                          "sync again");
            else
                cmd_report(ctx, &err, NULL, name, had);
            return CMD_FAIL;
        }
        json_decref(*status);
        *status = r;
        if (strcmp(cmd_str(r, "state"), "running") != 0)
            break;
        syncview_progress_update(&prog, cmd_int(r, "posts_to_go"), cmd_int(r, "bytes_to_go"));
        if (mono_ms() >= deadline) {
            syncview_progress_end(&prog);
            out_error("the sync is still going after %ld seconds; the node goes on with it "
                      "(see: kith peers)",
                      timeout_s);
            return CMD_FAIL;
        }
        sleep_ms(POLL_MS);
    }
    syncview_progress_end(&prog);
    return CMD_OK;
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    const char *peer = args_get(a, 0), *tos = args_get(a, 1);
    const char *serial = args_get(a, 2), *bauds = args_get(a, 3);
    long timeout_s = TIMEOUT_DEFAULT_S, baud = 0;
    struct totals before, after;
    json_t *status = NULL;
    json_int_t sync_id = 0;
    long long npeers = 0;
    char line[256];
    enum cmd_retval rv;

    if (tos) {
        char *end;
        timeout_s = strtol(tos, &end, 10);
        if (*tos == '\0' || *end != '\0' || timeout_s < 1 || timeout_s > TIMEOUT_MAX_S) {
            out_error("--timeout is how many seconds to wait: a number from 1 to %d",
                      TIMEOUT_MAX_S);
            return CMD_USAGE;
        }
    }
    if (peer && *peer == '\0') {
        out_error("--peer needs an address: HOST:PORT");
        return CMD_USAGE;
    }
    if (peer && serial) {
        out_error("give --peer or --serial, not both");
        return CMD_USAGE;
    }
    if (serial && *serial == '\0') {
        out_error("--serial needs a device, for example /dev/rfcomm0");
        return CMD_USAGE;
    }
    if (bauds) {
        char *end;
        baud = strtol(bauds, &end, 10);
        if (!serial || *bauds == '\0' || *end != '\0' || baud < 1 || baud > 4000000) {
            out_error(serial ? "--baud is the line speed: a number such as 115200"
                             : "--baud goes with --serial DEVICE");
            return CMD_USAGE;
        }
    }
    /* The node lists a serial peer under its device path. */
    const char *only = peer ? peer : serial;
    snapshot(ctx, only, &before);
    if ((rv = start(ctx, peer, serial, baud, &sync_id, &npeers)) != CMD_OK)
        return rv;
    if ((rv = watch(ctx, sync_id, timeout_s, &status)) != CMD_OK) {
        if (ctx->json && status)
            cmd_print_json(status);
        json_decref(status);
        return rv;
    }
    const char *state = cmd_str(status, "state");
    int failed = strcmp(state, "failed") == 0;
    if (ctx->json) {
        cmd_print_json(status);
    } else if (npeers == 0 && !failed) {
        printf("This node knows no other node to sync with yet. Nodes of your groups on the same "
               "network find each other by themselves; to name one, run: kith sync --peer "
               "HOST:PORT\n");
    } else if (!failed) {
        snapshot(ctx, only, &after);
        long long got, sent;
        moved(&before, &after, &got, &sent);
        long long nodes = cmd_int(status, "peers") - cmd_int(status, "peers_failed");
        syncview_summary(nodes < 0 ? 0 : nodes, got, sent, cmd_int(status, "posts_done"), line,
                         sizeof(line));
        printf("%s\n", line);
    }
    if (failed || (!ctx->json && cmd_int(status, "peers_failed") > 0))
        report_errors(status);
    json_decref(status);
    return failed ? CMD_FAIL : CMD_OK;
}

const struct cmd_entry cmd_sync_entry = {
    .name = "sync",
    .usage = "[--peer HOST:PORT | --serial DEVICE [--baud N]] [--timeout SECONDS]",
    .summary = "Sync with the other nodes now, and say what went across.",
    .help = "Without --peer: every node this node knows (named in its config, found on the\n"
            "local network, or connected to it). With --peer: that node only; the node then\n"
            "remembers it. With --serial: the node at the other end of that serial device\n"
            "(/dev/rfcomm0 for Bluetooth, /dev/ttyUSB0 for a cable; --baud default 115200),\n"
            "the same way, until that sync is over; on a noisy line it starts again by\n"
            "itself and keeps what already came across.\n"
            "Progress goes to stderr as \"sync: N posts (B bytes) to go\".\n"
            "kith waits at most --timeout seconds (default 300); the sync itself goes on.\n"
            "Exits 1 with the reason when no node could be synced with.",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
