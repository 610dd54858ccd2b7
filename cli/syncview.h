/*
 * syncview: how `kith sync`, `kith peers` and `kith status` put sync state
 * into plain words: sizes, counts, peer states, error names, the progress
 * line and the closing summary. Pure formatting into the caller's buffers,
 * plus the progress writer that decides when to print (no clock, no socket),
 * so all of it is unit-tested.
 */
#ifndef KITH_CLI_SYNCVIEW_H
#define KITH_CLI_SYNCVIEW_H

#include <stddef.h>
#include <stdio.h>

/* A byte count for people: "0 bytes", "1 byte", "900 bytes", "1.5 KiB",
 * "12.0 MiB", "2.1 GiB". Negative counts as 0. Writes into buf (capacity
 * cap, NUL-terminated). */
void syncview_bytes(long long bytes, char *buf, size_t cap);

/* The progress line, without a newline: "sync: 12 posts (6.0 KiB) to go",
 * "sync: 1 post (300 bytes) to go". */
void syncview_progress(long long posts, long long bytes, char *buf, size_t cap);

/*
 * The closing line of a sync that is done: "Synced with 2 nodes: got 30
 * posts, sent 12." or, when nothing moved, "Synced with 1 node: both sides
 * already had the same posts." nodes is how many peers finished. got/sent
 * < 0 means unknown: then moved (posts both ways, >= 0) is said instead:
 * "Synced with 2 nodes: 42 posts went across."
 */
void syncview_summary(long long nodes, long long got, long long sent, long long moved, char *buf,
                      size_t cap);

/* What went each way with one peer: "sent 12 posts, got 30 (4.0 KiB out,
 * 12.0 KiB in)", or "nothing exchanged yet" when all four are 0. */
void syncview_exchanged(long long sent, long long got, long long bytes_out, long long bytes_in,
                        char *buf, size_t cap);

/* A peer state from node/CONTROL.md ("idle", "backoff", "dialing",
 * "handshake", "syncing", "live", "waiting") in plain words; an unknown state is
 * copied as it is, NULL gives "in an unknown state". */
void syncview_state(const char *state, char *buf, size_t cap);

/* Where the peer came from ("config", "discovery", "inbound", "serial") in plain
 * words; an unknown source is copied, NULL gives "". */
void syncview_source(const char *source, char *buf, size_t cap);

/* An error name that ended a sync ("ECONNREFUSED", "KITH_ESIGNATURE") in
 * plain words ("connection refused", "it sent a post with a bad
 * signature"). Text that is not a known name is copied as it is; NULL or ""
 * gives "unknown error". */
void syncview_error(const char *name, char *buf, size_t cap);

/*
 * The progress writer: on a terminal it rewrites one line ("\r", the line,
 * clear to the end); otherwise it prints a new line only when the numbers
 * changed. Nothing is printed until the first update with something to go
 * (before that the node is still connecting or comparing sets).
 */
struct syncview_progress_state {
    FILE *out;
    int tty;
    int shown; /* a line has been printed */
    long long posts, bytes;
};

/* Start a writer on out; tty says whether out is a terminal. */
void syncview_progress_init(struct syncview_progress_state *s, FILE *out, int tty);

/* The numbers now: print them if a terminal, or if they changed. */
void syncview_progress_update(struct syncview_progress_state *s, long long posts, long long bytes);

/* The work is over: on a terminal, clear the progress line so the summary
 * starts on a clean line. */
void syncview_progress_end(struct syncview_progress_state *s);

#endif
