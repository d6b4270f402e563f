/* The host program's machine as the device's: see preload.c. */

#ifndef HOST_PRELOAD_H
#define HOST_PRELOAD_H

#include "xs.h"

/** Counted from the end of the preload: what the device's machine holds in RAM. */
typedef struct {
	xsIntegerValue keys, keyLimit, slots, chunks;
	xsIntegerValue preloadedKeys, preloadedSlots, preloadedChunks;
	xsIntegerValue slotSize;
} HostMemory;

/* The app's creation sizes from NETSTACK_CREATION; 0 if it is missing or malformed. */
int hostCreation(xsCreation *creation);
/* The preloaded part has run: freeze it as xsl does, and size the machine by `creation`. */
void hostPreloaded(xsMachine *the, xsCreation *creation);
void hostMemory(xsMachine *the, HostMemory *m);
void hostReportMemory(xsMachine *the);
void host_memory(xsMachine *the);

#endif
