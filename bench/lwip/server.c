/*
 * lwip-server: the bench's lwIP reference. Debian's liblwip (2.1) runs its tcpip thread, serves
 * `GET /<bytes>` (that many zero bytes, from memory) over the raw TCP API on port 80, and answers
 * ping with its own ICMP, on a TAP device of its own.
 *
 * The TAP driver is this file's, not contrib's tapif: Debian's tapif writes any received frame
 * over 592 bytes past its PBUF_POOL buffer (see test/device/host-device.test.ts). Here each frame
 * goes into a PBUF_RAM pbuf of its own size, so frames up to the full 1500-byte MTU are safe and
 * the kernel side keeps the same MTU as the TAP of our stack and the veth of the kernel's.
 * A reader thread takes each frame into lwIP under the core lock (Debian builds with
 * LWIP_TCPIP_CORE_LOCKING), as LWIP_TCPIP_CORE_LOCKING_INPUT would: one thread wake-up per
 * frame instead of tapif's two, through tcpip_input's mailbox. The tcpip thread runs the
 * timers. Output writes each frame from whichever thread holds the core.
 *
 * Usage: lwip-server ADDRESS NETMASK GATEWAY, run in the network namespace that is to hold the
 * TAP. It prints "ready TAPNAME" once it listens, and exits when its stdin closes.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#define MAX_FRAME 1514			/* the MTU plus the Ethernet header */
#define MAX_REQUEST 1024		/* a request head longer than this gets 431 */

static int gTap = -1;
static struct netif gNetif;
static const u8_t gMac[6] = { 0x02, 0x00, 0x0a, 0x4d, 0xfc, 0x02 };
static const u8_t gZeros[16384];

/* ---- the TAP: one frame per read() and per write() ---- */

static err_t tapOutput(struct netif *netif, struct pbuf *p)
{
	struct iovec iov[16];
	int n = 0;

	(void)netif;
	for (struct pbuf *q = p; q; q = q->next) {
		if (n == 16)
			return ERR_IF;
		iov[n].iov_base = q->payload;
		iov[n++].iov_len = q->len;
	}
	return (writev(gTap, iov, n) == p->tot_len) ? ERR_OK : ERR_IF;
}

static err_t tapInit(struct netif *netif)
{
	netif->name[0] = 't';
	netif->name[1] = 'p';
	netif->output = etharp_output;
	netif->linkoutput = tapOutput;
	netif->mtu = MAX_FRAME - 14;
	netif->hwaddr_len = 6;
	memcpy(netif->hwaddr, gMac, 6);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	return ERR_OK;
}

static void *tapReader(void *unused)
{
	static u8_t frame[MAX_FRAME];

	(void)unused;
	for (;;) {
		ssize_t n = read(gTap, frame, sizeof(frame));
		struct pbuf *p;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("lwip-server: read from the TAP");
			exit(1);
		}
		p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
		if (!p)
			continue;		/* no memory: the frame is dropped, as a NIC would */
		pbuf_take(p, frame, (u16_t)n);
		LOCK_TCPIP_CORE();
		if (ethernet_input(p, &gNetif) != ERR_OK)
			pbuf_free(p);
		UNLOCK_TCPIP_CORE();
	}
	return NULL;
}

static int tapOpen(char name[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, "lwip%d");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

/* ---- HTTP: GET /<bytes>, then close ---- */

typedef struct {
	char head[MAX_REQUEST];
	size_t length;
	int replied;
	unsigned long long left;	/* body bytes not yet queued */
} Connection;

/* Stops the callbacks and closes; ERR_ABRT (for lwIP) when it had to abort instead. */
static err_t finish(struct tcp_pcb *pcb, Connection *c)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);		/* lwIP's tcp_recv_null then takes whatever still comes */
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	free(c);
	if (tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	tcp_abort(pcb);
	return ERR_ABRT;
}

/* Queues as much of the body as the send buffer takes; closes once all of it is queued. */
static err_t sendMore(struct tcp_pcb *pcb, Connection *c)
{
	while (c->left) {
		u16_t room = tcp_sndbuf(pcb);
		u16_t n = (c->left < sizeof(gZeros)) ? (u16_t)c->left : (u16_t)sizeof(gZeros);

		if (n > room)
			n = room;
		if (!n || tcp_write(pcb, gZeros, n, TCP_WRITE_FLAG_COPY | (c->left > n ? TCP_WRITE_FLAG_MORE : 0)) != ERR_OK)
			break;
		c->left -= n;
	}
	tcp_output(pcb);
	return c->left ? ERR_OK : finish(pcb, c);		/* the FIN follows the queued data */
}

static err_t reply(struct tcp_pcb *pcb, Connection *c, const char *status, unsigned long long length)
{
	char head[160];
	int n = snprintf(head, sizeof(head),
		"HTTP/1.1 %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n",
		status, length);

	c->replied = 1;
	c->left = length;
	if (tcp_write(pcb, head, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
		return finish(pcb, c);
	return sendMore(pcb, c);
}

/* The head is complete: "GET /<digits> ..." gets 200 and that many bytes, anything else 400. */
static err_t answer(struct tcp_pcb *pcb, Connection *c)
{
	char *end;
	unsigned long long length;

	if (strncmp(c->head, "GET /", 5) || c->head[5] < '0' || c->head[5] > '9')
		return reply(pcb, c, "400 Bad Request", 0);
	errno = 0;
	length = strtoull(c->head + 5, &end, 10);
	if (errno || (*end != ' ' && *end != '?'))
		return reply(pcb, c, "400 Bad Request", 0);
	return reply(pcb, c, "200 OK", length);
}

static err_t onRecv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	Connection *c = arg;

	if (!p || err != ERR_OK) {		/* the client closed (or lwIP gave up on the data) */
		if (p)
			pbuf_free(p);
		return finish(pcb, c);
	}
	tcp_recved(pcb, p->tot_len);
	if (!c->replied) {
		size_t room = sizeof(c->head) - 1 - c->length;
		u16_t n = (p->tot_len < room) ? p->tot_len : (u16_t)room;

		c->length += pbuf_copy_partial(p, c->head + c->length, n, 0);
		c->head[c->length] = 0;
		pbuf_free(p);
		if (strstr(c->head, "\r\n\r\n"))
			return answer(pcb, c);
		if (c->length == sizeof(c->head) - 1)
			return reply(pcb, c, "431 Request Header Fields Too Large", 0);
		return ERR_OK;
	}
	pbuf_free(p);		/* bytes after the request: ignored */
	return ERR_OK;
}

static err_t onSent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)len;
	return sendMore(pcb, arg);
}

static void onError(void *arg, err_t err)
{
	(void)err;
	free(arg);		/* lwIP has freed the pcb already */
}

static err_t onAccept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	Connection *c;

	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	c = calloc(1, sizeof(Connection));
	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	tcp_arg(pcb, c);
	tcp_recv(pcb, onRecv);
	tcp_sent(pcb, onSent);
	tcp_err(pcb, onError);
	return ERR_OK;
}

/* ---- start-up, on the tcpip thread ---- */

typedef struct {
	ip4_addr_t address, netmask, gateway;
	sys_sem_t done;
	int failed;
} Setup;

static void start(void *arg)
{
	Setup *s = arg;
	struct tcp_pcb *pcb = NULL, *listener = NULL;

	if (netif_add(&gNetif, &s->address, &s->netmask, &s->gateway, NULL, tapInit, ethernet_input)) {
		netif_set_default(&gNetif);
		netif_set_up(&gNetif);
		netif_set_link_up(&gNetif);
		pcb = tcp_new();
	}
	if (pcb && tcp_bind(pcb, IP4_ADDR_ANY, 80) == ERR_OK)
		listener = tcp_listen(pcb);
	if (listener)
		tcp_accept(listener, onAccept);
	else if (pcb)
		tcp_close(pcb);
	s->failed = !listener;
	sys_sem_signal(&s->done);
}

static void ready(void *arg)
{
	sys_sem_signal(arg);
}

int main(int argc, char *argv[])
{
	Setup s;
	char name[IFNAMSIZ];
	pthread_t reader;
	char drain[64];

	if (argc != 4 || !ip4addr_aton(argv[1], &s.address) || !ip4addr_aton(argv[2], &s.netmask) || !ip4addr_aton(argv[3], &s.gateway)) {
		fprintf(stderr, "usage: lwip-server ADDRESS NETMASK GATEWAY\n");
		return 2;
	}
	gTap = tapOpen(name);
	if (gTap < 0) {
		perror("lwip-server: open a TAP");
		return 1;
	}
	if (sys_sem_new(&s.done, 0) != ERR_OK)
		return 1;
	tcpip_init(ready, &s.done);
	sys_sem_wait(&s.done);
	tcpip_callback(start, &s);
	sys_sem_wait(&s.done);
	sys_sem_free(&s.done);
	if (s.failed) {
		fprintf(stderr, "lwip-server: cannot listen on port 80\n");
		return 1;
	}
	if (pthread_create(&reader, NULL, tapReader, NULL)) {
		fprintf(stderr, "lwip-server: cannot start the TAP reader\n");
		return 1;
	}
	printf("ready %s\n", name);
	fflush(stdout);
	for (;;) {
		ssize_t n = read(0, drain, sizeof(drain));
		if (n == 0 || (n < 0 && errno != EINTR))
			return 0;
	}
}
