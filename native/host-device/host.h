/*
 * Between the parts of the host program: main.c (XS, its event loop and host functions),
 * queue.c (Moddable's message queue) and idf.c (ESP-IDF: esp_netif, esp_event, esp_eth, the
 * driver over a TAP).
 */

#ifndef HOST_H
#define HOST_H

#include "xsmc.h"

/* queue.c: the machine's queue; `wakeFd` is written a byte whenever a message is queued. */
void hostQueueInit(xsMachine *the, int wakeFd);
/* Runs the messages queued now, in order (main thread). */
void hostQueueService(xsMachine *the);
/* The calling thread is the driver's receive task (its posts are counted apart). */
void hostQueueMarkDriverThread(void);
/* Blocks until the queue is full (for a flood that starts on a full queue). */
void hostQueueWaitFull(void);

/* idf.c: after tcpip_init, opens the TAP named by PRECONFIGURED_TAPIF (if any) and starts the
   driver, event and control threads. */
int hostIdfStart(void);

/* Host functions for the scripts (main.c's table). */
void host_queue_stats(xsMachine *the);
void host_chatter(xsMachine *the);
void host_flood(xsMachine *the);
void host_flood_done(xsMachine *the);

#endif
