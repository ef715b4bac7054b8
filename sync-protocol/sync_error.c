/* SPDX-License-Identifier: MIT */
/*
 * sync_error.c - words for the engine's error codes. The names are part of
 * the wire protocol (PROTOCOL.md, "Refusals"): never rename one.
 */
#include "sync_error.h"

#include <stddef.h>

struct error_text {
    int code;
    const char *name;
    const char *text;
};

static const struct error_text texts[] = {
    {SYNC_OK, "ok", "success"},
    {SYNC_E_NOMEM, "nomem", "out of memory"},
    {SYNC_E_DB, "db", "the database failed"},
    {SYNC_E_ARG, "arg", "invalid argument"},
    {SYNC_E_SCHEMA, "schema", "the schema description does not match the database"},
    {SYNC_E_MIGRATION, "migration", "the database could not be migrated"},
    {SYNC_E_RANDOM, "random", "the system gave no random bytes"},
    {SYNC_E_HLC_DRIFT, "hlc_drift", "a clock stamp is too far ahead of this machine's clock"},
    {SYNC_E_HLC_OVERFLOW, "hlc_overflow", "the clock counter overflowed; try again"},
    {SYNC_E_ENV_TRUNCATED, "env_truncated", "the envelope is truncated"},
    {SYNC_E_ENV_MAGIC, "env_magic", "not a Hamlet envelope (bad magic)"},
    {SYNC_E_ENV_VERSION, "env_version", "unknown envelope format version"},
    {SYNC_E_ENV_FLAGS, "env_flags", "unknown envelope flags"},
    {SYNC_E_ENV_CRC, "env_crc", "envelope checksum mismatch: the data was damaged"},
    {SYNC_E_ENV_TOO_BIG, "env_too_big", "the envelope is larger than allowed"},
    {SYNC_E_ENV_INFLATED, "env_inflated", "the decompressed body would be larger than allowed"},
    {SYNC_E_ENV_RATIO, "env_ratio", "the compression ratio is higher than allowed"},
    {SYNC_E_ENV_CORRUPT, "env_corrupt", "the compressed body is corrupt"},
    {SYNC_E_ENV_LENGTH, "env_length", "the body does not decompress to its declared size"},
    {SYNC_E_ENV_TRAILING, "env_trailing", "unexpected bytes after the envelope"},
    {SYNC_E_UTF8, "utf8", "the body is not valid UTF-8"},
    {SYNC_E_JSON, "json", "the body is not valid JSON"},
    {SYNC_E_JSON_DEPTH, "json_depth", "the JSON is nested deeper than allowed"},
    {SYNC_E_JSON_STRING, "json_string", "a JSON string is longer than allowed"},
    {SYNC_E_JSON_NOT_OBJECT, "json_not_object", "a JSON object was expected"},
    {SYNC_E_TOO_MANY, "too_many", "more changes in one batch than allowed"},
    {SYNC_E_FIELD_MISSING, "field_missing", "a required field is missing"},
    {SYNC_E_FIELD_TYPE, "field_type", "a field has the wrong type"},
    {SYNC_E_DELTA_VERSION, "delta_version", "unknown delta format version"},
    {SYNC_E_UNKNOWN_TABLE, "unknown_table", "unknown table"},
    {SYNC_E_UNKNOWN_COLUMN, "unknown_column", "unknown column"},
    {SYNC_E_NOT_FOUND, "not_found", "no such record"},
    {SYNC_E_PARTITION, "partition", "the record belongs to another village"},
    {SYNC_E_IMMUTABLE, "immutable", "the field is set once, when the record is created"},
    {SYNC_E_APPEND_ONLY, "append_only", "records of this kind are never edited or deleted"},
    {SYNC_E_ORIGIN, "origin", "a pushed change was made by another device"},
    {SYNC_E_STATE, "state", "not allowed in this state"},
};

static const struct error_text *find(int code)
{
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i].code == code) {
            return &texts[i];
        }
    }
    return NULL;
}

const char *sync_strerror(int code)
{
    const struct error_text *t = find(code);
    return t ? t->text : "unknown error";
}

const char *sync_error_name(int code)
{
    const struct error_text *t = find(code);
    return t ? t->name : "unknown";
}
