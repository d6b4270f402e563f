/*
 * host-device: the device port's glue (modules/device/netstack*.c) proven off the ESP32.
 *
 * This program plays the parts of ESP-IDF and of Moddable's runtime around the very same glue:
 * - Debian's lwIP runs its tcpip thread; idf.c plays ESP-IDF (esp_netif, esp_event, esp_eth
 *   and a driver whose receive thread reads a Linux TAP and hands each frame to netif->input,
 *   as the EMAC's task does). Commands on stdin unplug and plug the cable, stop and start the
 *   driver.
 * - The XS engine, compiled from the sources @agoric/xsnap ships, runs one bundled script on
 *   this (the main) thread: the device app with the stack. queue.c is Moddable's message queue
 *   to this thread, bounded and waiting as on the ESP32.
 * - Moddable's timer, time and file modules, and native()/Native(), are small host functions
 *   here; the script's module shims (native/host-device/js) call them.
 *
 * - The script's top level is what the firmware's manifests preload; what runs at boot on the
 *   device it leaves in the global __main, which runs once preload.c has frozen the rest as
 *   Moddable's linker does and sized the machine by the app's creation sizes.
 *
 * Usage: [PRECONFIGURED_TAPIF=tap0] NETSTACK_CREATION=... host-device SCRIPT.js
 * The environment variable NETSTACK_CONFIG holds the JSON the script reads as mc/config, and
 * NETSTACK_CREATION the app's creation sizes (preload.c), which a script with __main needs.
 * SIGTERM or SIGINT ends it; __exit(code) from the script too. SIGUSR1 prints the memory in use.
 */

#define _GNU_SOURCE		/* pipe2 */
#include "xsAll.h"
#include "xsmc.h"
#include "host.h"
#include "preload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

/* ---- the glue's host functions (modules/device/netstack.c) ---- */

extern void xs_netstack_link_destructor(void *data);
extern void xs_netstack_link(xsMachine *the);
extern void xs_netstack_link_close(xsMachine *the);
extern void xs_netstack_link_receive(xsMachine *the);
extern void xs_netstack_link_transmit(xsMachine *the);
extern void xs_netstack_link_mac(xsMachine *the);
extern void xs_netstack_link_counters(xsMachine *the);
extern void xs_netstack_random32(xsMachine *the);
extern void xs_netstack_sum16(xsMachine *the);
extern void xs_netstack_finish(xsMachine *the);
extern void xs_netstack_checksum(xsMachine *the);
extern void xs_netstack_pseudo_header_sum(xsMachine *the);
extern void xs_netstack_update_checksum(xsMachine *the);
extern void xs_netstack_eth_start(xsMachine *the);

static int gWakePipe[2];

static void serviceMessages(xsMachine *the)
{
	uint8_t drain[64];

	while (read(gWakePipe[0], drain, sizeof(drain)) > 0)
		;
	hostQueueService(the);
}

/* ---- time and timers: the script keeps the callbacks, we keep ids and due times ---- */

typedef struct HostTimer {
	struct HostTimer *next;
	double id;
	uint64_t due;
} HostTimer;

static HostTimer *gTimers;		/* sorted by due time, then by creation */
static volatile sig_atomic_t gQuit, gReportMemory;
static int gExitCode;

static uint64_t nowMs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void host_ticks(xsMachine *the)
{
	xsmcSetNumber(xsResult, (double)(uint32_t)nowMs());
}

/* __timerSet(id, ms) */
static void host_timer_set(xsMachine *the)
{
	HostTimer *t = malloc(sizeof(HostTimer)), **p;
	double ms = xsmcToNumber(xsArg(1));

	if (!t)
		xsUnknownError("no memory for a timer");
	t->id = xsmcToNumber(xsArg(0));
	t->due = nowMs() + (uint64_t)(ms > 0 ? ms : 0);
	for (p = &gTimers; *p && ((*p)->due <= t->due); p = &(*p)->next)
		;
	t->next = *p;
	*p = t;
}

/* __timerClear(id) */
static void host_timer_clear(xsMachine *the)
{
	double id = xsmcToNumber(xsArg(0));
	HostTimer **p, *t;

	for (p = &gTimers; (t = *p); p = &t->next) {
		if (t->id == id) {
			*p = t->next;
			free(t);
			return;
		}
	}
}

/* Fires every timer that is due, each through the script's __timerFire(id). */
static void serviceTimers(xsMachine *the)
{
	uint64_t now = nowMs();

	while (gTimers && (gTimers->due <= now)) {
		HostTimer *t = gTimers;
		double id = t->id;
		gTimers = t->next;
		free(t);
		xsBeginHost(the);
		xsTry {
			xsCall1(xsGlobal, xsID("__timerFire"), xsNumber(id));
		}
		xsCatch {
			fprintf(stderr, "host-device: a timer threw: %s\n", xsmcToString(xsException));
		}
		xsEndHost(the);
	}
}

/* ---- console, measurement, exit ---- */

static void host_trace(xsMachine *the)
{
	int i, c = xsmcArgc;
	for (i = 0; i < c; i++)
		fputs(xsmcToString(xsArg(i)), stdout);
	fflush(stdout);
}

/* Computrons (XS's metering count) so far. */
static void host_computrons(xsMachine *the)
{
	xsmcSetNumber(xsResult, the->meterIndex);
}

/* [slots in use, chunk bytes in use, bytes per slot] after a full collection. */
static void host_heap(xsMachine *the)
{
	xsCollectGarbage();
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 3);
	xsmcSetInteger(xsVar(0), the->currentHeapCount);
	xsmcSetIndex(xsResult, 0, xsVar(0));
	xsmcSetInteger(xsVar(0), the->currentChunksSize);
	xsmcSetIndex(xsResult, 1, xsVar(0));
	xsmcSetInteger(xsVar(0), (xsIntegerValue)sizeof(txSlot));
	xsmcSetIndex(xsResult, 2, xsVar(0));
}

static void host_exit(xsMachine *the)
{
	gExitCode = xsmcArgc ? xsmcToInteger(xsArg(0)) : 0;
	gQuit = 1;
}

/* ---- Moddable's file module, as its Linux and ESP32 versions behave ---- */

void host_file_destructor(void *data)
{
	if (data)
		fclose(data);
}

static FILE *fileOf(xsMachine *the)
{
	FILE *f = xsmcGetHostData(xsThis);
	if (!f)
		xsUnknownError("file closed");
	return f;
}

/* new File(path, write) */
static void host_file(xsMachine *the)
{
	int write = (xsmcArgc > 1) && xsmcTest(xsArg(1));
	FILE *f = fopen(xsmcToString(xsArg(0)), write ? "rb+" : "rb");
	if (!f && write)
		f = fopen(xsmcToString(xsArg(0)), "wb+");
	if (!f)
		xsUnknownError("file not found");
	xsmcSetHostData(xsThis, f);
}

/* read(ArrayBuffer, count) */
static void host_file_read(xsMachine *the)
{
	FILE *f = fileOf(the);
	struct stat st;
	long position = ftell(f);
	xsIntegerValue count;

	fstat(fileno(f), &st);
	count = (xsmcArgc > 1) ? xsmcToInteger(xsArg(1)) : (xsIntegerValue)(st.st_size - position);
	xsmcSetArrayBuffer(xsResult, NULL, count);
	if ((xsIntegerValue)fread(xsmcToArrayBuffer(xsResult), 1, count, f) != count)
		xsUnknownError("file read failed");
}

static void host_file_write(xsMachine *the)
{
	FILE *f = fileOf(the);
	int i;

	for (i = 0; i < xsmcArgc; i++) {
		void *data;
		xsUnsignedValue length;
		if (xsStringType == xsmcTypeOf(xsArg(i))) {
			data = xsmcToString(xsArg(i));
			length = strlen(data);
		}
		else
			xsmcGetBufferReadable(xsArg(i), &data, &length);
		if (fwrite(data, 1, length, f) != length)
			xsUnknownError("file write failed");
	}
	if (fflush(f))
		xsUnknownError("file flush failed");
}

static void host_file_close(xsMachine *the)
{
	host_file_destructor(xsmcGetHostData(xsThis));
	xsmcSetHostData(xsThis, NULL);
}

static void host_file_length(xsMachine *the)
{
	struct stat st;
	fstat(fileno(fileOf(the)), &st);
	xsmcSetInteger(xsResult, (xsIntegerValue)st.st_size);
}

static void host_file_get_position(xsMachine *the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)ftell(fileOf(the)));
}

static void host_file_set_position(xsMachine *the)
{
	fseek(fileOf(the), xsmcToInteger(xsArg(0)), SEEK_SET);
}

static void host_file_delete(xsMachine *the)
{
	xsmcSetBoolean(xsResult, 0 == unlink(xsmcToString(xsArg(0))));
}

static void host_file_exists(xsMachine *the)
{
	struct stat st;
	xsmcSetBoolean(xsResult, 0 == stat(xsmcToString(xsArg(0)), &st));
}

/* rename(from, to): `to` is a full path or a name in from's directory */
static void host_file_rename(xsMachine *the)
{
	char from[1024], to[1024];
	char *slash;

	xsmcToStringBuffer(xsArg(0), from, sizeof(from));
	xsmcToStringBuffer(xsArg(1), to, sizeof(to));
	if (to[0] != '/') {
		char name[1024];
		strcpy(name, to);
		strcpy(to, from);
		slash = strrchr(to, '/');
		if (!slash || (strlen(name) + (size_t)(slash - to) + 2 > sizeof(to)))
			xsUnknownError("invalid rename");
		strcpy(slash + 1, name);
	}
	xsmcSetBoolean(xsResult, 0 == rename(from, to));
}

typedef struct {
	DIR *dir;
	char path[1024];
	size_t length;
} HostIterator;

void host_iterator_destructor(void *data)
{
	HostIterator *it = data;
	if (it) {
		if (it->dir)
			closedir(it->dir);
		free(it);
	}
}

/* new Iterator(path): path ends with "/" */
static void host_iterator(xsMachine *the)
{
	HostIterator *it = calloc(1, sizeof(HostIterator));
	if (!it)
		xsUnknownError("no memory");
	xsmcToStringBuffer(xsArg(0), it->path, sizeof(it->path) - 256);
	it->length = strlen(it->path);
	it->dir = opendir(it->path);
	if (!it->dir) {
		free(it);
		xsUnknownError("directory not found");
	}
	xsmcSetHostData(xsThis, it);
}

/* next(): {name, length} for a file, {name} for a directory, undefined at the end */
static void host_iterator_next(xsMachine *the)
{
	HostIterator *it = xsmcGetHostData(xsThis);
	struct dirent *e;
	struct stat st;

	if (!it)
		return;
	do {
		e = readdir(it->dir);
		if (!e)
			return;
	} while (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || ((e->d_type != DT_REG) && (e->d_type != DT_DIR)));
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetString(xsVar(0), e->d_name);
	xsmcSet(xsResult, xsID("name"), xsVar(0));
	if (e->d_type == DT_REG) {
		strcpy(it->path + it->length, e->d_name);
		if (stat(it->path, &st))
			xsUnknownError("stat error");
		xsmcSetInteger(xsVar(0), (xsIntegerValue)st.st_size);
		xsmcSet(xsResult, xsID("length"), xsVar(0));
	}
}

static void host_directory_create(xsMachine *the)
{
	if (mkdir(xsmcToString(xsArg(0)), 0775))
		xsUnknownError("mkdir failed");
}

static void host_directory_delete(xsMachine *the)
{
	if (rmdir(xsmcToString(xsArg(0))))
		xsUnknownError("rmdir failed");
}

/* System.info(root): {used, total} of the file system holding config.file.root */
static void host_system_info(xsMachine *the)
{
	struct statvfs fs;
	if (statvfs(xsmcToString(xsArg(0)), &fs))
		xsUnknownError("statvfs failed");
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetNumber(xsVar(0), (double)(fs.f_blocks - fs.f_bfree) * fs.f_frsize);
	xsmcSet(xsResult, xsID("used"), xsVar(0));
	xsmcSetNumber(xsVar(0), (double)fs.f_blocks * fs.f_frsize);
	xsmcSet(xsResult, xsID("total"), xsVar(0));
}

/* ---- native() and Native(): names to host functions and destructors ---- */

typedef struct {
	const char *name;
	xsCallback callback;
	xsDestructor destructor;
} HostEntry;

static const HostEntry gHostTable[] = {
	{ "xs_netstack_link_destructor", NULL, xs_netstack_link_destructor },
	{ "xs_netstack_link", xs_netstack_link, NULL },
	{ "xs_netstack_link_close", xs_netstack_link_close, NULL },
	{ "xs_netstack_link_receive", xs_netstack_link_receive, NULL },
	{ "xs_netstack_link_transmit", xs_netstack_link_transmit, NULL },
	{ "xs_netstack_link_mac", xs_netstack_link_mac, NULL },
	{ "xs_netstack_link_counters", xs_netstack_link_counters, NULL },
	{ "xs_netstack_random32", xs_netstack_random32, NULL },
	{ "xs_netstack_sum16", xs_netstack_sum16, NULL },
	{ "xs_netstack_finish", xs_netstack_finish, NULL },
	{ "xs_netstack_checksum", xs_netstack_checksum, NULL },
	{ "xs_netstack_pseudo_header_sum", xs_netstack_pseudo_header_sum, NULL },
	{ "xs_netstack_update_checksum", xs_netstack_update_checksum, NULL },
	{ "xs_netstack_eth_start", xs_netstack_eth_start, NULL },
	{ "host_file_destructor", NULL, host_file_destructor },
	{ "host_file", host_file, NULL },
	{ "host_file_read", host_file_read, NULL },
	{ "host_file_write", host_file_write, NULL },
	{ "host_file_close", host_file_close, NULL },
	{ "host_file_length", host_file_length, NULL },
	{ "host_file_get_position", host_file_get_position, NULL },
	{ "host_file_set_position", host_file_set_position, NULL },
	{ "host_file_delete", host_file_delete, NULL },
	{ "host_file_exists", host_file_exists, NULL },
	{ "host_file_rename", host_file_rename, NULL },
	{ "host_iterator_destructor", NULL, host_iterator_destructor },
	{ "host_iterator", host_iterator, NULL },
	{ "host_iterator_next", host_iterator_next, NULL },
	{ "host_directory_create", host_directory_create, NULL },
	{ "host_directory_delete", host_directory_delete, NULL },
	{ "host_system_info", host_system_info, NULL },
	{ "host_ticks", host_ticks, NULL },
	{ "host_computrons", host_computrons, NULL },
	{ "host_heap", host_heap, NULL },
	{ "host_queue_stats", host_queue_stats, NULL },
	{ "host_chatter", host_chatter, NULL },
	{ "host_flood", host_flood, NULL },
	{ "host_flood_done", host_flood_done, NULL },
};

static const HostEntry *lookup(xsMachine *the)
{
	char name[64];
	size_t i;

	xsmcToStringBuffer(xsArg(0), name, sizeof(name));
	for (i = 0; i < sizeof(gHostTable) / sizeof(gHostTable[0]); i++)
		if (!strcmp(gHostTable[i].name, name))
			return &gHostTable[i];
	xsUnknownError("no host function %s", name);
	return NULL;
}

/* __native(name): the host function of that name */
static void host_native(xsMachine *the)
{
	const HostEntry *e = lookup(the);
	if (!e->callback)
		xsUnknownError("%s is a destructor", e->name);
	xsResult = xsNewHostFunction(e->callback, 0);
}

/* __hostNames(): the names of the host functions */
static void host_names(xsMachine *the)
{
	size_t i;
	xsIntegerValue n = 0;

	xsmcVars(1);
	xsmcSetNewArray(xsResult, 0);
	for (i = 0; i < sizeof(gHostTable) / sizeof(gHostTable[0]); i++) {
		if (!gHostTable[i].callback)
			continue;
		xsmcSetString(xsVar(0), (char *)gHostTable[i].name);
		xsmcSetIndex(xsResult, n++, xsVar(0));
	}
}

/* __hostObject(name): a new host object whose destructor is the one of that name */
static void host_object(xsMachine *the)
{
	const HostEntry *e = lookup(the);
	if (!e->destructor)
		xsUnknownError("%s is no destructor", e->name);
	xsResult = xsNewHostObject(e->destructor);
}

/* ---- promise jobs ---- */

void fxQueuePromiseJobs(txMachine *the)
{
	the->promiseJobs = 1;
}

static void servicePromiseJobs(xsMachine *the)
{
	while (the->promiseJobs) {
		the->promiseJobs = 0;
		fxRunPromiseJobs(the);
	}
}

/* ---- start-up and the event loop ---- */

static txBoolean meter(txMachine *the, txU4 index)
{
	(void)the, (void)index;
	return 1;		/* never stops the script: we only read the count */
}

static void onSignal(int sig)
{
	if (sig == SIGUSR1)
		gReportMemory = 1;
	else
		gQuit = 1;
}

static void addGlobal(xsMachine *the, const char *name, xsCallback callback, int length)
{
	xsmcVars(1);
	xsVar(0) = xsNewHostFunction(callback, length);
	xsmcSet(xsGlobal, xsID((char *)name), xsVar(0));
}

static void tcpipReady(void *ctx)
{
	sys_sem_signal((sys_sem_t *)ctx);
}

static char *readFile(const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;
	char *text;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc(size + 1);
	if (text && (fread(text, 1, size, f) != (size_t)size)) {
		free(text);
		text = NULL;
	}
	if (text)
		text[size] = 0;
	fclose(f);
	return text;
}

int main(int argc, char *argv[])
{
	/* Small steps while the preloaded part runs, so that little is left over when the app's sizes apply. */
	xsCreation preload = {
		32 * 1024,		/* initial chunk size */
		4 * 1024,		/* incremental chunk size */
		2048,			/* initial heap count */
		128,			/* incremental heap count */
		4096,			/* stack count */
		8192,			/* initial key count */
		1024,			/* incremental key count */
		1993,			/* name modulo */
		127,			/* symbol modulo */
		64 * 1024,		/* parser buffer size */
		1993,			/* parser table modulo */
		0,				/* static size */
	};
	xsCreation app = preload;
	int sized = hostCreation(&app);
	sys_sem_t sem;
	char *script;
	const char *config = getenv("NETSTACK_CONFIG");
	xsMachine *the;
	volatile int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: [PRECONFIGURED_TAPIF=NAME] host-device SCRIPT.js\n");
		return 2;
	}
	script = readFile(argv[1]);
	if (!script) {
		fprintf(stderr, "host-device: cannot read %s\n", argv[1]);
		return 2;
	}
	signal(SIGTERM, onSignal);
	signal(SIGINT, onSignal);
	signal(SIGUSR1, onSignal);
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(gWakePipe, O_NONBLOCK | O_CLOEXEC)) {
		perror("host-device: pipe");
		return 1;
	}

	/* lwIP's tcpip thread, then ESP-IDF's part: the driver (and its TAP), the control thread. */
	if (sys_sem_new(&sem, 0) != ERR_OK)
		return 1;
	tcpip_init(tcpipReady, &sem);
	sys_sem_wait(&sem);
	if (hostIdfStart())
		return 1;

	if (sized) {
		preload.nameModulo = app.nameModulo;
		preload.symbolModulo = app.symbolModulo;
	}
	the = xsCreateMachine(&preload, "host-device", NULL);
	hostQueueInit(the, gWakePipe[1]);
	fxBeginMetering(the, meter, 0x7fffffff);
	{
		xsBeginHost(the);
		addGlobal(the, "__native", host_native, 1);
		addGlobal(the, "__hostNames", host_names, 0);
		addGlobal(the, "__hostObject", host_object, 1);
		addGlobal(the, "trace", host_trace, 1);
		addGlobal(the, "__timerSet", host_timer_set, 2);
		addGlobal(the, "__timerClear", host_timer_clear, 1);
		addGlobal(the, "__exit", host_exit, 1);
		xsmcVars(1);
		xsmcSetString(xsVar(0), (char *)(config ? config : "{}"));
		xsmcSet(xsGlobal, xsID("__configText"), xsVar(0));
		xsTry {
			xsCall1(xsGlobal, xsID("eval"), xsString(script));
			xsmcGet(xsVar(0), xsGlobal, xsID("__main"));
			if (xsmcTest(xsVar(0))) {
				if (!sized)
					xsUnknownError("NETSTACK_CREATION is missing or malformed");
				hostPreloaded(the, &app);
				xsCallFunction0(xsVar(0), xsGlobal);
			}
		}
		xsCatch {
			fprintf(stderr, "host-device: the script threw: %s\n", xsmcToString(xsException));
			failed = 1;
		}
		xsEndHost(the);
	}
	free(script);

	while (!failed && !gQuit) {
		struct pollfd fd = { gWakePipe[0], POLLIN, 0 };
		int timeout = -1;
		servicePromiseJobs(the);
		if (gTimers) {
			uint64_t now = nowMs();
			timeout = (gTimers->due <= now) ? 0 : (int)(gTimers->due - now);
		}
		if (poll(&fd, 1, timeout) < 0 && errno != EINTR)
			break;
		serviceMessages(the);
		serviceTimers(the);
		if (gReportMemory) {
			gReportMemory = 0;
			hostReportMemory(the);
		}
	}
	fxEndMetering(the);
	xsDeleteMachine(the);
	return failed ? 1 : gExitCode;
}
