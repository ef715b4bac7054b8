/* SPDX-License-Identifier: MIT */
/*
 * qr.c - an enrolment code as an SVG QR image (qr.h).
 */
#include "qr.h"

#include "hub_error.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUIET 4 /* modules of white around the code, as the standard asks */

int qr_svg(const char *text, char **out)
{
    *out = NULL;
    if (!text || !text[0] || strlen(text) > QR_MAX_TEXT) {
        return HUB_E_ARG;
    }
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        return HUB_E_ARG; /* too long for the largest code (or out of memory) */
    }
    int w = qr->width, size = w + 2 * QUIET;
    /* Each dark module is "Mx yh1v1h-1z": at most 24 bytes; plus the frame. */
    size_t cap = (size_t)w * (size_t)w * 24 + 512;
    char *svg = malloc(cap);
    if (!svg) {
        QRcode_free(qr);
        return HUB_E_NOMEM;
    }
    size_t n = (size_t)snprintf(svg, cap,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
                                " width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
                                "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path d=\"",
                                size, size, size * 4, size * 4, size, size);
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w; x++) {
            if (qr->data[y * w + x] & 1) { /* bit 0: a dark module */
                n += (size_t)snprintf(svg + n, cap - n, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
            }
        }
    }
    snprintf(svg + n, cap - n, "\" fill=\"#000\"/></svg>");
    QRcode_free(qr);
    *out = svg;
    return 0;
}
