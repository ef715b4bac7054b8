/* SPDX-License-Identifier: MIT */
/*
 * cert.c - the hub's self-signed certificate, made and checked with GnuTLS.
 *
 * `hamlet-hub` calls cert_generate() once when a township sets up its hub,
 * shows the pin to the person enrolling laptops, and calls
 * cert_check_pair() before each start so that a wrong --cert/--key pair is
 * one clear line rather than a failed handshake on every laptop. Files are
 * put in place only when complete (temporary name, fsync, then link or
 * rename), and the private key is never readable by others, not even while
 * it is being written. GnuTLS codes are turned into HUB_E_* here.
 */
#include "cert.h"

#include "hub_error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#define DEFAULT_DAYS   3650
#define MAX_DAYS       36500             /* keeps now + days far inside time_t and X.509 dates */
#define MAX_FILE_BYTES ((size_t)1 << 20) /* far above any certificate or key file */
#define MAX_NAME_LEN   253               /* longest DNS name */
#define MAX_LABEL_LEN  63
#define SERIAL_BYTES   16
#define SHA256_BYTES   32
#define PIN_PREFIX     "sha256//"
#define PIN_B64_LEN    44 /* base64 of 32 bytes, padded */
#define PIN_STR_LEN    (sizeof PIN_PREFIX - 1 + PIN_B64_LEN)
#define CRT_NAME       "hub.crt"
#define KEY_NAME       "hub.key"

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
set_why(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || why_len == 0) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* Overwrites and frees a buffer that may have held the private key. */
static void wipe_free(gnutls_datum_t *d)
{
    if (d->data != NULL) {
        gnutls_memset(d->data, 0, d->size);
        free(d->data);
    }
    d->data = NULL;
    d->size = 0;
}

/* Reads all of path (at most MAX_FILE_BYTES) into *out, NUL-terminated so
 * that PEM parsers may treat it as text. Free with wipe_free(). */
static int load_file(const char *path, gnutls_datum_t *out, char *why, size_t why_len)
{
    unsigned char *buf = NULL;
    size_t cap = 4096;
    size_t used = 0;
    int fd;

    out->data = NULL;
    out->size = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_why(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return HUB_E_IO;
    }
    if ((buf = malloc(cap)) == NULL) {
        goto nomem;
    }
    for (;;) {
        ssize_t n;

        if (used + 1 == cap) {
            unsigned char *bigger;

            if (cap >= MAX_FILE_BYTES) {
                set_why(why, why_len, "cannot read %s: it is larger than %zu bytes", path,
                        MAX_FILE_BYTES);
                goto fail;
            }
            /* Not realloc(): the old copy may hold a key and must be wiped. */
            if ((bigger = malloc(cap * 2)) == NULL) {
                goto nomem;
            }
            memcpy(bigger, buf, used);
            gnutls_memset(buf, 0, cap);
            free(buf);
            buf = bigger;
            cap *= 2;
        }
        n = read(fd, buf + used, cap - 1 - used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            set_why(why, why_len, "cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
    }
    (void)close(fd);
    buf[used] = '\0';
    out->data = buf;
    out->size = (unsigned int)used;
    return 0;

nomem:
    set_why(why, why_len, "out of memory reading %s", path);
    if (buf != NULL) {
        gnutls_memset(buf, 0, cap);
        free(buf);
    }
    (void)close(fd);
    return HUB_E_NOMEM;

fail:
    gnutls_memset(buf, 0, cap);
    free(buf);
    (void)close(fd);
    return HUB_E_IO;
}

/* Standard base64 with padding; out has room for 4 * ((len + 2) / 3) + 1. */
static void base64_encode(const unsigned char *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    size_t o = 0;

    for (; i + 3 <= len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];

        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;

        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;

        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

/* The DER SubjectPublicKeyInfo of crt, allocated by GnuTLS (gnutls_free).
 * Returns 0 or a GnuTLS code. */
static int spki_of_crt(gnutls_x509_crt_t crt, gnutls_datum_t *spki)
{
    gnutls_pubkey_t pub = NULL;
    int grc;

    if ((grc = gnutls_pubkey_init(&pub)) < 0) {
        return grc;
    }
    if ((grc = gnutls_pubkey_import_x509(pub, crt, 0)) >= 0) {
        grc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, spki);
    }
    gnutls_pubkey_deinit(pub);
    return grc;
}

/* Writes crt's pin ("sha256//" + base64 of SHA-256 of its SPKI) into pin,
 * which has room for PIN_STR_LEN + 1 bytes. */
static int pin_of_crt(gnutls_x509_crt_t crt, char *pin, char *why, size_t why_len)
{
    gnutls_datum_t spki = {NULL, 0};
    unsigned char digest[SHA256_BYTES];
    char b64[PIN_B64_LEN + 1];
    int grc;

    if ((grc = spki_of_crt(crt, &spki)) < 0) {
        goto fail;
    }
    grc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest);
    gnutls_free(spki.data);
    if (grc < 0) {
        goto fail;
    }
    base64_encode(digest, sizeof digest, b64);
    memcpy(pin, PIN_PREFIX, sizeof PIN_PREFIX - 1);
    memcpy(pin + sizeof PIN_PREFIX - 1, b64, sizeof b64); /* with its NUL */
    return 0;

fail:
    set_why(why, why_len, "cannot compute the certificate's pin: %s", gnutls_strerror(grc));
    return HUB_E_TLS;
}

/* Whether name is a DNS host name: dot-separated labels of letters, digits
 * and inner hyphens. Wildcards and trailing dots are not wanted here. */
static int is_host_name(const char *name)
{
    size_t len = strlen(name);
    size_t label = 0;

    if (len == 0 || len > MAX_NAME_LEN) {
        return 0;
    }
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];

        if (c == '.' || c == '\0') {
            if (label == 0 || label > MAX_LABEL_LEN || name[i - 1] == '-') {
                return 0;
            }
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Adds name to crt's subjectAltName: an IP address entry when it parses as
 * one, else a DNS entry. Returns a GnuTLS code. */
static int add_alt_name(gnutls_x509_crt_t crt, const char *name)
{
    unsigned char addr[16];

    if (inet_pton(AF_INET, name, addr) == 1) {
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr, 4,
                                                    GNUTLS_FSAN_APPEND);
    }
    if (inet_pton(AF_INET6, name, addr) == 1) {
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr, 16,
                                                    GNUTLS_FSAN_APPEND);
    }
    return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
                                                (unsigned int)strlen(name), GNUTLS_FSAN_APPEND);
}

/* Makes the key and the signed certificate; on success the caller owns
 * both (gnutls_x509_privkey_deinit, gnutls_x509_crt_deinit). */
static int make_pair(const char *name, int days, gnutls_x509_privkey_t *key_out,
                     gnutls_x509_crt_t *crt_out, char *why, size_t why_len)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    unsigned char serial[SERIAL_BYTES];
    unsigned char key_id[64];
    size_t key_id_len = sizeof key_id;
    time_t now = time(NULL);
    const char *step;
    int grc;

    step = "generating the key";
    if ((grc = gnutls_x509_privkey_init(&key)) < 0 ||
        (grc = gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
                                             GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
                                             NULL, 0)) < 0) {
        goto fail;
    }
    step = "setting the certificate's key";
    if ((grc = gnutls_x509_crt_init(&crt)) < 0 || (grc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (grc = gnutls_x509_crt_set_key(crt, key)) < 0) {
        goto fail;
    }
    step = "setting the serial number";
    if ((grc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial)) < 0) {
        goto fail;
    }
    /* Positive (top bit clear) and with a non-zero first byte, so that the
     * DER integer is exactly SERIAL_BYTES long. */
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
    if ((grc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0) {
        goto fail;
    }
    step = "setting the validity";
    /* An hour back, for laptops whose clocks run a little behind the hub's. */
    if ((grc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
        (grc = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400)) < 0) {
        goto fail;
    }
    step = "setting the names";
    if ((grc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name,
                                             (unsigned int)strlen(name))) < 0 ||
        (grc = add_alt_name(crt, name)) < 0) {
        goto fail;
    }
    if (strcasecmp(name, "localhost") == 0 &&
        ((grc = add_alt_name(crt, "127.0.0.1")) < 0 || (grc = add_alt_name(crt, "::1")) < 0)) {
        goto fail;
    }
    step = "setting the extensions";
    if ((grc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (grc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (grc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (grc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, key_id, &key_id_len)) < 0 ||
        (grc = gnutls_x509_crt_set_subject_key_id(crt, key_id, key_id_len)) < 0) {
        goto fail;
    }
    step = "signing the certificate";
    if ((grc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0) {
        goto fail;
    }
    *key_out = key;
    *crt_out = crt;
    return 0;

fail:
    set_why(why, why_len, "cannot make the hub's certificate (%s): %s", step, gnutls_strerror(grc));
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key);
    }
    return HUB_E_TLS;
}

/* Creates dir and any missing parents with mode 0755 (less the umask). */
static int make_dir(const char *dir, char *why, size_t why_len)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    struct stat st;

    if (len >= sizeof path) {
        set_why(why, why_len, "the directory name is too long");
        return HUB_E_ARG;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') {
            continue;
        }
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            int err = errno;

            /* Some systems say EACCES or EROFS for a directory that exists. */
            if (!(stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
                set_why(why, why_len, "cannot create directory %s: %s", path, strerror(err));
                return HUB_E_IO;
            }
        }
        if (i < len) {
            path[i] = '/';
        }
    }
    return 0;
}

/* HUB_E_EXISTS when anything (even a dangling link) is at path. */
static int refuse_existing(const char *path, char *why, size_t why_len)
{
    struct stat st;

    if (lstat(path, &st) == 0) {
        set_why(why, why_len, "%s exists already; remove it first to make a new certificate", path);
        return HUB_E_EXISTS;
    }
    if (errno != ENOENT) {
        set_why(why, why_len, "cannot write %s: %s", path, strerror(errno));
        return HUB_E_IO;
    }
    return 0;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes data to a new file named by the template tmp ("...XXXXXX"),
 * flushed to disk, with the given mode. mkstemp() creates the file with
 * O_CREAT | O_EXCL and mode 0600 (POSIX.1-2008), so a key is never readable
 * by others. final names the file in messages. On failure nothing is left. */
static int write_temp(char *tmp, const gnutls_datum_t *data, mode_t mode, const char *final,
                      char *why, size_t why_len)
{
    int fd = mkstemp(tmp);
    int err;

    if (fd < 0) {
        set_why(why, why_len, "cannot write %s: %s", final, strerror(errno));
        return HUB_E_IO;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, mode) != 0 ||
        write_all(fd, data->data, data->size) != 0 || fsync(fd) != 0) {
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;

fail:
    err = errno;
    if (fd >= 0) {
        (void)close(fd);
    }
    (void)unlink(tmp);
    set_why(why, why_len, "cannot write %s: %s", final, strerror(err));
    return HUB_E_IO;
}

/* Puts the complete file tmp in place as final without replacing anything
 * there: link() fails if final exists. Filesystems without hard links (a
 * FAT stick) get rename() after one more look. */
static int place_file(const char *tmp, const char *final, char *why, size_t why_len)
{
    int rc;

    if (link(tmp, final) == 0) {
        (void)unlink(tmp);
        return 0;
    }
    if (errno == EEXIST) {
        return refuse_existing(final, why, why_len);
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS && errno != EMLINK) {
        set_why(why, why_len, "cannot write %s: %s", final, strerror(errno));
        return HUB_E_IO;
    }
    if ((rc = refuse_existing(final, why, why_len)) != 0) {
        return rc;
    }
    if (rename(tmp, final) != 0) {
        set_why(why, why_len, "cannot write %s: %s", final, strerror(errno));
        return HUB_E_IO;
    }
    return 0;
}

/* Makes the new names durable. Best effort: some filesystems cannot fsync
 * a directory, and the files themselves are complete either way. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        (void)fsync(fd);
        (void)close(fd);
    }
}

int cert_generate(const char *dir, const char *name, int days, char *pin, size_t pin_len, char *why,
                  size_t why_len)
{
    char crt_path[PATH_MAX], key_path[PATH_MAX], crt_tmp[PATH_MAX], key_tmp[PATH_MAX];
    char new_pin[PIN_STR_LEN + 1];
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t crt_pem = {NULL, 0};
    gnutls_datum_t key_pem = {NULL, 0};
    int key_tmp_made = 0, crt_tmp_made = 0, key_placed = 0;
    int tls_ready = 0;
    size_t dir_len;
    int rc, grc;

    set_why(why, why_len, "%s", "");
    if (name == NULL) {
        name = "localhost";
    }
    if (days <= 0) {
        days = DEFAULT_DAYS;
    }
    rc = HUB_E_ARG;
    if (dir == NULL || dir[0] == '\0') {
        set_why(why, why_len, "no directory given for the certificate");
        goto fail;
    }
    if (days > MAX_DAYS) {
        set_why(why, why_len, "a certificate may be valid for at most %d days", MAX_DAYS);
        goto fail;
    }
    if (pin != NULL && pin_len <= PIN_STR_LEN) {
        set_why(why, why_len, "the buffer for the pin is too small");
        goto fail;
    }
    {
        unsigned char addr[16];

        if (!is_host_name(name) && inet_pton(AF_INET, name, addr) != 1 &&
            inet_pton(AF_INET6, name, addr) != 1) {
            set_why(why, why_len,
                    "the hub's name must be a host name (letters, digits, '-' and '.') "
                    "or an IP address");
            goto fail;
        }
    }
    /* "tls/" and "tls" name the same place; messages show one slash. */
    dir_len = strlen(dir);
    while (dir_len > 1 && dir[dir_len - 1] == '/') {
        dir_len--;
    }
    if (dir_len >= PATH_MAX ||
        (size_t)snprintf(crt_path, sizeof crt_path, "%.*s/" CRT_NAME, (int)dir_len, dir) >=
            sizeof crt_path ||
        (size_t)snprintf(key_path, sizeof key_path, "%.*s/" KEY_NAME, (int)dir_len, dir) >=
            sizeof key_path ||
        (size_t)snprintf(crt_tmp, sizeof crt_tmp, "%.*s/." CRT_NAME ".XXXXXX", (int)dir_len, dir) >=
            sizeof crt_tmp ||
        (size_t)snprintf(key_tmp, sizeof key_tmp, "%.*s/." KEY_NAME ".XXXXXX", (int)dir_len, dir) >=
            sizeof key_tmp) {
        set_why(why, why_len, "the directory name is too long");
        goto fail;
    }

    if ((rc = make_dir(dir, why, why_len)) != 0 ||
        (rc = refuse_existing(key_path, why, why_len)) != 0 ||
        (rc = refuse_existing(crt_path, why, why_len)) != 0) {
        goto fail;
    }

    rc = HUB_E_TLS;
    if ((grc = gnutls_global_init()) < 0) {
        set_why(why, why_len, "cannot start GnuTLS: %s", gnutls_strerror(grc));
        goto fail;
    }
    tls_ready = 1;
    if ((rc = make_pair(name, days, &key, &crt, why, why_len)) != 0 ||
        (rc = pin_of_crt(crt, new_pin, why, why_len)) != 0) {
        goto fail;
    }
    rc = HUB_E_TLS;
    if ((grc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem)) < 0 ||
        (grc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                                 &key_pem)) < 0) {
        set_why(why, why_len, "cannot encode the hub's certificate: %s", gnutls_strerror(grc));
        goto fail;
    }

    if ((rc = write_temp(key_tmp, &key_pem, 0600, key_path, why, why_len)) != 0) {
        goto fail;
    }
    key_tmp_made = 1;
    if ((rc = write_temp(crt_tmp, &crt_pem, 0644, crt_path, why, why_len)) != 0) {
        goto fail;
    }
    crt_tmp_made = 1;
    /* The key first: a certificate without its key would look usable. */
    if ((rc = place_file(key_tmp, key_path, why, why_len)) != 0) {
        goto fail;
    }
    key_tmp_made = 0;
    key_placed = 1;
    if ((rc = place_file(crt_tmp, crt_path, why, why_len)) != 0) {
        goto fail;
    }
    sync_dir(dir);
    if (pin != NULL) {
        memcpy(pin, new_pin, sizeof new_pin);
    }
    rc = 0;
    goto done;

fail:
    if (key_placed) {
        (void)unlink(key_path);
    }
    if (key_tmp_made) {
        (void)unlink(key_tmp);
    }
    if (crt_tmp_made) {
        (void)unlink(crt_tmp);
    }
done:
    if (key_pem.data != NULL) {
        gnutls_memset(key_pem.data, 0, key_pem.size);
        gnutls_free(key_pem.data);
    }
    gnutls_free(crt_pem.data);
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key);
    }
    if (tls_ready) {
        gnutls_global_deinit();
    }
    return rc;
}

/* Loads the first PEM certificate of path; the caller deinits *crt. */
static int load_crt(const char *path, gnutls_x509_crt_t *crt, char *why, size_t why_len)
{
    gnutls_datum_t pem = {NULL, 0};
    int rc, grc;

    *crt = NULL;
    if ((rc = load_file(path, &pem, why, why_len)) != 0) {
        return rc;
    }
    if ((grc = gnutls_x509_crt_init(crt)) < 0) {
        set_why(why, why_len, "cannot read %s: %s", path, gnutls_strerror(grc));
        goto fail;
    }
    if ((grc = gnutls_x509_crt_import(*crt, &pem, GNUTLS_X509_FMT_PEM)) < 0) {
        set_why(why, why_len, "%s holds no PEM certificate: %s", path, gnutls_strerror(grc));
        goto fail;
    }
    wipe_free(&pem);
    return 0;

fail:
    wipe_free(&pem);
    if (*crt != NULL) {
        gnutls_x509_crt_deinit(*crt);
        *crt = NULL;
    }
    return HUB_E_TLS;
}

int cert_pin_file(const char *cert_path, char *pin, size_t pin_len, char *why, size_t why_len)
{
    gnutls_x509_crt_t crt = NULL;
    char new_pin[PIN_STR_LEN + 1];
    int rc, grc;

    set_why(why, why_len, "%s", "");
    if (cert_path == NULL || pin == NULL || pin_len <= PIN_STR_LEN) {
        set_why(why, why_len, "no certificate file or too small a pin buffer given");
        return HUB_E_ARG;
    }
    if ((grc = gnutls_global_init()) < 0) {
        set_why(why, why_len, "cannot start GnuTLS: %s", gnutls_strerror(grc));
        return HUB_E_TLS;
    }
    if ((rc = load_crt(cert_path, &crt, why, why_len)) == 0 &&
        (rc = pin_of_crt(crt, new_pin, why, why_len)) == 0) {
        memcpy(pin, new_pin, sizeof new_pin);
    }
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    gnutls_global_deinit();
    return rc;
}

int cert_check_pair(const char *cert_path, const char *key_path, char *why, size_t why_len)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_privkey_t key = NULL;
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t key_pem = {NULL, 0};
    gnutls_datum_t crt_spki = {NULL, 0};
    gnutls_datum_t key_spki = {NULL, 0};
    int rc, grc;

    set_why(why, why_len, "%s", "");
    if (cert_path == NULL || key_path == NULL) {
        set_why(why, why_len, "no certificate or key file given");
        return HUB_E_ARG;
    }
    if ((grc = gnutls_global_init()) < 0) {
        set_why(why, why_len, "cannot start GnuTLS: %s", gnutls_strerror(grc));
        return HUB_E_TLS;
    }
    if ((rc = load_crt(cert_path, &crt, why, why_len)) != 0 ||
        (rc = load_file(key_path, &key_pem, why, why_len)) != 0) {
        goto done;
    }
    rc = HUB_E_TLS;
    if ((grc = spki_of_crt(crt, &crt_spki)) < 0) {
        set_why(why, why_len, "cannot read the public key in %s: %s", cert_path,
                gnutls_strerror(grc));
        goto done;
    }
    if ((grc = gnutls_privkey_init(&key)) < 0 ||
        (grc = gnutls_privkey_import_x509_raw(key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        set_why(why, why_len, "%s holds no unencrypted PEM private key: %s", key_path,
                gnutls_strerror(grc));
        goto done;
    }
    if ((grc = gnutls_pubkey_init(&pub)) < 0 ||
        (grc = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0 ||
        (grc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &key_spki)) < 0) {
        set_why(why, why_len, "cannot read the public half of %s: %s", key_path,
                gnutls_strerror(grc));
        goto done;
    }
    if (crt_spki.size != key_spki.size ||
        memcmp(crt_spki.data, key_spki.data, crt_spki.size) != 0) {
        set_why(why, why_len, "the key in %s does not belong to the certificate in %s", key_path,
                cert_path);
        goto done;
    }
    rc = 0;

done:
    gnutls_free(key_spki.data);
    gnutls_free(crt_spki.data);
    if (pub != NULL) {
        gnutls_pubkey_deinit(pub);
    }
    if (key != NULL) {
        gnutls_privkey_deinit(key);
    }
    wipe_free(&key_pem);
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    gnutls_global_deinit();
    return rc;
}
