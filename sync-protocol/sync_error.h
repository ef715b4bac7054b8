/* SPDX-License-Identifier: MIT */
/*
 * sync_error.h - the replication engine's error codes.
 *
 * Every function of the engine that can fail returns 0 or one of these
 * negative codes; foreign codes (SQLite, zlib, cJSON) are translated at the
 * module that calls them. sync_strerror() gives the words for a code; decode
 * functions also fill a caller's buffer with the detail (which field, which
 * limit) where one is given.
 */
#ifndef HAMLET_SYNC_ERROR_H
#define HAMLET_SYNC_ERROR_H

enum sync_error {
    SYNC_OK = 0,
    SYNC_E_NOMEM = -1,     /* out of memory */
    SYNC_E_DB = -2,        /* the SQLite database failed */
    SYNC_E_ARG = -3,       /* a caller passed an invalid argument */
    SYNC_E_SCHEMA = -4,    /* schema description or database tables are wrong */
    SYNC_E_MIGRATION = -5, /* a migration failed or the file is newer than us */
    SYNC_E_RANDOM = -6,    /* the system gave no random bytes */

    SYNC_E_HLC_DRIFT = -10,    /* a remote clock is too far ahead of ours */
    SYNC_E_HLC_OVERFLOW = -11, /* the clock's counter ran out within one millisecond */

    SYNC_E_ENV_TRUNCATED = -20, /* envelope shorter than its header or lengths say */
    SYNC_E_ENV_MAGIC = -21,     /* not a Hamlet envelope */
    SYNC_E_ENV_VERSION = -22,   /* envelope format version not understood */
    SYNC_E_ENV_FLAGS = -23,     /* unknown flag bits set */
    SYNC_E_ENV_CRC = -24,       /* checksum mismatch: the bytes were damaged */
    SYNC_E_ENV_TOO_BIG = -25,   /* compressed size above the limit */
    SYNC_E_ENV_INFLATED = -26,  /* declared decompressed size above the limit */
    SYNC_E_ENV_RATIO = -27,     /* compression ratio above the limit (a zlib bomb) */
    SYNC_E_ENV_CORRUPT = -28,   /* the compressed body is not valid zlib data */
    SYNC_E_ENV_LENGTH = -29,    /* the body inflates to another size than declared */
    SYNC_E_ENV_TRAILING = -30,  /* bytes after the end of the envelope */

    SYNC_E_UTF8 = -40,            /* the body is not valid UTF-8 */
    SYNC_E_JSON = -41,            /* the body is not JSON */
    SYNC_E_JSON_DEPTH = -42,      /* JSON nested deeper than the limit */
    SYNC_E_JSON_STRING = -43,     /* a JSON string longer than the limit */
    SYNC_E_JSON_NOT_OBJECT = -44, /* the body, or a change, is not a JSON object */
    SYNC_E_TOO_MANY = -45,        /* more changes in one batch than the limit */
    SYNC_E_FIELD_MISSING = -46,   /* a required field is absent */
    SYNC_E_FIELD_TYPE = -47,      /* a field has the wrong type or form */
    SYNC_E_DELTA_VERSION = -48,   /* delta format version not understood */
    SYNC_E_UNKNOWN_TABLE = -49,   /* a change names a table the schema lacks */
    SYNC_E_UNKNOWN_COLUMN = -50,  /* a change names a column the table lacks */

    SYNC_E_NOT_FOUND = -60,   /* no such record */
    SYNC_E_PARTITION = -61,   /* the record belongs to another partition (village) */
    SYNC_E_IMMUTABLE = -62,   /* the column is set once, at creation */
    SYNC_E_APPEND_ONLY = -63, /* rows of this table are never edited or deleted */
    SYNC_E_ORIGIN = -64,      /* a pushed change was not made by the sender */
    SYNC_E_STATE = -65,       /* the call is not allowed in this state */
};

/* sync_strerror(code): a short English sentence for an engine error code.
 * Never NULL; the string is static. Unknown codes give a generic sentence. */
const char *sync_strerror(int code);

/* sync_error_name(code): a stable lower-case token for the code ("env_crc"),
 * as used on the wire in refusal reasons. Never NULL; static. */
const char *sync_error_name(int code);

#endif
