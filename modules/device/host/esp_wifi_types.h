/* ESP-IDF components/esp_wifi/include/esp_wifi_types.h, with what it takes from esp_wifi_types_generic.h. */
#ifndef NETSTACK_HOST_ESP_WIFI_TYPES_H
#define NETSTACK_HOST_ESP_WIFI_TYPES_H

#include "esp_event_base.h"

typedef enum {
	WIFI_EVENT_WIFI_READY = 0,
	WIFI_EVENT_SCAN_DONE,
	WIFI_EVENT_STA_START,
	WIFI_EVENT_STA_STOP,
	WIFI_EVENT_STA_CONNECTED,
	WIFI_EVENT_STA_DISCONNECTED,
} wifi_event_t;
ESP_EVENT_DECLARE_BASE(WIFI_EVENT);

#endif
