/*
 * log: kithd's one-line-per-event log on stderr.
 *
 *   2026-11-25T09:18:37Z info post.stored group=3fa1c2d0 id=9b01e2aa
 *
 * A line is: UTC time, level, an event name (dotted, lower case), then
 * key=value pairs. Never pass a key, a passphrase or a post body: ids, counts
 * and error names only.
 */
#ifndef KITH_LOG_H
#define KITH_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below level are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Parse "debug", "info", "warn", "error". Returns 0 or -KITH_EINVAL. */
int log_parse_level(const char *name, enum log_level *out);

/* Write one line: event, then fmt (key=value pairs) formatted printf-style. */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

#endif
