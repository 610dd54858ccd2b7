/*
 * Tests for invite QR codes as SVG (node/qr.c): the SVG's shape and
 * accessible name, that its modules are exactly libqrencode's, and limits.
 */
#include <criterion/criterion.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "qr.h"

/* Paint the path back into a grid and compare with libqrencode's modules. */
static void check_modules(const char *svg, const char *text)
{
    QRcode *q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    const char *d = strstr(svg, " d=\"");
    int w, size, x, y, run, n, dark = 0;
    unsigned char *grid;

    cr_assert_not_null(q);
    w = q->width;
    size = w + 8;
    cr_assert_not_null(d);
    d += 4;
    grid = calloc((size_t)size * (size_t)size, 1);
    while (sscanf(d, "M%d %dh%dv1h-%*dz%n", &x, &y, &run, &n) == 3) {
        for (int i = 0; i < run; i++)
            grid[y * size + x + i] = 1;
        d += n;
    }
    cr_assert_eq(*d, '"');
    for (y = 0; y < size; y++) {
        for (x = 0; x < size; x++) {
            int in = x >= 4 && y >= 4 && x < w + 4 && y < w + 4;
            int want = in && (q->data[(y - 4) * w + (x - 4)] & 1);

            cr_assert_eq(grid[y * size + x], want, "module %d,%d", x, y);
            dark += want;
        }
    }
    cr_assert_gt(dark, 0);
    free(grid);
    QRcode_free(q);
}

Test(qr, svg_shape_and_name)
{
    const char *code = "kith1-aecyf7ngzwg47u4brmztk327xec2mjkjktqyg33aszd3nk5q44l7waaaaaaj";
    char *svg = NULL, want[128];
    QRcode *q = QRcode_encodeString8bit(code, 0, QR_ECLEVEL_M);

    cr_assert_eq(qr_svg(code, "Invite to <Walkers> & co", &svg), 0);
    const char *head = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" ";

    cr_assert(strncmp(svg, head, strlen(head)) == 0, "%.80s", svg);
    cr_assert_not_null(strstr(svg, "<title id=\"qr-title\">Invite to &lt;Walkers&gt; &amp; co"
                                   "</title>"));
    cr_assert_not_null(strstr(svg, "aria-labelledby=\"qr-title\""));
    snprintf(want, sizeof(want), "viewBox=\"0 0 %d %d\"", q->width + 8, q->width + 8);
    cr_assert_not_null(strstr(svg, want));
    /* No inline style: the page's CSP forbids it. */
    cr_assert_null(strstr(svg, "style"));
    cr_assert_eq(strcmp(svg + strlen(svg) - 9, "\"/></svg>"), 0);
    check_modules(svg, code);
    QRcode_free(q);
    free(svg);
}

Test(qr, limits)
{
    char *svg = (char *)1, big[QR_TEXT_MAX + 2];

    cr_assert_eq(qr_svg("", "t", &svg), -KITH_EINVAL);
    cr_assert_null(svg);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(qr_svg(big, "t", &svg), -KITH_EINVAL);
    big[QR_TEXT_MAX] = '\0';
    cr_assert_eq(qr_svg(big, "t", &svg), 0);
    check_modules(svg, big);
    free(svg);
}
