/*
 * qr: an invite code as a QR code drawn in inline SVG (libqrencode), for
 * the invite page: one <svg role="img"> with a <title> for screen readers,
 * the dark modules as one path, a quiet zone of 4 modules, colours as
 * attributes (the page's Content-Security-Policy allows no inline style).
 * Pure code: no globals, no I/O.
 */
#ifndef KITH_QR_H
#define KITH_QR_H

#include <stddef.h>

#define QR_TEXT_MAX 1024 /* bytes of text encoded */

/*
 * Encode text (NUL-terminated, 1-QR_TEXT_MAX bytes) at error correction
 * level M in 8-bit mode and draw it. title is the SVG's accessible name
 * (HTML-escaped here). *out is malloc'd, NUL-terminated (free()).
 * Returns 0, -KITH_EINVAL (empty or too long text), -KITH_ETOOBIG (does not
 * fit a QR code) or -ENOMEM.
 */
int qr_svg(const char *text, const char *title, char **out);

#endif
