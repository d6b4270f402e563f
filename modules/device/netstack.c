/*
 * The device port's C glue: the host functions behind modules/device/{link,checksum,random}.ts.
 *
 * The stack runs in JavaScript on the XS thread. Here it takes over one lwIP interface (the
 * Wi-Fi station or the Ethernet port) at lwIP's netif level: every frame the driver hands to
 * netif->input comes to us instead of lwIP, and what the stack sends leaves through the
 * interface's own linkoutput. lwIP itself can neither receive nor send there: its addresses
 * are cleared and netif->linkoutput drops (and counts) whatever lwIP would send, such as the
 * neighbour solicitations and MLD reports of an IPv6 link-local address. ESP-IDF's DHCP
 * client is stopped on the interface before it can send a DISCOVER.
 *
 * THREADS. Four threads touch this glue, and each piece of state below says which may.
 * - The driver's receive task (ESP-IDF's Wi-Fi or EMAC task; the host program's driver
 *   thread) calls netstack_input, our netif->input. It never waits: it puts the frame in a
 *   lock-free ring and, when no message is pending, posts one to the XS thread with
 *   modMessagePostToMachineFromISR, which fails rather than wait when Moddable's message
 *   queue is full (modMessagePostToMachine would wait 20 ms in debug builds, forever in
 *   release ones).
 * - lwIP's tcpip thread runs netstack_hook, netstack_unhook, netstack_lost and
 *   netstack_output: lwIP allows a netif's fields to change, and linkoutput to be called,
 *   only there or under its core lock. We reach it with tcpip_api_call (waits; under the
 *   core lock when lwIP has one) and tcpip_try_callback (does not wait), which esp-lwip
 *   2.1.3 (ESP-IDF 5.0 to 5.3) and 2.2 (5.4 on) both have. "tcpip thread" below means either.
 * - ESP-IDF's event task calls netstack_interface_started and _stopped (netstack.h).
 * - The XS thread runs every xs_* function and netstack_deliver. It alone touches JavaScript
 *   values.
 *
 * NO DANGLING POINTERS. Moddable's own lwIP glue has had use-after-free races of this shape
 * (issue #1655: a tcpip-thread callback reaching a socket the XS thread had freed; PR #1679:
 * a queued message carrying a pcb that lwIP freed before it ran). Here:
 * - The glue's state is one static record, never freed; messages carry no pointer at all.
 * - A pbuf has one owner at a time: the driver hands it to netstack_input, which puts it in
 *   the ring; whoever takes it out frees it. Frames going out are fresh pbufs owned by the
 *   pending tcpip callback, which frees them.
 * - ESP-IDF removes the lwIP netif when the interface stops (esp_netif_stop) and may free it
 *   (esp_netif_destroy). The netif pointer is only used on the tcpip thread, and only after
 *   checking that the netif is still in lwIP's list; when the interface stops we let go of
 *   it, and when it starts again we look it up afresh by its key and take it again.
 * - While the netif is ours, XS cannot collect the LwipLink: it is remembered (xsRemember)
 *   from construction to close(), so its destructor never meets a remembered receiver.
 */

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>		/* xs.h uses size_t */
#include <string.h>

#include "xsmc.h"
#include "xsHost.h"
#include "mc.defines.h"
#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "esp_random.h"
#include "netstack.h"

#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip/priv/tcpip_priv.h"

#if !SYS_LIGHTWEIGHT_PROT
	#error "netstack.c frees and allocates pbufs outside the tcpip thread: lwIP needs SYS_LIGHTWEIGHT_PROT"
#endif

/* Received frames waiting for the XS thread (the board's defines.netstack.queue). */
#ifndef MODDEF_NETSTACK_QUEUE
	#define MODDEF_NETSTACK_QUEUE (16)
#endif
/* One slot stays empty, so that head == tail means empty. */
#define RING_SLOTS (MODDEF_NETSTACK_QUEUE + 1)

/* The largest frame we send: Ethernet header and a 1500-byte payload (the FCS is the MAC's). */
#define NETSTACK_MAX_FRAME (1514)

/* The order of LwipLink.counters in link.ts. */
enum { RECEIVED, RING_FULL, POST_FAILED, SENT, SEND_DROPPED, LWIP_DROPPED, COUNTERS };

typedef struct {
	/* The ring: only the driver task writes head; tail is the XS thread's, and the driver's
	   while it holds `pending` after a failed post (netstack_abandon). */
	atomic_uint head;
	atomic_uint tail;
	struct pbuf *ring[RING_SLOTS];
	/* A message to the XS thread is posted, or the XS thread is draining the ring. */
	atomic_bool pending;
	/* Frames are ours: set on the tcpip thread, read by the driver task. */
	atomic_bool attached;
	/* Driver calls inside netstack_input: the XS thread waits them out before emptying the ring. */
	atomic_uint inInput;
	atomic_uint counters[COUNTERS];

	/* tcpip thread only, but lwipInput, which the driver task reads while not attached. */
	struct netif *netif;		/* NULL while the interface is stopped */
	netif_input_fn lwipInput;
	netif_linkoutput_fn linkoutput;
	/* Written by the hook, then macKnown is set; the XS thread reads them after. */
	uint8_t mac[NETIF_MAX_HWADDR_LEN];
	uint8_t macLength;
	atomic_bool macKnown;

	/* Written by the XS thread before `claimed` is set; the event task reads them. */
	char ifkey[32];
	xsMachine *the;
	atomic_bool claimed;

	/* XS thread only. */
	uint8_t hasReceiver;
	xsSlot receiver;		/* remembered while hasReceiver */
	xsSlot self;			/* the LwipLink, remembered while claimed */
} NetstackGlue;

typedef struct {
	struct tcpip_api_call_data base;
	struct netif *netif;
} NetstackCall;

static NetstackGlue gGlue;

static void netstack_deliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength);

static void count(int which)
{
	atomic_fetch_add_explicit(&gGlue.counters[which], 1, memory_order_relaxed);
}

/* ---- the ring: one producer (the driver task), one consumer ---- */

static int netstack_put(struct pbuf *p)
{
	unsigned head = atomic_load_explicit(&gGlue.head, memory_order_relaxed);
	unsigned next = (head + 1) % RING_SLOTS;

	if (next == atomic_load(&gGlue.tail))
		return 0;
	gGlue.ring[head] = p;
	atomic_store(&gGlue.head, next);
	return 1;
}

/* The oldest frame, or NULL. */
static struct pbuf *netstack_take(void)
{
	unsigned tail = atomic_load_explicit(&gGlue.tail, memory_order_relaxed);
	struct pbuf *p;

	if (tail == atomic_load(&gGlue.head))
		return NULL;
	p = gGlue.ring[tail];
	atomic_store(&gGlue.tail, (tail + 1) % RING_SLOTS);
	return p;
}

static int netstack_empty(void)
{
	return atomic_load(&gGlue.tail) == atomic_load(&gGlue.head);
}

/* ---- driver task ---- */

/* The post failed, so no one will drain the ring: we hold `pending`, and the XS thread takes
   from the ring only while it does, so the frames are ours to drop. */
static void netstack_abandon(void)
{
	struct pbuf *p;

	while ((p = netstack_take())) {
		pbuf_free(p);
		count(POST_FAILED);
	}
	atomic_store(&gGlue.pending, 0);
}

/* The interface's input: queue the frame for the XS thread, or drop and count it. Never waits. */
static err_t netstack_input(struct pbuf *p, struct netif *netif)
{
	atomic_fetch_add(&gGlue.inInput, 1);
	if (!atomic_load(&gGlue.attached)) {
		atomic_fetch_sub(&gGlue.inInput, 1);
		return gGlue.lwipInput(p, netif);
	}
	if (netstack_put(p))
		count(RECEIVED);
	else {
		count(RING_FULL);
		pbuf_free(p);
	}
	if (!atomic_exchange(&gGlue.pending, 1) && modMessagePostToMachineFromISR(gGlue.the, netstack_deliver, NULL))
		netstack_abandon();
	atomic_fetch_sub(&gGlue.inInput, 1);
	return ERR_OK;		/* taken: the driver must not free it again */
}

/* ---- tcpip thread ---- */

static int netstack_listed(struct netif *netif)
{
	struct netif *n;

	NETIF_FOREACH(n) {
		if (n == netif)
			return 1;
	}
	return 0;
}

/* netif->linkoutput while the netif is ours: what lwIP itself would send (ARP, IPv6 neighbour
   discovery and MLD, an ESP-IDF DHCP client) never leaves. */
static err_t netstack_refuse(struct netif *netif, struct pbuf *p)
{
	(void)netif, (void)p;
	count(LWIP_DROPPED);
	return ERR_OK;
}

static err_t netstack_hook(struct tcpip_api_call_data *call)
{
	struct netif *netif = ((NetstackCall *)call)->netif;

	if (!atomic_load(&gGlue.claimed) || !netstack_listed(netif))
		return ERR_IF;		/* closed meanwhile, or not added yet: the start event comes later */
	if (netif->input != netstack_input) {
		gGlue.lwipInput = netif->input;
		gGlue.linkoutput = netif->linkoutput;
		netif->linkoutput = netstack_refuse;
		netif->input = netstack_input;
	}
	netif_set_addr(netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
	gGlue.netif = netif;
	gGlue.macLength = netif->hwaddr_len;
	memcpy(gGlue.mac, netif->hwaddr, netif->hwaddr_len);
	atomic_store(&gGlue.macKnown, 1);
	atomic_store(&gGlue.attached, 1);
	return ERR_OK;
}

/* Gives the netif back to lwIP, if it is still the one we took. */
static err_t netstack_unhook(struct tcpip_api_call_data *call)
{
	struct netif *netif = gGlue.netif;

	(void)call;
	atomic_store(&gGlue.attached, 0);
	if (netif && netstack_listed(netif) && (netif->input == netstack_input)) {
		netif->input = gGlue.lwipInput;
		netif->linkoutput = gGlue.linkoutput;
	}
	gGlue.netif = NULL;
	return ERR_OK;
}

/* ESP-IDF removed the netif (it sets input and linkoutput afresh when it adds it again). */
static err_t netstack_lost(struct tcpip_api_call_data *call)
{
	(void)call;
	if (gGlue.netif && !netstack_listed(gGlue.netif)) {
		atomic_store(&gGlue.attached, 0);
		gGlue.netif = NULL;
	}
	return ERR_OK;
}

/* Sends one frame the XS thread queued, and frees it. */
static void netstack_output(void *ctx)
{
	struct pbuf *p = ctx;
	struct netif *netif = gGlue.netif;
	uint8_t sent = netif && netstack_listed(netif) && (ERR_OK == gGlue.linkoutput(netif, p));

	pbuf_free(p);
	count(sent ? SENT : SEND_DROPPED);
}

/* ---- the event task (and the XS thread, when it claims the interface) ---- */

/* Stops ESP-IDF's DHCP client and takes the netif, if the interface has one in lwIP's list now. */
static void netstack_take_interface(void)
{
	esp_netif_t *esp = esp_netif_get_handle_from_ifkey(gGlue.ifkey);
	NetstackCall call;

	if (!esp)
		return;
	esp_netif_dhcpc_stop(esp);		/* ESP_OK, or stopped already: either way it is off */
	call.netif = esp_netif_get_netif_impl(esp);
	if (call.netif)
		tcpip_api_call(netstack_hook, &call.base);
}

void netstack_interface_started(void)
{
	if (atomic_load(&gGlue.claimed))
		netstack_take_interface();
}

void netstack_interface_stopped(void)
{
	NetstackCall call;

	if (atomic_load(&gGlue.claimed))
		tcpip_api_call(netstack_lost, &call.base);
}

/* ---- XS thread ---- */

/* Hands one frame to the receiver in an ArrayBuffer of its own, and frees it. */
static void netstack_hand(xsMachine *the, struct pbuf *p)
{
	if (gGlue.hasReceiver) {
		xsmcSetArrayBuffer(xsVar(0), NULL, p->tot_len);
		pbuf_copy_partial(p, xsmcToArrayBuffer(xsVar(0)), p->tot_len, 0);
	}
	pbuf_free(p);
	if (!gGlue.hasReceiver)
		return;
	xsTry {
		xsCallFunction1(gGlue.receiver, xsUndefined, xsVar(0));
	}
	xsCatch {
		/* netif.input never throws; if a receiver does, the next frame still goes through */
	}
}

/* The message the driver task posts: drains the ring, then lets the next frame post again. */
static void netstack_deliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	struct pbuf *p;

	(void)refcon, (void)message, (void)messageLength;
	xsBeginHost(the);
	xsmcVars(1);
	for (;;) {
		while ((p = netstack_take()))
			netstack_hand(the, p);
		atomic_store(&gGlue.pending, 0);
		/* A frame that came after the last take but saw `pending` still set posted nothing. */
		if (netstack_empty() || atomic_exchange(&gGlue.pending, 1))
			break;
	}
	xsEndHost(the);
}

/* Gives the interface back to lwIP and frees what is queued. */
static void netstack_detach(void)
{
	NetstackCall call;
	struct pbuf *p;

	atomic_store(&gGlue.claimed, 0);		/* before the unhook: a late start event takes nothing */
	tcpip_api_call(netstack_unhook, &call.base);
	while (atomic_load(&gGlue.inInput))
		sys_msleep(1);
	while ((p = netstack_take()))
		pbuf_free(p);
}

static void netstack_forget_receiver(xsMachine *the)
{
	if (gGlue.hasReceiver)
		xsForget(gGlue.receiver);
	gGlue.hasReceiver = 0;
}

/* XS collects a LwipLink only after close() forgot it, and close() releases everything. */
void xs_netstack_link_destructor(void *data)
{
	(void)data;
}

/* new LwipLink(ifkey): claim the esp_netif with that key, and take its netif now or when it starts. */
void xs_netstack_link(xsMachine *the)
{
	int i;

	if (atomic_load(&gGlue.claimed))
		xsUnknownError("netstack: an interface is attached already");
	xsmcToStringBuffer(xsArg(0), gGlue.ifkey, sizeof(gGlue.ifkey));
	if (!esp_netif_get_handle_from_ifkey(gGlue.ifkey))
		xsUnknownError("netstack: no such interface");
	if (ESP_OK != netstack_watch_interface())
		xsUnknownError("netstack: cannot watch the interface's events");
	gGlue.the = the;
	for (i = 0; i < COUNTERS; i++)
		atomic_store(&gGlue.counters[i], 0);
	atomic_store(&gGlue.macKnown, 0);
	gGlue.self = xsThis;
	xsRemember(gGlue.self);
	atomic_store(&gGlue.claimed, 1);
	netstack_take_interface();
	xsmcSetHostData(xsThis, &gGlue);
}

void xs_netstack_link_close(xsMachine *the)
{
	if (!xsmcGetHostData(xsThis))
		return;
	xsmcSetHostData(xsThis, NULL);
	netstack_detach();
	netstack_forget_receiver(the);
	xsForget(gGlue.self);
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
	count(SEND_DROPPED);
}

void xs_netstack_link_mac(xsMachine *the)
{
	netstack_check(the);
	if (!atomic_load(&gGlue.macKnown))
		xsUnknownError("netstack: the interface has not started");
	xsmcSetArrayBuffer(xsResult, gGlue.mac, gGlue.macLength);
}

/* [received, receiveDropped, postFailed, sent, sendDropped, lwipDropped, queued, attached] */
void xs_netstack_link_counters(xsMachine *the)
{
	unsigned head, tail;
	int i;

	netstack_check(the);
	xsmcVars(1);
	xsmcSetNewArray(xsResult, COUNTERS + 2);
	for (i = 0; i < COUNTERS; i++) {
		xsmcSetNumber(xsVar(0), atomic_load_explicit(&gGlue.counters[i], memory_order_relaxed));
		xsmcSetIndex(xsResult, i, xsVar(0));
	}
	head = atomic_load(&gGlue.head);
	tail = atomic_load(&gGlue.tail);
	xsmcSetInteger(xsVar(0), (head + RING_SLOTS - tail) % RING_SLOTS);
	xsmcSetIndex(xsResult, COUNTERS, xsVar(0));
	xsmcSetInteger(xsVar(0), atomic_load(&gGlue.attached));
	xsmcSetIndex(xsResult, COUNTERS + 1, xsVar(0));
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
