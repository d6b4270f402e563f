/*
 * ESP-IDF's part, played by the host program for the device glue (modules/device/netstack*.c),
 * which compiles against the stand-in headers in modules/device/host. Only what the glue
 * calls, behaving as ESP-IDF v6.0 does where the glue depends on it:
 * - esp_event: one default loop, run on a thread of its own ("the event task"); handlers run
 *   in the order they were registered.
 * - esp_netif: one interface, "ETH_DEF". Its lwIP netif is added when the driver starts and
 *   removed when it stops, as esp_netif_start and esp_netif_stop do; stopping sets the DHCP
 *   client back to INIT, so that it would start again on the next link-up unless stopped.
 * - esp_eth: esp_eth_new_netif_glue registers the netif's default actions (start, stop,
 *   connected, disconnected) before the glue's own handlers. On every link-up an IPv6
 *   link-local address is made, as Moddable's Wi-Fi and Ethernet modules do: lwIP then tries
 *   to send neighbour solicitations and MLD reports on the interface.
 * - The driver: a Linux TAP (PRECONFIGURED_TAPIF), read on a thread of its own that hands
 *   each frame to netif->input, as the EMAC's receive task does; it also floods synthetic
 *   frames on demand. Without a TAP, only floods come in.
 * Commands on stdin drive the life cycle: unplug, plug (the cable), stop, start (the driver),
 * stats (prints what went out on the TAP and what ESP-IDF's DHCP client would have done).
 */

#define _GNU_SOURCE
#include "host.h"
#include "xsHost.h"
#include "esp_err.h"
#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "esp_event.h"
#include "esp_eth.h"
#include "esp_random.h"
#include "driver/gpio.h"
#include "freertos/task.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"

#define LOG(...) (fprintf(stderr, "host-device: " __VA_ARGS__), fputc('\n', stderr))

const char *esp_err_to_name(esp_err_t code)
{
	return (ESP_OK == code) ? "ESP_OK" : "ESP_FAIL";
}

uint32_t esp_random(void)
{
	uint32_t value;
	while (getrandom(&value, sizeof(value), 0) != sizeof(value))
		;
	return value;
}

void vTaskDelay(const TickType_t xTicksToDelay)
{
	usleep(xTicksToDelay * 1000);		/* 1 ms ticks */
}

esp_err_t gpio_reset_pin(gpio_num_t gpio_num)
{
	LOG("gpio %d reset", gpio_num);
	return ESP_OK;
}

esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode)
{
	LOG("gpio %d %s", gpio_num, (GPIO_MODE_OUTPUT == mode) ? "output" : "input");
	return ESP_OK;
}

esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level)
{
	LOG("gpio %d = %u", gpio_num, level);
	return ESP_OK;
}

/* ---- esp_event: the default loop ---- */

esp_event_base_t const ETH_EVENT = "ETH_EVENT";

typedef struct {
	esp_event_base_t base;
	int32_t id;
	esp_event_handler_t handler;
	void *arg;
} Handler;

#define MAX_HANDLERS 16
#define MAX_EVENTS 16

static pthread_mutex_t gEventLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gEventPosted = PTHREAD_COND_INITIALIZER;
static Handler gHandlers[MAX_HANDLERS];
static int gHandlerCount;
static int32_t gEvents[MAX_EVENTS];		/* all of ETH_EVENT: the only base posted here */
static unsigned gEventFirst, gEventCount;
static int gLoopMade;
static esp_eth_handle_t gEventData;		/* ETH events carry a pointer to the driver's handle */

static void postEvent(int32_t id)
{
	pthread_mutex_lock(&gEventLock);
	if (gEventCount < MAX_EVENTS) {
		gEvents[(gEventFirst + gEventCount++) % MAX_EVENTS] = id;
		pthread_cond_signal(&gEventPosted);
	}
	else
		LOG("event queue full: event %d lost", id);
	pthread_mutex_unlock(&gEventLock);
}

static void *eventMain(void *arg)
{
	(void)arg;
	for (;;) {
		int32_t id;
		int i, count;
		Handler handlers[MAX_HANDLERS];
		pthread_mutex_lock(&gEventLock);
		while (!gEventCount)
			pthread_cond_wait(&gEventPosted, &gEventLock);
		id = gEvents[gEventFirst];
		gEventFirst = (gEventFirst + 1) % MAX_EVENTS;
		gEventCount--;
		count = gHandlerCount;
		memcpy(handlers, gHandlers, sizeof(handlers));
		pthread_mutex_unlock(&gEventLock);
		for (i = 0; i < count; i++) {
			if ((handlers[i].base == ETH_EVENT) && ((ESP_EVENT_ANY_ID == handlers[i].id) || (id == handlers[i].id)))
				handlers[i].handler(handlers[i].arg, ETH_EVENT, id, &gEventData);
		}
	}
	return NULL;
}

esp_err_t esp_event_loop_create_default(void)
{
	pthread_t thread;

	if (gLoopMade)
		return ESP_ERR_INVALID_STATE;
	if (pthread_create(&thread, NULL, eventMain, NULL))
		return ESP_FAIL;
	pthread_detach(thread);
	gLoopMade = 1;
	return ESP_OK;
}

esp_err_t esp_event_handler_instance_register(esp_event_base_t event_base, int32_t event_id, esp_event_handler_t event_handler, void *event_handler_arg, esp_event_handler_instance_t *instance)
{
	esp_err_t err = ESP_FAIL;

	pthread_mutex_lock(&gEventLock);
	if (gHandlerCount < MAX_HANDLERS) {
		Handler *h = &gHandlers[gHandlerCount++];
		h->base = event_base;
		h->id = event_id;
		h->handler = event_handler;
		h->arg = event_handler_arg;
		if (instance)
			*instance = h;
		err = ESP_OK;
	}
	pthread_mutex_unlock(&gEventLock);
	return err;
}

/* ---- the driver: the TAP and its receive thread ---- */

static struct netif gNetif;
static uint8_t gMac[6];
static int gTap = -1;
static int gDriverPipe[2];
static atomic_int gStarted;		/* esp_eth_start .. esp_eth_stop */
static atomic_int gCarrier = 1;	/* the cable is in */
static atomic_uint gFloodsDone;
static atomic_uint gWireFrames, gWireIpv6, gWireRefused, gIdfDhcpStarts;

typedef struct {
	uint32_t frames;
	uint32_t onFullQueue;
} Flood;

static err_t tapLinkoutput(struct netif *netif, struct pbuf *p)
{
	uint8_t frame[1600];
	u16_t length = pbuf_copy_partial(p, frame, sizeof(frame), 0);

	(void)netif;
	if (!atomic_load(&gStarted) || !atomic_load(&gCarrier) || (gTap < 0) || (length < 14)) {
		atomic_fetch_add(&gWireRefused, 1);
		return ERR_IF;
	}
	if (write(gTap, frame, length) != length)
		return ERR_IF;
	atomic_fetch_add(&gWireFrames, 1);
	if ((frame[12] == 0x86) && (frame[13] == 0xdd))
		atomic_fetch_add(&gWireIpv6, 1);
	return ERR_OK;
}

/* The netif's init (ESP-IDF's ethernetif_init): run by every netif_add. */
static err_t tapNetifInit(struct netif *netif)
{
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->mtu = 1500;
	netif->hwaddr_len = 6;
	memcpy(netif->hwaddr, gMac, 6);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = tapLinkoutput;
	return ERR_OK;
}

/* Hands one frame to the netif's input, as the EMAC's receive task does. */
static void receive(const uint8_t *frame, u16_t length)
{
	struct pbuf *p;
	netif_input_fn input = gNetif.input;

	if (!atomic_load(&gStarted) || !input)
		return;
	p = pbuf_alloc(PBUF_RAW, length, PBUF_RAM);
	if (!p)
		return;
	pbuf_take(p, frame, length);
	if (ERR_OK != input(p, &gNetif))
		pbuf_free(p);
}

/* Synthetic frames as fast as the input takes them: broadcasts of the local experimental EtherType. */
static void flood(const Flood *f)
{
	uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	uint32_t i;

	if (f->onFullQueue)
		hostQueueWaitFull();
	for (i = 0; i < f->frames; i++) {
		memcpy(frame + 14, &i, sizeof(i));
		receive(frame, sizeof(frame));
	}
	atomic_fetch_add(&gFloodsDone, 1);
}

static void *driverMain(void *arg)
{
	struct pollfd fds[2] = { { gDriverPipe[0], POLLIN, 0 }, { gTap, POLLIN, 0 } };
	uint8_t frame[1600];

	(void)arg;
	hostQueueMarkDriverThread();
	for (;;) {
		if ((poll(fds, (gTap < 0) ? 1 : 2, -1) < 0) && (EINTR != errno))
			break;
		if (fds[0].revents & POLLIN) {
			Flood f;
			if (read(gDriverPipe[0], &f, sizeof(f)) == sizeof(f))
				flood(&f);
		}
		if ((gTap >= 0) && (fds[1].revents & POLLIN)) {
			ssize_t n = read(gTap, frame, sizeof(frame));
			if ((n >= 14) && atomic_load(&gCarrier))
				receive(frame, (u16_t)n);
		}
	}
	return NULL;
}

static int openTap(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* host_flood(frames, onFullQueue): the driver thread floods; host_flood_done() counts the floods that ended. */
void host_flood(xsMachine *the)
{
	Flood f = { (uint32_t)xsmcToInteger(xsArg(0)), (uint32_t)xsmcTest(xsArg(1)) };

	if (write(gDriverPipe[1], &f, sizeof(f)) != sizeof(f))
		xsUnknownError("cannot reach the driver thread");
}

void host_flood_done(xsMachine *the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)atomic_load(&gFloodsDone));
}

/* ---- esp_netif: ETH_DEF ---- */

enum { DHCP_INIT, DHCP_STARTED, DHCP_STOPPED };

struct esp_netif_inherent_config {
	const char *if_key;
};
const esp_netif_inherent_config_t _g_esp_netif_inherent_eth_config = { "ETH_DEF" };

struct esp_netif_obj {
	const char *key;
	struct netif *netif;		/* NULL until the interface first starts, as in ESP-IDF */
	atomic_int dhcpc;
	uint8_t mac[6];
};

static esp_netif_t gEspNetif;
static int gEspNetifMade;

esp_err_t esp_netif_init(void)
{
	return ESP_OK;
}

esp_netif_t *esp_netif_new(const esp_netif_config_t *esp_netif_config)
{
	if (gEspNetifMade)
		return NULL;
	gEspNetif.key = esp_netif_config->base->if_key;
	gEspNetifMade = 1;
	return &gEspNetif;
}

esp_netif_t *esp_netif_get_handle_from_ifkey(const char *if_key)
{
	return (gEspNetifMade && !strcmp(if_key, gEspNetif.key)) ? &gEspNetif : NULL;
}

void *esp_netif_get_netif_impl(esp_netif_t *esp_netif)
{
	return esp_netif->netif;
}

esp_err_t esp_netif_get_mac(esp_netif_t *esp_netif, uint8_t mac[])
{
	memcpy(mac, esp_netif->mac, 6);
	return ESP_OK;
}

esp_err_t esp_netif_dhcpc_stop(esp_netif_t *esp_netif)
{
	if (DHCP_STOPPED == atomic_exchange(&esp_netif->dhcpc, DHCP_STOPPED))
		return ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED;
	LOG("esp_netif_dhcpc_stop(%s)", esp_netif->key);
	return ESP_OK;
}

esp_err_t esp_netif_attach(esp_netif_t *esp_netif, esp_netif_iodriver_handle driver_handle)
{
	if (!driver_handle)
		return ESP_FAIL;
	memcpy(esp_netif->mac, gMac, 6);		/* the glue's post_attach: the driver's MAC */
	return ESP_OK;
}

/* The default actions esp_eth_new_netif_glue registers, on the event task. */
static void netifAction(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	(void)arg, (void)base, (void)data;
	LOCK_TCPIP_CORE();
	switch (id) {
	case ETHERNET_EVENT_START:
		netif_add(&gNetif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &gEspNetif, tapNetifInit, tcpip_input);
		gEspNetif.netif = &gNetif;
		break;
	case ETHERNET_EVENT_STOP:
		netif_set_down(&gNetif);
		netif_remove(&gNetif);
		atomic_store(&gEspNetif.dhcpc, DHCP_INIT);
		break;
	case ETHERNET_EVENT_CONNECTED:
		if (DHCP_STOPPED != atomic_load(&gEspNetif.dhcpc)) {
			atomic_store(&gEspNetif.dhcpc, DHCP_STARTED);
			atomic_fetch_add(&gIdfDhcpStarts, 1);
			LOG("ESP-IDF's DHCP client started on %s: it would send a DISCOVER", gEspNetif.key);
		}
		netif_set_up(&gNetif);
		netif_set_link_up(&gNetif);
		netif_create_ip6_linklocal_address(&gNetif, 1);
		break;
	case ETHERNET_EVENT_DISCONNECTED:
		netif_set_link_down(&gNetif);
		netif_set_down(&gNetif);
		break;
	}
	UNLOCK_TCPIP_CORE();
}

/* ---- esp_eth ---- */

static esp_err_t deleted(void *object)
{
	(void)object;
	return ESP_OK;
}

static esp_err_t macDel(esp_eth_mac_t *mac)
{
	return deleted(mac);
}

static esp_err_t phyDel(esp_eth_phy_t *phy)
{
	return deleted(phy);
}

static esp_eth_mac_t gMacObject = { macDel };
static esp_eth_phy_t gPhyObject = { phyDel };
static int gDriverMade;

esp_eth_mac_t *esp_eth_mac_new_esp32(const eth_esp32_emac_config_t *esp32_config, const eth_mac_config_t *config)
{
	(void)config;
	LOG("EMAC: MDC GPIO%d, MDIO GPIO%d, RMII clock %s GPIO%d", esp32_config->smi_gpio.mdc_num, esp32_config->smi_gpio.mdio_num,
		(EMAC_CLK_EXT_IN == esp32_config->clock_config.rmii.clock_mode) ? "in on" : "out on", esp32_config->clock_config.rmii.clock_gpio);
	return &gMacObject;
}

esp_eth_phy_t *esp_eth_phy_new_generic(const eth_phy_config_t *config)
{
	LOG("PHY: generic IEEE 802.3 at address %d, reset GPIO%d", (int)config->phy_addr, config->reset_gpio_num);
	return &gPhyObject;
}

esp_err_t esp_eth_driver_install(const esp_eth_config_t *config, esp_eth_handle_t *out_hdl)
{
	if (!config->mac || !config->phy || gDriverMade)
		return ESP_FAIL;
	gDriverMade = 1;
	gEventData = *out_hdl = &gDriverMade;
	return ESP_OK;
}

esp_eth_netif_glue_handle_t esp_eth_new_netif_glue(esp_eth_handle_t eth_hdl)
{
	static const int32_t ids[] = { ETHERNET_EVENT_START, ETHERNET_EVENT_STOP, ETHERNET_EVENT_CONNECTED, ETHERNET_EVENT_DISCONNECTED };
	unsigned i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (ESP_OK != esp_event_handler_instance_register(ETH_EVENT, ids[i], netifAction, NULL, NULL))
			return NULL;
	}
	return (esp_eth_netif_glue_handle_t)eth_hdl;
}

esp_err_t esp_eth_start(esp_eth_handle_t hdl)
{
	if ((hdl != &gDriverMade) || atomic_exchange(&gStarted, 1))
		return ESP_ERR_INVALID_STATE;
	postEvent(ETHERNET_EVENT_START);
	if (atomic_load(&gCarrier))
		postEvent(ETHERNET_EVENT_CONNECTED);
	return ESP_OK;
}

esp_err_t esp_eth_stop(esp_eth_handle_t hdl)
{
	if ((hdl != &gDriverMade) || !atomic_exchange(&gStarted, 0))
		return ESP_ERR_INVALID_STATE;
	if (atomic_load(&gCarrier))
		postEvent(ETHERNET_EVENT_DISCONNECTED);		/* the PHY's link goes down first */
	postEvent(ETHERNET_EVENT_STOP);
	return ESP_OK;
}

/* ---- control: the life cycle, from stdin ---- */

static void command(const char *line)
{
	if (!strcmp(line, "unplug") || !strcmp(line, "plug")) {
		int in = !strcmp(line, "plug");
		if ((atomic_exchange(&gCarrier, in) != in) && atomic_load(&gStarted))
			postEvent(in ? ETHERNET_EVENT_CONNECTED : ETHERNET_EVENT_DISCONNECTED);
	}
	else if (!strcmp(line, "stop"))
		esp_eth_stop(&gDriverMade);
	else if (!strcmp(line, "start"))
		esp_eth_start(&gDriverMade);
	else if (!strcmp(line, "stats"))
		LOG("stats {\"wireFrames\":%u,\"wireIpv6\":%u,\"wireRefused\":%u,\"idfDhcpStarts\":%u}", atomic_load(&gWireFrames), atomic_load(&gWireIpv6),
			atomic_load(&gWireRefused), atomic_load(&gIdfDhcpStarts));
	else {
		LOG("unknown command %s", line);
		return;
	}
	LOG("did %s", line);
}

static void *controlMain(void *arg)
{
	char line[64];

	(void)arg;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		if (line[0])
			command(line);
	}
	return NULL;
}

int hostIdfStart(void)
{
	const char *tap = getenv("PRECONFIGURED_TAPIF");
	pthread_t thread;

	if (getrandom(gMac, sizeof(gMac), 0) != sizeof(gMac))
		return -1;
	gMac[0] = (gMac[0] & 0xfe) | 0x02;		/* unicast, locally administered */
	if (tap && (gTap = openTap(tap)) < 0) {
		perror("host-device: TAP");
		return -1;
	}
	if (pipe2(gDriverPipe, O_CLOEXEC))
		return -1;
	if (pthread_create(&thread, NULL, driverMain, NULL))
		return -1;
	pthread_detach(thread);
	if (pthread_create(&thread, NULL, controlMain, NULL))
		return -1;
	pthread_detach(thread);
	return 0;
}
