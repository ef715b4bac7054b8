/* SPDX-License-Identifier: MIT */
/*
 * records.h - cases, contacts and events as the secretary handles them on
 * the command line: FIELD=VALUE assignments checked against the ledger's
 * schema, and listings that mask personal numbers unless asked to reveal
 * them (DOMAIN.md, "Privacy").
 */
#ifndef HAMLET_RECORDS_H
#define HAMLET_RECORDS_H

#include "local.h"

#include <stdio.h>

#define RECORDS_MAX_FIELDS 32

/* Parsed FIELD=VALUE pairs; values point into the arguments. */
struct records_fields {
    size_t n;
    const char *names[RECORDS_MAX_FIELDS];
    struct sync_value values[RECORDS_MAX_FIELDS];
};

/* records_parse(table, argc, argv, out, why, why_len): read FIELD=VALUE
 * arguments for a table of the ledger: the field must exist and be
 * writable, integers must be integers, an empty value clears the field.
 * Returns 0 or -1 with the reason in why. */
int records_parse(const char *table, int argc, char **argv, struct records_fields *out, char *why,
                  size_t why_len);

/* records_mask(kind, value, out, len): a phone ("phone") or identity-card
 * number ("id_no") with its middle hidden: 138****8000, 4312**********4460
 * (rules_mask_phone and rules_mask_id_no). */
void records_mask(const char *kind, const char *value, char *out, size_t len);

/* records_resolve(local, table, prefix, id): the full id of the record whose
 * id starts with prefix (at least 8 characters), so that people can type a
 * short one. Returns 0, SYNC_E_NOT_FOUND, or SYNC_E_ARG (ambiguous or too
 * short). */
int records_resolve(struct local *local, const char *table, const char *prefix,
                    char id[UUID7_STRLEN + 1]);

/* Listings and detail views on out. */
int records_list_cases(struct local *local, const char *status, FILE *out);
int records_show_case(struct local *local, const char *id, int reveal, FILE *out);
int records_list_contacts(struct local *local, int reveal, FILE *out);
int records_show_contact(struct local *local, const char *id, int reveal, FILE *out);

#endif
