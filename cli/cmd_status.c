/*
 * kith status: is the node running, what does it hold, and is an account
 * unlocked here.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "kith/error.h"
#include "output.h"
#include "session.h"

static void size_words(long long bytes, char *buf, size_t cap)
{
    if (bytes < 1024LL * 1024)
        snprintf(buf, cap, "%lld KiB", (bytes + 1023) / 1024);
    else
        snprintf(buf, cap, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
}

static void duration_words(long long s, char *buf, size_t cap)
{
    if (s < 120)
        snprintf(buf, cap, "%lld seconds", s);
    else if (s < 7200)
        snprintf(buf, cap, "%lld minutes", s / 60);
    else if (s < 2LL * 86400)
        snprintf(buf, cap, "%lld hours", s / 3600);
    else
        snprintf(buf, cap, "%lld days", s / 86400);
}

/* Who is unlocked here, checked with the node (the session may have ended).
 * *groups gets that account's group.list result (the caller's; NULL when
 * locked), so sync sets can be shown by name. */
static void print_who(struct cmd_ctx *ctx, json_t **groups)
{
    struct client_error err;
    char name[SESSION_NAME_MAX];
    json_t *result = NULL;
    int had;

    int r = cmd_request(ctx, "group.list", NULL, 1, &result, &err, name, &had);
    if (r == 0 && name[0])
        printf("You are unlocked as \"%s\".\n", name);
    else if (r == 0)
        printf("An account is unlocked (from KITH_SESSION).\n");
    else if (err.from_node && err.code == -KITH_ELOCKED)
        printf("No account is unlocked here (run: kith unlock NAME).\n");
    *groups = result;
}

/* The name of group_id among the unlocked account's groups, or NULL. */
static const char *group_name(const json_t *groups, const char *group_id)
{
    const json_t *list = json_object_get(groups, "groups");

    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *g = json_array_get(list, i);
        if (strcmp(cmd_str(g, "group_id"), group_id) == 0)
            return cmd_str(g, "name");
    }
    return NULL;
}

/* The sync lines: node key, where it listens, peers connected, and per group
 * how many items its sync set holds and the set's digest (the same digest on
 * two nodes means they hold the same posts of that group). */
static void print_sync(const json_t *sync, const json_t *groups)
{
    char key[OUT_SHORT_ID + 1], gid[OUT_SHORT_ID + 1], digest[OUT_SHORT_ID + 1];
    const char *listen = json_string_value(json_object_get(sync, "listen"));
    long long connected = cmd_int(sync, "peers_connected");
    const json_t *sets = json_object_get(sync, "sets");

    if (!json_is_object(sync))
        return;
    out_short_id(cmd_str(sync, "node_key"), key, sizeof(key));
    printf("Sync: this node is %s; %s%s; %lld other %s connected.\n", key,
           listen ? "listening on " : "not listening (it only connects out)", listen ? listen : "",
           connected, connected == 1 ? "node is" : "nodes are");
    for (size_t i = 0; i < json_array_size(sets); i++) {
        const json_t *s = json_array_get(sets, i);
        const char *name = group_name(groups, cmd_str(s, "group_id"));
        long long items = cmd_int(s, "items");
        out_short_id(cmd_str(s, "group_id"), gid, sizeof(gid));
        out_short_id(cmd_str(s, "digest"), digest, sizeof(digest));
        if (name)
            printf("  Group \"%s\" (%s): ", name, gid);
        else
            printf("  Group %s: ", gid);
        printf("%lld %s to sync, fingerprint %s\n", items, items == 1 ? "item" : "items", digest);
    }
}

static enum cmd_retval exec(struct cmd_ctx *ctx, const struct args *a)
{
    json_t *result = NULL, *grouplist = NULL;
    char up[64], used[64], map[64], posts[64], groups[64], accounts[64];

    if (cmd_call(ctx, "status", NULL, 0, NULL, &result) != CMD_OK)
        return CMD_FAIL;
    if (ctx->json) {
        cmd_print_json(result);
        json_decref(result);
        return CMD_OK;
    }
    duration_words(cmd_int(result, "uptime_s"), up, sizeof(up));
    size_words(cmd_int(result, "store_bytes"), used, sizeof(used));
    size_words(cmd_int(result, "map_bytes"), map, sizeof(map));
    out_count(cmd_int(result, "posts"), "post", "posts", posts, sizeof(posts));
    out_count(cmd_int(result, "groups"), "group", "groups", groups, sizeof(groups));
    out_count(cmd_int(result, "accounts"), "account", "accounts", accounts, sizeof(accounts));
    printf("The node is running (kithd %s) and has been up for %s.\n", cmd_str(result, "version"),
           up);
    printf("It holds %s (%lld deleted) in %s, for %s; %lld %s unlocked now.\n", posts,
           cmd_int(result, "tombstones"), groups, accounts, cmd_int(result, "sessions"),
           cmd_int(result, "sessions") == 1 ? "session is" : "sessions are");
    printf("Data directory: %s\n", cmd_str(result, "data_dir"));
    printf("Socket: %s\n", cmd_str(result, "socket"));
    printf("The store uses %s on disk (its map is %s and grows when full).\n", used, map);
    print_who(ctx, &grouplist);
    print_sync(json_object_get(result, "sync"), grouplist);
    json_decref(grouplist);
    json_decref(result);
    return CMD_OK;
}

const struct cmd_entry cmd_status_entry = {
    .name = "status",
    .usage = "",
    .summary = "Say whether the node is running and what it holds.",
    .min_args = 0,
    .max_args = 0,
    .exec = exec,
};
