/*
 * qr: invite codes as inline SVG QR codes (see qr.h). Owns nothing beyond
 * one call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "kith/error.h"
#include "qr.h"
#include "webtmpl.h"

#define QUIET 4

static int putf(struct webtmpl_buf *b, int x, int y, int w)
{
    char s[64];

    snprintf(s, sizeof(s), "M%d %dh%dv1h-%dz", x, y, w, w);
    return webtmpl_buf_puts(b, s);
}

int qr_svg(const char *text, const char *title, char **out)
{
    struct webtmpl_buf b = {0};
    size_t len = strlen(text);
    QRcode *q;
    char head[256];
    int r, size;

    *out = NULL;
    if (len == 0 || len > QR_TEXT_MAX)
        return -KITH_EINVAL;
    q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (q == NULL)
        return errno == ERANGE ? -KITH_ETOOBIG : -ENOMEM;
    size = q->width + 2 * QUIET;
    snprintf(head, sizeof(head),
             "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
             "aria-labelledby=\"qr-title\" class=\"kith-qr\" viewBox=\"0 0 %d %d\" "
             "shape-rendering=\"crispEdges\"><title id=\"qr-title\">",
             size, size);
    r = webtmpl_buf_puts(&b, head);
    if (r == 0)
        r = webtmpl_buf_escape(&b, title, strlen(title));
    if (r == 0) {
        snprintf(head, sizeof(head),
                 "</title><rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>"
                 "<path fill=\"#000000\" d=\"",
                 size, size);
        r = webtmpl_buf_puts(&b, head);
    }
    /* One run of dark modules per subpath keeps the path short. */
    for (int y = 0; y < q->width && r == 0; y++) {
        for (int x = 0; x < q->width && r == 0;) {
            int w = 0;

            while (x + w < q->width && (q->data[y * q->width + x + w] & 1))
                w++;
            if (w > 0)
                r = putf(&b, x + QUIET, y + QUIET, w);
            x += w > 0 ? w : 1;
        }
    }
    if (r == 0)
        r = webtmpl_buf_puts(&b, "\"/></svg>");
    QRcode_free(q);
    if (r < 0) {
        free(b.p);
        return r;
    }
    *out = b.p;
    return 0;
}
