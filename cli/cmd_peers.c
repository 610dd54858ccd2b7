/*
 * kith peers: the other nodes this node knows, how it reached them, whether
 * they are connected, and what went each way since the node started.
 */
#include <stdio.h>

#include "cmd.h"
#include "output.h"
#include "syncview.h"

/* "ab12cd34ef56" or "not known yet" for a null key. */
static void short_key(const json_t *obj, const char *field, char *buf, size_t cap)
{
    const char *k = json_string_value(json_object_get(obj, field));

    if (k)
        out_short_id(k, buf, cap);
    else
        snprintf(buf, cap, "not known yet");
}

/* "last seen 5 minutes ago" or "never seen". */
static void when_words(const char *what, const char *never, long long ms, char *buf, size_t cap)
{
    char when[64];

    if (ms <= 0) {
        snprintf(buf, cap, "%s", never);
        return;
    }
    out_when(out_now_ms(), (uint64_t)ms, when, sizeof(when));
    snprintf(buf, cap, "%s %s", what, when);
}

static void print_peer(const json_t *p)
{
    char key[OUT_SHORT_ID + 16], state[128], source[64], seen[96], synced[96], moved[160];
    const char *addr = json_string_value(json_object_get(p, "address"));
    const char *err = json_string_value(json_object_get(p, "last_error"));

    short_key(p, "node_key", key, sizeof(key));
    syncview_state(json_string_value(json_object_get(p, "state")), state, sizeof(state));
    syncview_source(json_string_value(json_object_get(p, "source")), source, sizeof(source));
    when_words("last seen", "never seen", cmd_int(p, "last_seen_ms"), seen, sizeof(seen));
    when_words("last synced", "never synced", cmd_int(p, "last_sync_ms"), synced, sizeof(synced));
    syncview_exchanged(cmd_int(p, "posts_sent"), cmd_int(p, "posts_received"),
                       cmd_int(p, "bytes_sent"), cmd_int(p, "bytes_received"), moved,
                       sizeof(moved));

    printf("  %s (node %s)\n", addr ? addr : "address not known", key);
    printf("    %s%s%s\n", state, *source ? "; " : "", source);
    if (err) {
        char reason[128];
        syncview_error(err, reason, sizeof(reason));
        printf("    the last try failed: %s\n", reason);
    }
    printf("    %s; %s\n", seen, synced);
    printf("    %s\n", moved);
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    json_t *result = NULL;
    char key[OUT_SHORT_ID + 16];

    (void)a;
    if (cmd_call(ctx, "peers", NULL, 0, NULL, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
        json_decref(result);
        return CMD_OK;
    }
    json_t *peers = json_object_get(result, "peers");
    const char *listen = json_string_value(json_object_get(result, "listen"));
    short_key(result, "node_key", key, sizeof(key));
    if (listen)
        printf("This node is %s, listening for other nodes on %s.\n", key, listen);
    else
        printf("This node is %s; it does not listen for other nodes (it only connects out).\n",
               key);
    if (json_array_size(peers) == 0) {
        printf("It knows no other node yet. Nodes of your groups on the same network find each "
               "other by themselves; to name one, run: kith sync --peer HOST:PORT\n");
        json_decref(result);
        return CMD_OK;
    }
    printf("\nKnown nodes:\n");
    for (size_t i = 0; i < json_array_size(peers); i++) {
        if (i > 0)
            printf("\n");
        print_peer(json_array_get(peers, i));
    }
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_peers_entry = {
    .name = "peers",
    .usage = "",
    .summary = "List the other nodes this node knows and what went to and from each.",
    .help = "Counts are since the node started. A node is known when it was named in the\n"
            "config or with kith sync --peer, heard on the local network, or connected here.",
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
