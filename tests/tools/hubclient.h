/* SPDX-License-Identifier: MIT */
/*
 * hubclient.h - a small HTTPS client of the township hub, for tests.
 *
 * It does what a village laptop does, with the engine and libcurl and
 * nothing else: read an enrolment code, enrol, and sync a replica (push its
 * unacknowledged changes, pull its village's, remember the acknowledgement
 * and the cursor in the replica). It also sends arbitrary bytes with
 * arbitrary headers, so that tests can feed the hub what no honest device
 * would. HTTPS only: the hub's key is pinned (the pin of the enrolment
 * code), and the hub's certificate, self-signed, is the only CA trusted.
 * The integration tests share it; later tests (the agent's) reuse it.
 */
#ifndef HAMLET_HUBCLIENT_H
#define HAMLET_HUBCLIENT_H

#include "delta.h"
#include "devices.h"
#include "replica.h"
#include "uuid7.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#define HUBCLIENT_URL_MAX  256
#define HUBCLIENT_PIN_MAX  128
#define HUBCLIENT_CODE_MAX 64

/* hubclient_global_init(): libcurl's global set-up, once, before any
 * thread uses this module. Returns 0 or -1. hubclient_global_cleanup()
 * undoes it. */
int hubclient_global_init(void);
void hubclient_global_cleanup(void);

/* ---- enrolment codes ---- */

/* The parts of "HAMLET1:<url>|<pin>|<device>|<code>". */
struct hubclient_code {
    char url[HUBCLIENT_URL_MAX]; /* https://host:port */
    char pin[HUBCLIENT_PIN_MAX]; /* sha256//<base64> */
    char device[UUID7_STRLEN + 1];
    char code[HUBCLIENT_CODE_MAX];
};

/* hubclient_parse_code(line, out): split an enrolment code (a trailing
 * newline is allowed). Returns 0, or -1 when the prefix, a part, the URL
 * scheme (https only) or the device id is wrong or a part is too long. */
int hubclient_parse_code(const char *line, struct hubclient_code *out);

/* ---- raw requests ---- */

/* Where a request goes and which key is trusted there. */
struct hubclient_target {
    const char *url;    /* https://host:port, without a path */
    const char *pin;    /* sha256//<base64>, checked on every connection */
    const char *cafile; /* the hub's certificate (trusted as its own CA), or NULL:
                           then only the pin is checked */
    long timeout_s;     /* whole request; 0: 60 s */
};

/* What came back. body is malloc'd and NUL-terminated (NULL when empty). */
struct hubclient_response {
    long status;   /* HTTP status; 0 when no answer came */
    uint8_t *body; /* at most 64 MiB are kept */
    size_t len;
    long retry_after; /* seconds of a Retry-After header, -1 if none */
    char error[512];  /* when status is 0: libcurl's reason */
};

/* hubclient_response_clear(response): free the body and zero the rest. */
void hubclient_response_clear(struct hubclient_response *response);

struct hubclient_request; /* opaque: one HTTPS request, for curl multi */

/* hubclient_request_new(target, method, path, headers, body, len, chunked):
 * prepare a request ("GET" or "POST"); headers is a NULL-terminated list
 * of "Name: value" lines (or NULL); body (copied) is sent with a
 * Content-Length, or with chunked transfer encoding when chunked is 1.
 * Returns NULL on out-of-memory. Free with hubclient_request_free(). */
struct hubclient_request *hubclient_request_new(const struct hubclient_target *target,
                                                const char *method, const char *path,
                                                const char *const *headers, const void *body,
                                                size_t len, int chunked);
void hubclient_request_free(struct hubclient_request *request); /* accepts NULL */

/* hubclient_request_easy(request): the libcurl handle, to add to a multi
 * handle; the request still owns it. CURLOPT_PRIVATE is the caller's. */
CURL *hubclient_request_easy(struct hubclient_request *request);

/* hubclient_request_finish(request, result, out): after the transfer
 * ended with result (from curl_multi_info_read or curl_easy_perform), move
 * the response into out (which the caller clears). */
void hubclient_request_finish(struct hubclient_request *request, CURLcode result,
                              struct hubclient_response *out);

/* hubclient_request(target, method, path, headers, body, len, chunked,
 * out): one blocking request. Returns the HTTP status (0 when no answer
 * came; out->error says why), or -1 on out-of-memory. */
long hubclient_request(const struct hubclient_target *target, const char *method, const char *path,
                       const char *const *headers, const void *body, size_t len, int chunked,
                       struct hubclient_response *out);

/* hubclient_health(target): GET /v1/health; the HTTP status, or 0. */
long hubclient_health(const struct hubclient_target *target);

/* ---- a test device ---- */

/* One village laptop: its replica, its credential and what happened. */
struct hubclient_device {
    struct replica *replica;
    struct replica_config config;
    struct hubclient_code code; /* url, pin, device id, one-time code */
    char cafile[512];           /* "" for pin only */
    char secret[DEVICES_SECRET_LEN];
    char village[DELTA_MAX_PART + 1]; /* from the enrolment answer */
    struct hubclient_target target;
    size_t batch_bytes; /* most bytes of own changes in one push (default 256 KiB) */
    int64_t pull_bytes; /* most bytes of changes asked back (default 256 KiB) */

    /* The last request. */
    long status;         /* HTTP status, 0 for no answer, -1 for a local failure */
    char error[64];      /* the error name of a JSON error body ("revoked"), or
                            "transport" / "local" */
    char message[512];   /* its sentence */
    long retry_after;    /* from Retry-After, -1 if none */
    int more;            /* the last reply said more changes wait */
    struct delta *reply; /* the last reply, owned here (NULL before one) */

    /* Since the device was made. */
    unsigned syncs, failures; /* requests answered 200, and the others */
    int64_t acked_total;      /* changes newly acknowledged, summed */
    unsigned ack_regressions; /* replies acknowledging less than before */
    size_t pulled;            /* changes received and newly applied */
    size_t refused;           /* own changes the hub refused */
    size_t foreign;           /* received changes this replica refused */
    size_t resumes;           /* replies naming a gap */
};

/* hubclient_device_new(path, code_line, cafile, out): a device with a new
 * replica at path (ledger schema) for the enrolment code; cafile may be
 * NULL. Returns 0, or -1 (a bad code, or the replica cannot be opened).
 * Free with hubclient_device_free(). */
int hubclient_device_new(const char *path, const char *code_line, const char *cafile,
                         struct hubclient_device **out);
void hubclient_device_free(struct hubclient_device *device); /* accepts NULL */

/* hubclient_enroll(device): POST /v1/enroll with the one-time code and the
 * replica's node; on 200 keeps the secret and the village. Returns the HTTP
 * status (0: no answer; -1: local failure); device->error names a refusal. */
long hubclient_enroll(struct hubclient_device *device);

/* hubclient_bearer(device, out, out_len): the "Authorization: Bearer
 * <device>.<secret>" header line. */
void hubclient_bearer(const struct hubclient_device *device, char *out, size_t out_len);

/* hubclient_push(device, after_seq, max_bytes, out, out_len): the envelope
 * of a push of the device's own changes after after_seq (at most max_bytes
 * of them), with its cursor and pull_bytes. *out is malloc'd (the caller
 * frees it). Returns 0 or an engine error. */
int hubclient_push(struct hubclient_device *device, int64_t after_seq, size_t max_bytes,
                   uint8_t **out, size_t *out_len);

/* hubclient_sync_begin(device): a sync request (the push of the changes
 * after the stored acknowledgement), not yet sent. NULL on failure (see
 * device->message). hubclient_sync_end(device, request, result): handle the
 * answer of that request, as hubclient_sync() does, and free request.
 * Together they let one thread drive many devices with curl multi. */
struct hubclient_request *hubclient_sync_begin(struct hubclient_device *device);
long hubclient_sync_end(struct hubclient_device *device, struct hubclient_request *request,
                        CURLcode result);

/* hubclient_sync(device): one sync. On 200 the reply's changes are applied
 * and the acknowledgement and cursor stored, in one transaction. Returns the
 * HTTP status, 0 when no answer came, -1 on a local failure; device->error
 * and device->message say why. */
long hubclient_sync(struct hubclient_device *device);

/* hubclient_unacked(device): own changes not acknowledged yet. */
int64_t hubclient_unacked(struct hubclient_device *device);

/* hubclient_acked(device): the acknowledgement stored in the replica. */
int64_t hubclient_acked(struct hubclient_device *device);

/* hubclient_caught_up(device): 1 when nothing waits either way. */
int hubclient_caught_up(struct hubclient_device *device);

/* hubclient_sync_all(device, max_syncs): sync until caught up. Returns 200
 * when caught up, the first status that was not 200 (0, -1, 4xx...), or
 * -2 when max_syncs syncs did not suffice. */
long hubclient_sync_all(struct hubclient_device *device, unsigned max_syncs);

/* hubclient_export(device, out, out_len): the device's canonical export of
 * its village (ledger_io_export_jsonl()). *out is malloc'd and
 * NUL-terminated. Returns 0 or an engine error. */
int hubclient_export(struct hubclient_device *device, char **out, size_t *out_len);

#endif
