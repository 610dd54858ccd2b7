/*
 * output: how kith prints. Plain sentences by default, JSON with --json;
 * errors as one line `kith: ...` on stderr. The formatting helpers here are
 * pure (they write into the caller's buffer) so they can be tested.
 */
#ifndef KITH_CLI_OUTPUT_H
#define KITH_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Length of the short id kith shows for a post: 12 hex digits. */
#define OUT_SHORT_ID 12

/* Print `kith: <message>` and a newline on stderr. */
void out_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print v as indented JSON and a newline on stdout. */
void out_json(const json_t *v);

/*
 * Flush stdout. Returns 0, or -errno when the output could not be written
 * (a full disk, a closed pipe). The caller decides what to say.
 */
int out_finish(void);

/* The first OUT_SHORT_ID characters of a hex id (or all of a shorter one),
 * NUL-terminated, in buf (capacity at least OUT_SHORT_ID + 1). NULL id
 * gives "?". */
void out_short_id(const char *id, char *buf, size_t cap);

/*
 * When something happened, for people: "just now", "5 minutes ago",
 * "yesterday", "3 days ago" while the node's clock looks sane (then_ms not
 * in the future by more than a minute, and within the last 30 days), else a
 * date and time in UTC ("2025-03-12 14:05 UTC"). Writes into buf (capacity
 * cap, NUL-terminated).
 */
void out_when(uint64_t now_ms, uint64_t then_ms, char *buf, size_t cap);

/*
 * A one-line label for a post: the text up to its first line break, with
 * leading spaces and markdown heading marks ("# ") dropped, shortened to at
 * most max_chars characters (UTF-8 aware, ending in "..." when cut).
 * Writes into buf (capacity cap, NUL-terminated). NULL text gives "".
 */
void out_first_line(const char *text, size_t max_chars, char *buf, size_t cap);

/* "1 reply" / "3 replies": n and the right form of word/words. */
void out_count(long long n, const char *one, const char *many, char *buf, size_t cap);

/* Milliseconds since 1970 from the system clock. */
uint64_t out_now_ms(void);

#endif
