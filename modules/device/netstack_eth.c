/*
 * The Ethernet boards' interface glue: the host function behind network-ethernet.ts.
 *
 * It brings up the ESP32's internal EMAC with ESP-IDF's generic IEEE 802.3 PHY driver as the
 * esp_netif "ETH_DEF". ESP-IDF 6.0 removed the chip drivers (esp_eth_phy_new_ip101,
 * esp_eth_phy_new_lan87xx) that Moddable's own ethernet module calls; the generic driver reads
 * only the standard registers, which the LAN8720 (WT32-ETH01) and the IP101 (ESP32-Ethernet-Kit)
 * both have. The pins come from the board's defines.netstack.eth (MODDEF_NETSTACK_ETH_*).
 *
 * Events come on ESP-IDF's event task: the link's (cable in, cable out) go to JavaScript in a
 * message; the driver's start and stop go to netstack.c, which takes the netif ESP-IDF has
 * just added, or lets go of the one it has just removed. ESP-IDF's own handlers, registered
 * by esp_eth_new_netif_glue before ours, run first.
 */

#include <stddef.h>		/* xs.h uses size_t */

#include "xsmc.h"
#include "xsHost.h"
#include "mc.defines.h"
#include "esp_err.h"
#include "esp_event.h"
#include "esp_eth.h"
#include "esp_netif.h"
#include "driver/gpio.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "netstack.h"

#ifndef MODDEF_NETSTACK_ETH_PHY_ADDRESS
	#error "netstack_eth.c: the board's manifest gives no defines.netstack.eth"
#endif

static xsMachine *gEthMachine;
static xsSlot gEthCallback;		/* remembered for good: the driver is never uninstalled */

/* XS thread: tells the callback whether the link is up. */
static void netstack_eth_notify(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	(void)refcon, (void)messageLength;
	xsBeginHost(the);
	xsTry {
		xsCallFunction1(gEthCallback, xsUndefined, xsBoolean(message[0]));
	}
	xsCatch {
	}
	xsEndHost(the);
}

/* Event task. A link event may wait for room in Moddable's queue: losing one would be worse. */
static void netstack_eth_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	uint8_t up = ETHERNET_EVENT_CONNECTED == id;

	(void)arg, (void)base, (void)data;
	if (ETHERNET_EVENT_START == id)
		netstack_interface_started();
	else if (ETHERNET_EVENT_STOP == id)
		netstack_interface_stopped();
	else
		modMessagePostToMachine(gEthMachine, &up, sizeof(up), netstack_eth_notify, NULL);
}

esp_err_t netstack_watch_interface(void)
{
	return gEthMachine ? ESP_OK : ESP_ERR_INVALID_STATE;		/* registered by xs_netstack_eth_start */
}

static esp_err_t netstack_eth_handlers(void)
{
	static const int32_t ids[] = { ETHERNET_EVENT_START, ETHERNET_EVENT_STOP, ETHERNET_EVENT_CONNECTED, ETHERNET_EVENT_DISCONNECTED };
	esp_event_handler_instance_t instance;
	esp_err_t err = ESP_OK;
	unsigned i;

	for (i = 0; (ESP_OK == err) && (i < sizeof(ids) / sizeof(ids[0])); i++)
		err = esp_event_handler_instance_register(ETH_EVENT, ids[i], netstack_eth_event, NULL, &instance);
	return err;
}

/* The EMAC, the PHY and the driver; NULL when one of them fails. */
static esp_eth_handle_t netstack_eth_driver(void)
{
	eth_mac_config_t macConfig = ETH_MAC_DEFAULT_CONFIG();
	eth_esp32_emac_config_t emacConfig = ETH_ESP32_EMAC_DEFAULT_CONFIG();
	eth_phy_config_t phyConfig = ETH_PHY_DEFAULT_CONFIG();
	esp_eth_mac_t *mac;
	esp_eth_phy_t *phy;
	esp_eth_handle_t handle = NULL;

#ifdef MODDEF_NETSTACK_ETH_POWER
	/* The WT32-ETH01's oscillator, the RMII clock on GPIO0, runs only while this pin is high. */
	gpio_reset_pin(MODDEF_NETSTACK_ETH_POWER);
	gpio_set_direction(MODDEF_NETSTACK_ETH_POWER, GPIO_MODE_OUTPUT);
	gpio_set_level(MODDEF_NETSTACK_ETH_POWER, 1);
	vTaskDelay(pdMS_TO_TICKS(100));
#endif
	emacConfig.smi_gpio.mdc_num = MODDEF_NETSTACK_ETH_MDC;
	emacConfig.smi_gpio.mdio_num = MODDEF_NETSTACK_ETH_MDIO;
	emacConfig.clock_config.rmii.clock_mode = MODDEF_NETSTACK_ETH_CLOCK_MODE;
	emacConfig.clock_config.rmii.clock_gpio = MODDEF_NETSTACK_ETH_CLOCK_GPIO;
	phyConfig.phy_addr = MODDEF_NETSTACK_ETH_PHY_ADDRESS;
	phyConfig.reset_gpio_num = MODDEF_NETSTACK_ETH_PHY_RESET;
	mac = esp_eth_mac_new_esp32(&emacConfig, &macConfig);
	phy = esp_eth_phy_new_generic(&phyConfig);
	if (mac && phy) {
		esp_eth_config_t config = ETH_DEFAULT_CONFIG(mac, phy);
		if (ESP_OK == esp_eth_driver_install(&config, &handle))
			return handle;
	}
	if (mac)
		mac->del(mac);
	if (phy)
		phy->del(phy);
	return NULL;
}

/* start(onLink): brings the interface up once; onLink(up) then follows the cable. */
void xs_netstack_eth_start(xsMachine *the)
{
	esp_netif_config_t netifConfig = ESP_NETIF_DEFAULT_ETH();
	esp_netif_t *netif;
	esp_eth_handle_t driver;
	esp_err_t err;

	if (gEthMachine)
		xsUnknownError("ethernet: started already");
	if (ESP_OK != esp_netif_init())
		xsUnknownError("ethernet: esp_netif_init failed");
	err = esp_event_loop_create_default();
	if ((ESP_OK != err) && (ESP_ERR_INVALID_STATE != err))		/* INVALID_STATE: it exists already */
		xsUnknownError("ethernet: no event loop");
	netif = esp_netif_new(&netifConfig);
	if (!netif)
		xsUnknownError("ethernet: esp_netif_new failed");
	driver = netstack_eth_driver();
	if (!driver)
		xsUnknownError("ethernet: no EMAC or PHY (check the board's defines.netstack.eth)");
	if (ESP_OK != esp_netif_attach(netif, esp_eth_new_netif_glue(driver)))
		xsUnknownError("ethernet: esp_netif_attach failed");
	gEthCallback = xsArg(0);
	xsRemember(gEthCallback);
	gEthMachine = the;
	if (ESP_OK != netstack_eth_handlers())
		xsUnknownError("ethernet: cannot register event handlers");
	if (ESP_OK != esp_eth_start(driver))
		xsUnknownError("ethernet: esp_eth_start failed");
}
