/*
 * The Wi-Fi board's interface glue: the station's start and stop events for netstack.c.
 * Moddable's Wi-Fi module brings the station up and registers ESP-IDF's default handlers
 * (which add and remove the station's lwIP netif) when the app creates its WiFi object,
 * before the app creates its LwipLink; handlers run in the order they were registered.
 */

#include "esp_event.h"
#include "esp_wifi_types.h"
#include "netstack.h"

static void netstack_wifi_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	(void)arg, (void)base, (void)data;
	if (WIFI_EVENT_STA_START == id)
		netstack_interface_started();
	else if (WIFI_EVENT_STA_STOP == id)
		netstack_interface_stopped();
}

esp_err_t netstack_watch_interface(void)
{
	static esp_event_handler_instance_t start, stop;
	esp_err_t err;

	if (stop)
		return ESP_OK;
	err = esp_event_handler_instance_register(WIFI_EVENT, WIFI_EVENT_STA_START, netstack_wifi_event, NULL, &start);
	if (ESP_OK == err)
		err = esp_event_handler_instance_register(WIFI_EVENT, WIFI_EVENT_STA_STOP, netstack_wifi_event, NULL, &stop);
	return err;
}
