/* Moddable's xs/platforms/esp/xsHost.h: messages to the XS thread. */
#ifndef NETSTACK_HOST_XSHOST_H
#define NETSTACK_HOST_XSHOST_H

#include <stdint.h>
#include "xs.h"

typedef void (*modMessageDeliver)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
/* Copies `message` into the machine's queue; waits while the queue is full (MODDEF_TASK_QUEUEWAIT). */
int modMessagePostToMachine(xsMachine *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon);
/* Never waits: fails when the queue is full. */
int modMessagePostToMachineFromISR(xsMachine *the, modMessageDeliver callback, void *refcon);

#endif
