/* SPDX-License-Identifier: MIT */
/*
 * store_int.h - what the files of the hub's store share, and nothing else
 * may use: the store's fields, its lock, and statement helpers. store.c
 * holds villages, devices, syncs, conflicts and history; store_users.c the
 * township's accounts and their sessions. Both implement store.h.
 */
#ifndef HAMLET_STORE_INT_H
#define HAMLET_STORE_INT_H

#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

struct store {
    pthread_mutex_t lock;
    struct replica *replica;
    sqlite3 *db; /* the replica's connection */
    struct replica_config config;
};

/* store_lock(s), store_unlock(s): one caller at a time. */
void store_lock(struct store *s);
void store_unlock(struct store *s);

/* store_prepare(s, sql, out): a prepared statement (finalised by the
 * caller); 0 or HUB_E_DB. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out);

/* store_copy_text(out, len, st, col): column col as text ("" for NULL). */
void store_copy_text(char *out, size_t out_len, sqlite3_stmt *st, int col);

#endif
