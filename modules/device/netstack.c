/*
 * The device port's C glue: the host functions behind modules/device/{link,checksum,random}.ts.
 *
 * The stack runs in JavaScript on the XS thread. Here it takes over one lwIP interface (the
 * Wi-Fi station or the Ethernet port) at lwIP's netif level: every frame the driver hands to
 * netif->input comes to us instead of lwIP, and what the stack sends leaves through the
 * interface's linkoutput. ESP-IDF's DHCP client is stopped on that interface and lwIP's own
 * addresses are cleared, so our DHCP client owns the address and lwIP answers nothing.
 *
 * THREADS. Three threads touch this glue, and each piece of state below says which may.
 * - The driver's receive task (ESP-IDF's Wi-Fi or EMAC task; tapif's thread on the host)
 *   calls netstack_input, our netif->input.
 * - lwIP's tcpip thread runs netstack_hook, netstack_unhook and netstack_output. lwIP only
 *   allows a netif's fields to change, and its linkoutput to be called, there (or under the
 *   core lock, which ESP-IDF does not enable by default). We reach it with tcpip_try_callback
 *   and tcpip_callback_wait.
 * - The XS thread runs every xs_* function and netstack_deliver. It alone touches JavaScript
 *   values: the driver task never calls into XS, it posts a message
 *   (modMessagePostToMachine) and XS delivers the frames when it next services messages.
 *
 * NO DANGLING POINTERS ACROSS THREADS. Moddable's own lwIP glue has had use-after-free races
 * of exactly this shape (issue #1655: a tcpip-thread callback reaching a socket the XS thread
 * had freed; PR #1679: a queued message carrying a pcb that lwIP freed before it ran). Here:
 * - The glue's state is one static record, never freed, so no message or callback can
 *   outlive it. Messages to the XS thread carry no pointer at all.
 * - A pbuf belongs to exactly one owner at a time: the driver hands it to netstack_input,
 *   which moves it into the ring under the lock; netstack_deliver takes it out under the lock
 *   and frees it. Frames going out are fresh pbufs owned by the pending tcpip callback, which
 *   frees them after linkoutput.
 * - The netif pointer is written and read for output only on the tcpip thread. A frame queued
 *   for output after detaching finds it NULL and is dropped. The driver may still call our
 *   input for a moment after netif->input is restored; while detached that call goes straight
 *   to the interface's own input (saved, never cleared).
 * - The receive ring, the flags the driver task reads and every counter are guarded by
 *   gGlue.lock, held only for a few loads and stores, never while calling out.
 * - pbuf_alloc and pbuf_free are called outside the tcpip thread: lwIP makes them safe with
 *   SYS_LIGHTWEIGHT_PROT (checked below), as ESP-IDF's drivers rely on too.
 */

#ifdef ESP_PLATFORM
	#include "xs.h"
	#include "xsmc.h"
	#include "xsHost.h"
	#include "mc.defines.h"
	#include "esp_netif.h"
	#include "esp_random.h"
#else
	#include "netstack_host.h"
	#include "xsmc.h"
#endif

#include <math.h>
#include <string.h>
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#if !SYS_LIGHTWEIGHT_PROT
	#error "netstack.c frees and allocates pbufs outside the tcpip thread: lwIP needs SYS_LIGHTWEIGHT_PROT"
#endif

/* Received frames waiting for the XS thread (the board's defines.netstack.queue). */
#ifndef MODDEF_NETSTACK_QUEUE
	#define MODDEF_NETSTACK_QUEUE (16)
#endif

/* The largest frame we send: Ethernet header and a 1500-byte payload (the FCS is the MAC's). */
#define NETSTACK_MAX_FRAME (1514)

typedef struct {
	/* Guards everything up to `counters`. */
	sys_mutex_t lock;
	/* Set (under the lock) between hooking and unhooking; the driver task reads it. */
	uint8_t attached;
	/* A message to the XS thread is pending: at most one is ever in Moddable's queue. */
	uint8_t wakePending;
	uint16_t head;
	uint16_t count;
	struct pbuf *ring[MODDEF_NETSTACK_QUEUE];
	/* received, receiveDropped, sent, sendDropped */
	uint32_t counters[4];

	/* tcpip thread only (hook, unhook, output). */
	struct netif *netif;
	/* Copied by the hook; the XS thread reads them once tcpip_callback_wait has returned. */
	uint8_t mac[NETIF_MAX_HWADDR_LEN];
	uint8_t macLength;
	/* Written once per attach on the tcpip thread before `attached` is set; read by the driver task when not attached. */
	netif_input_fn lwipInput;

	/* XS thread only. */
	xsMachine *the;
	uint8_t owned;			/* a LwipLink instance holds the attachment */
	uint8_t hasReceiver;
	xsSlot receiver;		/* remembered while hasReceiver */
} NetstackGlue;

enum { RECEIVED, RECEIVE_DROPPED, SENT, SEND_DROPPED };

static NetstackGlue gGlue;
static uint8_t gLockMade;		/* XS thread only */

static void netstack_deliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength);

/* ---- driver task ---- */

/* The interface's input: queue the frame for the XS thread, or drop and count it when the queue is full. */
static err_t netstack_input(struct pbuf *p, struct netif *netif)
{
	uint8_t wake = 0;

	sys_mutex_lock(&gGlue.lock);
	if (!gGlue.attached) {
		sys_mutex_unlock(&gGlue.lock);
		return gGlue.lwipInput(p, netif);
	}
	if (gGlue.count == MODDEF_NETSTACK_QUEUE) {
		gGlue.counters[RECEIVE_DROPPED]++;
		sys_mutex_unlock(&gGlue.lock);
		pbuf_free(p);
		return ERR_OK;		/* taken: the driver must not free it again */
	}
	gGlue.ring[(gGlue.head + gGlue.count) % MODDEF_NETSTACK_QUEUE] = p;
	gGlue.count++;
	gGlue.counters[RECEIVED]++;
	if (!gGlue.wakePending)
		wake = gGlue.wakePending = 1;
	sys_mutex_unlock(&gGlue.lock);

	/* Posted outside the lock: Moddable's queue may block for a moment when full. The frame is
	   queued either way; if the post fails, the next frame tries again. */
	if (wake && modMessagePostToMachine(gGlue.the, NULL, 0, netstack_deliver, NULL)) {
		sys_mutex_lock(&gGlue.lock);
		gGlue.wakePending = 0;
		sys_mutex_unlock(&gGlue.lock);
	}
	return ERR_OK;
}

/* ---- tcpip thread ---- */

static void netstack_hook(void *ctx)
{
	struct netif *netif = ctx;

	gGlue.netif = netif;
	gGlue.lwipInput = netif->input;
	gGlue.macLength = netif->hwaddr_len;
	memcpy(gGlue.mac, netif->hwaddr, netif->hwaddr_len);
	netif_set_addr(netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
	sys_mutex_lock(&gGlue.lock);
	gGlue.attached = 1;
	sys_mutex_unlock(&gGlue.lock);
	netif->input = netstack_input;
}

static void netstack_unhook(void *ctx)
{
	(void)ctx;
	if (gGlue.netif)
		gGlue.netif->input = gGlue.lwipInput;
	gGlue.netif = NULL;
	sys_mutex_lock(&gGlue.lock);
	gGlue.attached = 0;
	sys_mutex_unlock(&gGlue.lock);
}

/* Sends one frame the XS thread queued, and frees it. */
static void netstack_output(void *ctx)
{
	struct pbuf *p = ctx;
	uint8_t sent = gGlue.netif && (ERR_OK == gGlue.netif->linkoutput(gGlue.netif, p));

	pbuf_free(p);
	sys_mutex_lock(&gGlue.lock);
	gGlue.counters[sent ? SENT : SEND_DROPPED]++;
	sys_mutex_unlock(&gGlue.lock);
}

/* ---- XS thread ---- */

/* Takes the oldest queued frame, or NULL. */
static struct pbuf *netstack_take(void)
{
	struct pbuf *p = NULL;

	sys_mutex_lock(&gGlue.lock);
	if (gGlue.count) {
		p = gGlue.ring[gGlue.head];
		gGlue.head = (gGlue.head + 1) % MODDEF_NETSTACK_QUEUE;
		gGlue.count--;
	}
	sys_mutex_unlock(&gGlue.lock);
	return p;
}

/* The message the driver task posts: hands every queued frame to the receiver, each in an ArrayBuffer of its own. */
static void netstack_deliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	struct pbuf *p;

	(void)refcon, (void)message, (void)messageLength;
	sys_mutex_lock(&gGlue.lock);
	gGlue.wakePending = 0;		/* frames queued from now on post again */
	sys_mutex_unlock(&gGlue.lock);

	while ((p = netstack_take())) {
		if (!gGlue.hasReceiver) {
			pbuf_free(p);
			continue;
		}
		xsBeginHost(the);
		xsmcVars(1);
		xsmcSetArrayBuffer(xsVar(0), NULL, p->tot_len);
		pbuf_copy_partial(p, xsmcToArrayBuffer(xsVar(0)), p->tot_len, 0);
		pbuf_free(p);
		xsTry {
			xsCallFunction1(gGlue.receiver, xsUndefined, xsVar(0));
		}
		xsCatch {
			/* netif.input never throws; if a receiver does, the next frame still goes through */
		}
		xsEndHost(the);
	}
}

/* Gives the interface back to lwIP and frees what is queued. */
static void netstack_detach(void)
{
	struct pbuf *p;

	if (!gGlue.owned)
		return;
	tcpip_callback_wait(netstack_unhook, NULL);
	while ((p = netstack_take()))
		pbuf_free(p);
	gGlue.owned = 0;
}

static void netstack_forget_receiver(xsMachine *the)
{
	if (gGlue.hasReceiver)
		xsForget(gGlue.receiver);
	gGlue.hasReceiver = 0;
}

void xs_netstack_link_destructor(void *data)
{
	if (data)
		netstack_detach();
}

/* new LwipLink(ifkey): attach to the esp_netif with that key. */
void xs_netstack_link(xsMachine *the)
{
	char ifkey[32];
	esp_netif_t *esp;
	struct netif *netif;

	if (gGlue.owned)
		xsUnknownError("netstack: an interface is attached already");
	xsmcToStringBuffer(xsArg(0), ifkey, sizeof(ifkey));
	esp = esp_netif_get_handle_from_ifkey(ifkey);
	netif = esp ? esp_netif_get_netif_impl(esp) : NULL;
	if (!netif)
		xsUnknownError("netstack: no such interface");
	if (!gLockMade) {
		if (ERR_OK != sys_mutex_new(&gGlue.lock))
			xsUnknownError("netstack: no mutex");
		gLockMade = 1;
	}
	esp_netif_dhcpc_stop(esp);		/* ESP_OK, or already stopped: either way it is off */
	netstack_forget_receiver(the);
	gGlue.the = the;
	memset(gGlue.counters, 0, sizeof(gGlue.counters));
	if (ERR_OK != tcpip_callback_wait(netstack_hook, netif))
		xsUnknownError("netstack: the tcpip thread did not answer");
	gGlue.owned = 1;
	xsmcSetHostData(xsThis, &gGlue);
}

void xs_netstack_link_close(xsMachine *the)
{
	if (xsmcGetHostData(xsThis)) {
		netstack_detach();
		netstack_forget_receiver(the);
		xsmcSetHostData(xsThis, NULL);
	}
}

static void netstack_check(xsMachine *the)
{
	if (!xsmcGetHostData(xsThis))
		xsUnknownError("netstack: closed");
}

void xs_netstack_link_receive(xsMachine *the)
{
	netstack_check(the);
	netstack_forget_receiver(the);
	gGlue.receiver = xsArg(0);
	xsRemember(gGlue.receiver);
	gGlue.hasReceiver = 1;
}

/* transmit(frame): copy it into a pbuf and have the tcpip thread hand it to linkoutput. */
void xs_netstack_link_transmit(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;
	struct pbuf *p;

	netstack_check(the);
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if ((length < 14) || (length > NETSTACK_MAX_FRAME))
		xsRangeError("netstack: frame size");
	p = pbuf_alloc(PBUF_RAW, (u16_t)length, PBUF_RAM);
	if (p) {
		pbuf_take(p, data, (u16_t)length);
		if (ERR_OK == tcpip_try_callback(netstack_output, p))
			return;
		pbuf_free(p);		/* the tcpip thread's mailbox is full */
	}
	sys_mutex_lock(&gGlue.lock);
	gGlue.counters[SEND_DROPPED]++;
	sys_mutex_unlock(&gGlue.lock);
}

void xs_netstack_link_mac(xsMachine *the)
{
	netstack_check(the);
	xsmcSetArrayBuffer(xsResult, gGlue.mac, gGlue.macLength);
}

/* [received, receiveDropped, sent, sendDropped, queued] */
void xs_netstack_link_counters(xsMachine *the)
{
	uint32_t values[5];
	int i;

	netstack_check(the);
	sys_mutex_lock(&gGlue.lock);
	memcpy(values, gGlue.counters, sizeof(gGlue.counters));
	values[4] = gGlue.count;
	sys_mutex_unlock(&gGlue.lock);
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 5);
	for (i = 0; i < 5; i++) {
		xsmcSetNumber(xsVar(0), values[i]);
		xsmcSetIndex(xsResult, i, xsVar(0));
	}
}

void xs_netstack_random32(xsMachine *the)
{
	xsmcSetNumber(xsResult, esp_random());
}

/* ---- the Internet checksum, answering exactly what modules/wire/checksum.ts answers ---- */

/* JavaScript's ToUint32: the low 32 bits of the integer part; 0 for NaN and infinities. */
static uint32_t js_uint32(double x)
{
	double m;

	if (!isfinite(x))
		return 0;
	m = fmod(trunc(x), 4294967296.0);
	return (uint32_t)(m < 0 ? m + 4294967296.0 : m);
}

static void set_result(xsMachine *the, double value)
{
	if ((value >= 0) && !signbit(value) && (value <= 0x7fffffff) && (value == (double)(int32_t)value))
		xsmcSetInteger(xsResult, (xsIntegerValue)value);
	else
		xsmcSetNumber(xsResult, value);
}

/* An optional numeric argument: absent and undefined give `otherwise`. */
static double arg_number(xsMachine *the, int i, double otherwise)
{
	if ((xsmcArgc <= i) || (xsUndefinedType == xsmcTypeOf(xsArg(i))))
		return otherwise;
	return xsmcToNumber(xsArg(i));
}

/*
 * The partial sum of bytes [start, end) of a byte buffer, added to `sum`: 16-bit big-endian
 * words, an odd last byte padded with zero, folded whenever it passes 0x7fff0000, exactly
 * as the TypeScript does. Usual sums (small non-negative integers) take the integer loop.
 */
static double sum16(xsMachine *the, double sum, int argStart, int argEnd)
{
	void *buffer;
	xsUnsignedValue size;
	const uint8_t *b;
	double start, end;
	xsUnsignedValue i, stop;

	xsmcGetBufferReadable(xsArg(0), &buffer, &size);
	start = arg_number(the, argStart, 0);
	end = arg_number(the, argEnd, size);
	if ((start < 0) || (end > size) || (start != trunc(start)) || (end != trunc(end)))
		xsRangeError("checksum: range outside the buffer");
	if (start >= end)
		return sum;
	b = buffer;
	i = (xsUnsignedValue)start;
	stop = (xsUnsignedValue)end;
	if ((sum >= 0) && (sum <= 0x7fff0000) && (sum == trunc(sum))) {
		uint32_t s = (uint32_t)sum;
		for (; i + 1 < stop; i += 2) {
			s += ((uint32_t)b[i] << 8) | b[i + 1];
			if (s > 0x7fff0000)
				s = (s & 0xffff) + (s >> 16);
		}
		if (i < stop)
			s += (uint32_t)b[i] << 8;
		return s;
	}
	for (; i + 1 < stop; i += 2) {
		sum += (b[i] << 8) | b[i + 1];
		if (sum > 0x7fff0000) {
			uint32_t u = js_uint32(sum);
			sum = (double)(u & 0xffff) + (double)(u >> 16);
		}
	}
	if (i < stop)
		sum += b[i] << 8;
	return sum;
}

/* Folds to 16 bits and complements. */
static double finish(double sum)
{
	while (sum > 0xffff) {
		uint32_t u = js_uint32(sum);
		sum = (double)(u & 0xffff) + (double)(u >> 16);
	}
	return ~js_uint32(sum) & 0xffff;
}

/* sum16(b, start, end, sum = 0) */
void xs_netstack_sum16(xsMachine *the)
{
	set_result(the, sum16(the, arg_number(the, 3, 0), 1, 2));
}

/* finish(sum) */
void xs_netstack_finish(xsMachine *the)
{
	set_result(the, finish(arg_number(the, 0, NAN)));
}

/* checksum(b, start = 0, end = b.length, initial = 0) */
void xs_netstack_checksum(xsMachine *the)
{
	set_result(the, finish(sum16(the, arg_number(the, 3, 0), 1, 2)));
}

/* pseudoHeaderSum(src, dst, protocol, length) */
void xs_netstack_pseudo_header_sum(xsMachine *the)
{
	uint32_t src = js_uint32(arg_number(the, 0, NAN));
	uint32_t dst = js_uint32(arg_number(the, 1, NAN));
	double sum = (double)((src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff));

	set_result(the, sum + arg_number(the, 2, NAN) + arg_number(the, 3, NAN));
}

/* updateChecksum(oldChecksum, oldWord, newWord): RFC 1624 eqn. 3 */
void xs_netstack_update_checksum(xsMachine *the)
{
	uint32_t sum = (~js_uint32(arg_number(the, 0, NAN)) & 0xffff) + (~js_uint32(arg_number(the, 1, NAN)) & 0xffff) + (js_uint32(arg_number(the, 2, NAN)) & 0xffff);

	set_result(the, finish(sum));
}
