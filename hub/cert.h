/* SPDX-License-Identifier: MIT */
/*
 * cert.h - the hub's own TLS certificate.
 *
 * A township hub usually has no certificate from a public authority, so it
 * makes its own: an ECDSA P-256 key and a self-signed certificate naming the
 * hub's host name or address. Laptops do not trust it through a CA; at
 * enrolment they store the certificate's public-key pin (curl's
 * CURLOPT_PINNEDPUBLICKEY form, "sha256//<base64>") and refuse any other key
 * afterwards. This module makes the pair, computes that pin, and checks that
 * a key file belongs to a certificate before the server starts with them.
 * All errors are HUB_E_* codes (hub_error.h) with a one-sentence reason.
 */
#ifndef HAMLET_CERT_H
#define HAMLET_CERT_H

#include <stddef.h>

/* Room for a pin ("sha256//" and 44 base64 characters) and its NUL, with
 * space to spare. */
#define CERT_PIN_LEN 96

/* cert_generate(dir, name, days, pin, pin_len, why, why_len): make a new
 * ECDSA P-256 key and a self-signed X.509 v3 server certificate for the hub
 * and write them as dir/hub.crt (PEM, mode 0644) and dir/hub.key (PEM
 * PKCS#8, mode 0600; never readable by others, not even while written).
 *
 * dir is created (mode 0755, parents too) if it does not exist. name is the
 * host name or IPv4/IPv6 address laptops use to reach the hub (NULL means
 * "localhost"); it becomes the certificate's common name and its
 * subjectAltName (an IP address entry when it parses as an address, else a
 * DNS entry); "localhost" also gets the addresses 127.0.0.1 and ::1. The
 * certificate is valid from an hour ago (to allow for clock skew) for days
 * days (days <= 0 means 3650).
 *
 * Each file is written to a temporary name in dir, flushed to disk and then
 * put in place, so a crash leaves either complete files or none. When either
 * file exists already nothing is written.
 *
 * On success, when pin is not NULL, it receives the certificate's pin (see
 * cert_pin_file()); pin_len should be CERT_PIN_LEN.
 *
 * Returns 0, or: HUB_E_ARG (bad name, days over 36500, dir path too long,
 * pin buffer too small), HUB_E_EXISTS (hub.crt or hub.key exists),
 * HUB_E_IO (dir cannot be created, a file cannot be written), HUB_E_TLS
 * (GnuTLS failed). On failure why (if not NULL) holds one sentence for the
 * operator, e.g. "cannot write /x/hub.key: Permission denied"; on success
 * it is the empty string. */
int cert_generate(const char *dir, const char *name, int days, char *pin, size_t pin_len, char *why,
                  size_t why_len);

/* cert_pin_file(cert_path, pin, pin_len, why, why_len): the public-key pin
 * of the first certificate in the PEM file cert_path: "sha256//" and the
 * base64 (standard alphabet, padded) of the SHA-256 of the certificate's
 * DER SubjectPublicKeyInfo, as curl's CURLOPT_PINNEDPUBLICKEY expects. pin
 * receives it (pin_len should be CERT_PIN_LEN).
 *
 * Returns 0, or: HUB_E_IO (the file cannot be read; why names it and the
 * system's reason), HUB_E_TLS (it holds no PEM certificate), HUB_E_ARG
 * (pin buffer too small). why as for cert_generate(). */
int cert_pin_file(const char *cert_path, char *pin, size_t pin_len, char *why, size_t why_len);

/* cert_check_pair(cert_path, key_path, why, why_len): whether the PEM file
 * key_path holds the private key of the PEM certificate in cert_path (their
 * public keys are compared). The server calls it before starting so that a
 * wrong key file is reported in one line instead of as a failed handshake.
 *
 * Returns 0 when they match, or: HUB_E_IO (a file cannot be read),
 * HUB_E_TLS (cert_path holds no certificate, key_path holds no unencrypted
 * private key, or the key belongs to another certificate). why as for
 * cert_generate(). */
int cert_check_pair(const char *cert_path, const char *key_path, char *why, size_t why_len);

#endif
