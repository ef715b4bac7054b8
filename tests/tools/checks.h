/* SPDX-License-Identifier: MIT */
/*
 * checks.h - what the integration tests of laptops and a hub check at the
 * end of a sync, shared: every change of a laptop is at the hub exactly
 * once, and a laptop's ledger is the hub's ledger of its village. Each
 * says what it found on stdout, and why it fails in why; the caller's test
 * framework fails the test (these tools link without one).
 */
#ifndef HAMLET_TEST_CHECKS_H
#define HAMLET_TEST_CHECKS_H

#include "agentproc.h"
#include "hubproc.h"

#include <stddef.h>

/* checks_exactly_once(hub, laptop, why, why_len): each change the laptop
 * made is at the hub exactly once, and both sides know it: the changes of
 * its node in the hub's journal = the last of their sequence numbers = the
 * laptop's own sequence = its acknowledgement = the hub's, the first is 1
 * and no sequence number is journaled twice. 0, or -1 with the reason in
 * why. */
int checks_exactly_once(struct hubproc *hub, struct agentproc *laptop, char *why, size_t why_len);

/* checks_same_as_hub(hub, laptop, village, why, why_len): `hamlet export`
 * on the laptop equals `hamlet-hub export --village village`, byte for
 * byte, and is not empty. 0, or -1 with where they differ in why. */
int checks_same_as_hub(struct hubproc *hub, struct agentproc *laptop, const char *village,
                       char *why, size_t why_len);

#endif
