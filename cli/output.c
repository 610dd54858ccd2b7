/*
 * output: printing for kith (see output.h). Owns nothing: every helper
 * writes into a buffer its caller provides, or straight to stdout/stderr.
 */
#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void out_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fflush(stdout); /* keep the order right when both go to one terminal */
    fprintf(stderr, "kith: %s\n", msg);
}

void out_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

int out_finish(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return errno ? -errno : -EIO;
    return 0;
}

void out_short_id(const char *id, char *buf, size_t cap)
{
    if (!id)
        id = "?";
    snprintf(buf, cap, "%.*s", OUT_SHORT_ID, id);
}

void out_when(uint64_t now_ms, uint64_t then_ms, char *buf, size_t cap)
{
    const uint64_t minute = (uint64_t)60 * 1000, hour = 60 * minute, day = 24 * hour;

    /* A Pi without network may think it is 1970: then say the date. */
    const uint64_t sane_after = 1577836800000ull; /* 2020-01-01 */
    int sane = now_ms >= sane_after && then_ms <= now_ms + minute &&
               (then_ms >= now_ms || now_ms - then_ms < 30 * day);

    if (sane) {
        uint64_t d = now_ms > then_ms ? now_ms - then_ms : 0;
        if (d < minute)
            snprintf(buf, cap, "just now");
        else if (d < 2 * minute)
            snprintf(buf, cap, "a minute ago");
        else if (d < hour)
            snprintf(buf, cap, "%llu minutes ago", (unsigned long long)(d / minute));
        else if (d < 2 * hour)
            snprintf(buf, cap, "an hour ago");
        else if (d < day)
            snprintf(buf, cap, "%llu hours ago", (unsigned long long)(d / hour));
        else if (d < 2 * day)
            snprintf(buf, cap, "yesterday");
        else
            snprintf(buf, cap, "%llu days ago", (unsigned long long)(d / day));
        return;
    }
    time_t t = (time_t)(then_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(buf, cap, "at an unknown time");
}

void out_first_line(const char *text, size_t max_chars, char *buf, size_t cap)
{
    size_t i = 0, o = 0, chars = 0;
    int truncated = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    if (!text)
        return;
    while (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')
        i++;
    if (text[i] == '#') {
        while (text[i] == '#')
            i++;
        while (text[i] == ' ')
            i++;
    }
    while (text[i] && text[i] != '\n' && text[i] != '\r') {
        /* Length of this UTF-8 sequence (a stray byte counts as one). */
        unsigned char c = (unsigned char)text[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        for (size_t k = 1; k < n; k++)
            if (text[i + k] == '\0') {
                n = k;
                break;
            }
        if (chars == max_chars || o + n + 4 > cap) {
            truncated = 1;
            break;
        }
        memcpy(buf + o, text + i, n);
        o += n;
        i += n;
        chars++;
    }
    while (o > 0 && (buf[o - 1] == ' ' || buf[o - 1] == '\t'))
        o--;
    if (truncated) {
        /* Room for "..." and the NUL, cutting only between characters. */
        while (o > 0 && o + 4 > cap) {
            o--;
            while (o > 0 && ((unsigned char)buf[o] & 0xc0) == 0x80)
                o--;
        }
        if (o + 4 <= cap) {
            memcpy(buf + o, "...", 3);
            o += 3;
        }
    }
    buf[o] = '\0';
}

void out_count(long long n, const char *one, const char *many, char *buf, size_t cap)
{
    snprintf(buf, cap, "%lld %s", n, n == 1 ? one : many);
}

uint64_t out_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
