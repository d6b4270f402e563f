/* The host program's machine as the device's: see preload.c. */

#ifndef HOST_PRELOAD_H
#define HOST_PRELOAD_H

#include "xs.h"

/* The app's creation sizes from NETSTACK_CREATION; 0 if it is missing or malformed. */
int hostCreation(xsCreation *creation);
/* The preloaded part has run: freeze it as xsl does, and size the machine by `creation`. */
void hostPreloaded(xsMachine *the, xsCreation *creation);
/* Prints the memory in use, counted from the end of the preload, as one JSON line. */
void hostReportMemory(xsMachine *the);

#endif
