/* SPDX-License-Identifier: MIT */
/*
 * qr.h - an enrolment code as a QR image, for a phone's camera to read
 * off the review page. libqrencode makes the modules; this draws them as
 * SVG, one path, so that the page shows it without any other file.
 */
#ifndef HAMLET_QR_H
#define HAMLET_QR_H

#define QR_MAX_TEXT 1024 /* bytes of text a code may carry (an enrolment code is under 300) */

/* qr_svg(text, out): *out gets a malloc'd SVG document of text as a QR
 * code (error correction M, a quiet zone of 4 modules, black on white,
 * drawn at 4 px a module and scalable). Returns 0, HUB_E_ARG (text empty
 * or over QR_MAX_TEXT bytes, or too long for a QR code), HUB_E_NOMEM. */
int qr_svg(const char *text, char **out);

#endif
