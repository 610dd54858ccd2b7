/*
 * Unit tests for cli/syncview.c: the words of `kith sync`, `kith peers` and
 * the sync lines of `kith status`: byte sizes, the progress line and when it
 * is printed (terminal or not), the summary, peer states and error names.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Some tests below cut output short on purpose; optimised builds would
 * otherwise warn about it where the code is inlined into them. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "../../cli/syncview.c"

static char buf[256];

static const char *bytes(long long n)
{
    syncview_bytes(n, buf, sizeof(buf));
    return buf;
}

Test(cli_sync, bytes)
{
    cr_assert_str_eq(bytes(0), "0 bytes");
    cr_assert_str_eq(bytes(1), "1 byte");
    cr_assert_str_eq(bytes(1023), "1023 bytes");
    cr_assert_str_eq(bytes(1024), "1.0 KiB");
    cr_assert_str_eq(bytes(1536), "1.5 KiB");
    cr_assert_str_eq(bytes(1024LL * 1024), "1.0 MiB");
    cr_assert_str_eq(bytes(5LL * 1024 * 1024 * 1024 / 2), "2.5 GiB");
    cr_assert_str_eq(bytes(-5), "0 bytes");
}

Test(cli_sync, progress_line)
{
    syncview_progress(12, 6144, buf, sizeof(buf));
    cr_assert_str_eq(buf, "sync: 12 posts (6.0 KiB) to go");
    syncview_progress(1, 300, buf, sizeof(buf));
    cr_assert_str_eq(buf, "sync: 1 post (300 bytes) to go");
    syncview_progress(0, 0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "sync: 0 posts (0 bytes) to go");
}

Test(cli_sync, summary)
{
    syncview_summary(2, 30, 12, 42, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Synced with 2 nodes: got 30 posts, sent 12.");
    syncview_summary(1, 1, 0, 1, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Synced with 1 node: got 1 post, sent 0.");
    syncview_summary(1, 0, 0, 0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Synced with 1 node: both sides already had the same posts.");
    /* Per-direction counts unknown: the total is said instead. */
    syncview_summary(3, -1, -1, 42, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Synced with 3 nodes: 42 posts went across.");
    syncview_summary(1, -1, 5, 1, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Synced with 1 node: 1 post went across.");
    syncview_summary(2, -1, -1, 0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Synced with 2 nodes: both sides already had the same posts.");
}

Test(cli_sync, exchanged)
{
    syncview_exchanged(0, 0, 0, 0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "nothing exchanged yet");
    syncview_exchanged(12, 30, 4096, 12LL * 1024, buf, sizeof(buf));
    cr_assert_str_eq(buf, "sent 12 posts, got 30 (4.0 KiB out, 12.0 KiB in)");
    /* Handshake and pings move bytes even when no post does. */
    syncview_exchanged(1, 0, 900, 1, buf, sizeof(buf));
    cr_assert_str_eq(buf, "sent 1 post, got 0 (900 bytes out, 1 byte in)");
}

Test(cli_sync, states_sources_errors)
{
    const char *states[] = {"idle",    "backoff", "dialing", "handshake",
                            "syncing", "live",    "waiting"};

    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        syncview_state(states[i], buf, sizeof(buf));
        cr_assert_str_neq(buf, states[i], "state %s has no words", states[i]);
    }
    syncview_state("live", buf, sizeof(buf));
    cr_assert_str_eq(buf, "connected and in sync; new posts go across as they are written");
    syncview_state("flying", buf, sizeof(buf));
    cr_assert_str_eq(buf, "flying");
    syncview_state(NULL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "in an unknown state");

    syncview_source("discovery", buf, sizeof(buf));
    cr_assert_str_eq(buf, "found on the local network");
    syncview_source("config", buf, sizeof(buf));
    cr_assert_str_eq(buf, "named in the config");
    syncview_source("inbound", buf, sizeof(buf));
    cr_assert_str_eq(buf, "connected to this node");
    syncview_source("serial", buf, sizeof(buf));
    cr_assert_str_eq(buf, "over a serial line (Bluetooth or cable)");
    syncview_source(NULL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "");

    syncview_error("ECONNREFUSED", buf, sizeof(buf));
    cr_assert_str_eq(buf, "connection refused");
    syncview_error("ENOENT", buf, sizeof(buf));
    cr_assert_str_eq(buf, "no such host or device");
    syncview_error("EACCES", buf, sizeof(buf));
    cr_assert_str_eq(buf, "no permission to open the device (see Permissions in SERIAL.md)");
    syncview_error("KITH_ESIGNATURE", buf, sizeof(buf));
    cr_assert_str_eq(buf, "it sent a post with a bad signature");
    syncview_error("the peer hung up", buf, sizeof(buf));
    cr_assert_str_eq(buf, "the peer hung up");
    syncview_error("", buf, sizeof(buf));
    cr_assert_str_eq(buf, "unknown error");
    syncview_error(NULL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "unknown error");
}

Test(cli_sync, small_buffers_truncate)
{
    char tiny[8];

    syncview_progress(123456, 1LL << 40, tiny, sizeof(tiny));
    cr_assert_str_eq(tiny, "sync: 1");
    syncview_summary(2, 30, 12, 42, tiny, sizeof(tiny));
    cr_assert_eq(strlen(tiny), 7);
}

/* Run updates through a writer on a memory stream; returns what it wrote
 * (malloc'd). */
static char *written(int tty, const long long (*steps)[2], size_t n, int end)
{
    struct syncview_progress_state s;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    cr_assert_not_null(f);
    syncview_progress_init(&s, f, tty);
    for (size_t i = 0; i < n; i++)
        syncview_progress_update(&s, steps[i][0], steps[i][1]);
    if (end)
        syncview_progress_end(&s);
    fclose(f);
    return text;
}

Test(cli_sync, progress_not_a_terminal_prints_a_line_per_change)
{
    const long long steps[][2] = {{0, 0}, {300, 0}, {300, 0}, {120, 60000}, {120, 60000}, {0, 0}};
    char *t = written(0, steps, 6, 1);

    cr_assert_str_eq(t, "sync: 300 posts (0 bytes) to go\n"
                        "sync: 120 posts (58.6 KiB) to go\n"
                        "sync: 0 posts (0 bytes) to go\n");
    cr_assert_null(strchr(t, '\r'));
    cr_assert_null(strchr(t, '\033'));
    free(t);
}

Test(cli_sync, progress_on_a_terminal_rewrites_one_line)
{
    const long long steps[][2] = {{2, 100}, {2, 100}, {1, 50}};
    char *t = written(1, steps, 3, 1);

    cr_assert_str_eq(t, "\rsync: 2 posts (100 bytes) to go\033[K"
                        "\rsync: 1 post (50 bytes) to go\033[K"
                        "\r\033[K");
    cr_assert_null(strchr(t, '\n'));
    free(t);
}

Test(cli_sync, progress_silent_until_something_is_to_go)
{
    const long long zeros[][2] = {{0, 0}, {0, 0}};
    char *t = written(1, NULL, 0, 1);

    cr_assert_str_eq(t, "");
    free(t);
    t = written(0, NULL, 0, 1);
    cr_assert_str_eq(t, "");
    free(t);
    /* Connecting, comparing sets, then done with nothing to move. */
    t = written(1, zeros, 2, 1);
    cr_assert_str_eq(t, "");
    free(t);
    t = written(0, zeros, 2, 1);
    cr_assert_str_eq(t, "");
    free(t);
}
