/*
 * Moddable's message queue to the XS thread, as xs/platforms/esp/xsHost.c has it on the ESP32:
 * MODDEF_TASK_QUEUELENGTH (10) slots; modMessagePostToMachine waits MODDEF_TASK_QUEUEWAIT for a
 * slot when the queue is full (20 ms in debug builds, which is how the firmware is built; forever
 * in release ones) and then fails; modMessagePostToMachineFromISR never waits and fails at once.
 * The XS thread empties the queue when it services messages, never while a script runs.
 *
 * It counts what a test needs to show that the driver's task never waits: posts that found the
 * queue full, those that had to wait (and how many of them came from the driver's thread), and
 * posts refused without waiting. A chatter thread plays the other modules that post to the
 * machine (Moddable's sockets, timers, Wi-Fi events), to fill the queue on demand.
 */

#include "host.h"
#include "xsHost.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_LENGTH 10
#define QUEUE_WAIT_MS 20

typedef struct {
	modMessageDeliver callback;
	void *refcon;
	uint16_t length;
	uint8_t message[64];
} HostMessage;

static pthread_mutex_t gLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gRoom = PTHREAD_COND_INITIALIZER;
static pthread_cond_t gFull = PTHREAD_COND_INITIALIZER;
static HostMessage gQueue[QUEUE_LENGTH];
static unsigned gFirst, gCount;
static xsMachine *gMachine;
static int gWakeFd = -1;
static _Thread_local int gIsDriver;

/* Everything under gLock. */
static struct {
	unsigned posted, maxDepth, waited, driverWaited, timedOut, refused, driverPosts;
} gStats;

void hostQueueInit(xsMachine *the, int wakeFd)
{
	gMachine = the;
	gWakeFd = wakeFd;
}

void hostQueueMarkDriverThread(void)
{
	gIsDriver = 1;
}

/* Queues one message (gLock held, a slot free). */
static void enqueue(modMessageDeliver callback, void *refcon, uint8_t *message, uint16_t length)
{
	HostMessage *m = &gQueue[(gFirst + gCount) % QUEUE_LENGTH];
	uint8_t one = 1;

	m->callback = callback;
	m->refcon = refcon;
	m->length = length;
	if (length)
		memcpy(m->message, message, length);
	gCount++;
	gStats.posted++;
	if (gCount > gStats.maxDepth)
		gStats.maxDepth = gCount;
	if (gCount == QUEUE_LENGTH)
		pthread_cond_broadcast(&gFull);
	if (write(gWakeFd, &one, 1) < 0) {
		/* EAGAIN: the pipe is full of wake-ups already */
	}
}

int modMessagePostToMachine(xsMachine *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon)
{
	struct timespec until;
	int result = 0;

	if ((the != gMachine) || (messageLength > sizeof(gQueue[0].message)))
		return -1;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += QUEUE_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&gLock);
	if (gIsDriver)
		gStats.driverPosts++;
	if (gCount == QUEUE_LENGTH) {
		gStats.waited++;
		if (gIsDriver)
			gStats.driverWaited++;
		while ((gCount == QUEUE_LENGTH) && (ETIMEDOUT != pthread_cond_timedwait(&gRoom, &gLock, &until)))
			;
	}
	if (gCount < QUEUE_LENGTH)
		enqueue(callback, refcon, message, messageLength);
	else {
		gStats.timedOut++;
		result = -2;
	}
	pthread_mutex_unlock(&gLock);
	return result;
}

int modMessagePostToMachineFromISR(xsMachine *the, modMessageDeliver callback, void *refcon)
{
	int result = 0;

	if (the != gMachine)
		return -1;
	pthread_mutex_lock(&gLock);
	if (gIsDriver)
		gStats.driverPosts++;
	if (gCount < QUEUE_LENGTH)
		enqueue(callback, refcon, NULL, 0);
	else {
		gStats.refused++;
		result = -1;
	}
	pthread_mutex_unlock(&gLock);
	return result;
}

void hostQueueService(xsMachine *the)
{
	unsigned n;

	pthread_mutex_lock(&gLock);
	n = gCount;		/* as modMessageService: what is queued on entry */
	pthread_mutex_unlock(&gLock);
	while (n--) {
		HostMessage m;
		pthread_mutex_lock(&gLock);
		m = gQueue[gFirst];
		gFirst = (gFirst + 1) % QUEUE_LENGTH;
		gCount--;
		pthread_cond_broadcast(&gRoom);
		pthread_mutex_unlock(&gLock);
		m.callback(the, m.refcon, m.length ? m.message : NULL, m.length);
	}
}

void hostQueueWaitFull(void)
{
	pthread_mutex_lock(&gLock);
	while (gCount < QUEUE_LENGTH)
		pthread_cond_wait(&gFull, &gLock);
	pthread_mutex_unlock(&gLock);
}

/* ---- the chatter thread: another module posting to the machine, waiting as Moddable's modules do ---- */

static atomic_int gChatter;
static pthread_t gChatterThread;

static void chatterDeliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	(void)the, (void)refcon, (void)message, (void)messageLength;
}

static void *chatterMain(void *arg)
{
	(void)arg;
	while (atomic_load(&gChatter))
		modMessagePostToMachine(gMachine, NULL, 0, chatterDeliver, NULL);
	return NULL;
}

/* host_chatter(on): start or stop posting as fast as the queue takes it. */
void host_chatter(xsMachine *the)
{
	int on = xsmcTest(xsArg(0));

	if (on == atomic_load(&gChatter))
		return;
	atomic_store(&gChatter, on);
	if (on) {
		if (pthread_create(&gChatterThread, NULL, chatterMain, NULL))
			xsUnknownError("no chatter thread");
	}
	else
		pthread_join(gChatterThread, NULL);		/* its last post gives up after QUEUE_WAIT_MS */
}

/* host_queue_stats(): {capacity, posted, maxDepth, waited, driverWaited, timedOut, refused, driverPosts, depth} */
void host_queue_stats(xsMachine *the)
{
	unsigned values[9];
	static const char *names[9] = { "capacity", "posted", "maxDepth", "waited", "driverWaited", "timedOut", "refused", "driverPosts", "depth" };
	int i;

	pthread_mutex_lock(&gLock);
	values[0] = QUEUE_LENGTH;
	values[8] = gCount;
	values[1] = gStats.posted;
	values[2] = gStats.maxDepth;
	values[3] = gStats.waited;
	values[4] = gStats.driverWaited;
	values[5] = gStats.timedOut;
	values[6] = gStats.refused;
	values[7] = gStats.driverPosts;
	pthread_mutex_unlock(&gLock);
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	for (i = 0; i < 9; i++) {
		xsmcSetInteger(xsVar(0), (xsIntegerValue)values[i]);
		xsmcSet(xsResult, xsID((char *)names[i]), xsVar(0));
	}
}
