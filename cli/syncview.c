/*
 * syncview: plain words for sync state (see syncview.h). Owns nothing: every
 * helper writes into its caller's buffer or FILE.
 */
#include "syncview.h"

#include <string.h>

void syncview_bytes(long long bytes, char *buf, size_t cap)
{
    const double k = 1024.0;

    if (bytes < 0)
        bytes = 0;
    if (bytes < 1024)
        snprintf(buf, cap, "%lld %s", bytes, bytes == 1 ? "byte" : "bytes");
    else if (bytes < 1024LL * 1024)
        snprintf(buf, cap, "%.1f KiB", (double)bytes / k);
    else if (bytes < 1024LL * 1024 * 1024)
        snprintf(buf, cap, "%.1f MiB", (double)bytes / (k * k));
    else
        snprintf(buf, cap, "%.1f GiB", (double)bytes / (k * k * k));
}

static const char *plural(long long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

void syncview_progress(long long posts, long long bytes, char *buf, size_t cap)
{
    char b[32];

    if (posts < 0)
        posts = 0;
    syncview_bytes(bytes, b, sizeof(b));
    snprintf(buf, cap, "sync: %lld %s (%s) to go", posts, plural(posts, "post", "posts"), b);
}

void syncview_summary(long long nodes, long long got, long long sent, long long moved, char *buf,
                      size_t cap)
{
    const char *nw = plural(nodes, "node", "nodes");

    if (got >= 0 && sent >= 0) {
        if (got == 0 && sent == 0)
            snprintf(buf, cap, "Synced with %lld %s: both sides already had the same posts.", nodes,
                     nw);
        else
            snprintf(buf, cap, "Synced with %lld %s: got %lld %s, sent %lld.", nodes, nw, got,
                     plural(got, "post", "posts"), sent);
        return;
    }
    if (moved <= 0)
        snprintf(buf, cap, "Synced with %lld %s: both sides already had the same posts.", nodes,
                 nw);
    else
        snprintf(buf, cap, "Synced with %lld %s: %lld %s across.", nodes, nw, moved,
                 plural(moved, "post went", "posts went"));
}

void syncview_exchanged(long long sent, long long got, long long bytes_out, long long bytes_in,
                        char *buf, size_t cap)
{
    char out[32], in[32];

    if (sent == 0 && got == 0 && bytes_out == 0 && bytes_in == 0) {
        snprintf(buf, cap, "nothing exchanged yet");
        return;
    }
    syncview_bytes(bytes_out, out, sizeof(out));
    syncview_bytes(bytes_in, in, sizeof(in));
    snprintf(buf, cap, "sent %lld %s, got %lld (%s out, %s in)", sent,
             plural(sent, "post", "posts"), got, out, in);
}

struct word {
    const char *name, *words;
};

/* Copy the words for name from table, or name itself. */
static void lookup(const struct word *table, const char *name, char *buf, size_t cap)
{
    for (const struct word *w = table; w->name; w++)
        if (strcmp(w->name, name) == 0) {
            snprintf(buf, cap, "%s", w->words);
            return;
        }
    snprintf(buf, cap, "%s", name);
}

void syncview_state(const char *state, char *buf, size_t cap)
{
    static const struct word states[] = {
        {"idle", "not connected"},
        {"backoff", "not connected; will try again soon"},
        {"dialing", "connecting"},
        {"handshake", "connecting (checking who it is)"},
        {"syncing", "syncing now"},
        {"live", "connected and in sync; new posts go across as they are written"},
        {"waiting", "waiting for its serial device to appear"},
        {NULL, NULL},
    };

    if (!state) {
        snprintf(buf, cap, "in an unknown state");
        return;
    }
    lookup(states, state, buf, cap);
}

void syncview_source(const char *source, char *buf, size_t cap)
{
    static const struct word sources[] = {
        {"config", "named in the config"},
        {"discovery", "found on the local network"},
        {"inbound", "connected to this node"},
        {"serial", "over a serial line (Bluetooth or cable)"},
        {NULL, NULL},
    };

    if (!source) {
        snprintf(buf, cap, "%s", "");
        return;
    }
    lookup(sources, source, buf, cap);
}

void syncview_error(const char *name, char *buf, size_t cap)
{
    static const struct word errors[] = {
        {"ECONNREFUSED", "connection refused"},
        {"ETIMEDOUT", "no answer (timed out)"},
        {"EHOSTUNREACH", "no route to that address"},
        {"ENETUNREACH", "the network cannot be reached"},
        {"EADDRNOTAVAIL", "that address is not available"},
        {"ECONNRESET", "the connection was cut"},
        {"ECONNABORTED", "the connection was cut"},
        {"EPIPE", "the connection was cut"},
        {"ENOENT", "no such host or device"},
        {"EACCES", "no permission to open the device (see Permissions in SERIAL.md)"},
        {"EBUSY", "the device is busy (another program has it open?)"},
        {"EIO", "the device stopped working (the link dropped?)"},
        {"EAI_NONAME", "no such host"},
        {"ECANCELED", "the node stopped the sync"},
        {"EMFILE", "the node has too many connections open"},
        {"ENOSPC", "the node has no room for more connections"},
        {"KITH_ENOSPC", "the disk is full"},
        {"KITH_ESIGNATURE", "it sent a post with a bad signature"},
        {"KITH_EDECRYPT", "it sent data that does not open with the group key"},
        {"KITH_EPROTOCOL", "it broke the sync protocol"},
        {"KITH_EMSGTYPE", "it sent a message this node does not know"},
        {"KITH_ETOOBIG", "it sent a message over the size limit"},
        {"KITH_ETRUNCATED", "it sent a damaged message"},
        {"KITH_EENCODING", "it sent a damaged message"},
        {"KITH_ETRAILING", "it sent a damaged message"},
        {"KITH_EVERSION", "it speaks another version of the sync protocol"},
        {"KITH_EBADKEY", "it has an invalid node key"},
        {"KITH_ENOTMEMBER", "it shares no group with this node"},
        {"KITH_EINVAL", "that is not a HOST:PORT address"},
        {NULL, NULL},
    };

    if (!name || !*name) {
        snprintf(buf, cap, "unknown error");
        return;
    }
    lookup(errors, name, buf, cap);
}

void syncview_progress_init(struct syncview_progress_state *s, FILE *out, int tty)
{
    memset(s, 0, sizeof(*s));
    s->out = out;
    s->tty = tty;
}

void syncview_progress_update(struct syncview_progress_state *s, long long posts, long long bytes)
{
    char line[128];

    if (s->shown && posts == s->posts && bytes == s->bytes)
        return;
    /* While connecting and reconciling nothing is known to go yet: "0 posts
     * to go" then would read as "done". */
    if (!s->shown && posts <= 0 && bytes <= 0)
        return;
    syncview_progress(posts, bytes, line, sizeof(line));
    /* A terminal gets one line rewritten in place; a log or a pipe gets a
     * line per change and no control characters. */
    if (s->tty)
        fprintf(s->out, "\r%s\033[K", line);
    else
        fprintf(s->out, "%s\n", line);
    fflush(s->out);
    s->shown = 1;
    s->posts = posts;
    s->bytes = bytes;
}

void syncview_progress_end(struct syncview_progress_state *s)
{
    if (s->tty && s->shown) {
        fprintf(s->out, "\r\033[K");
        fflush(s->out);
    }
}
