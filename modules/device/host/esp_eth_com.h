/* ESP-IDF components/esp_eth/include/esp_eth_com.h, with what it takes from hal/eth_types.h. */
#ifndef NETSTACK_HOST_ESP_ETH_COM_H
#define NETSTACK_HOST_ESP_ETH_COM_H

#include "esp_err.h"
#include "esp_event_base.h"

typedef enum { EMAC_DATA_INTERFACE_RMII, EMAC_DATA_INTERFACE_MII } eth_data_interface_t;
typedef enum { ETHERNET_EVENT_START, ETHERNET_EVENT_STOP, ETHERNET_EVENT_CONNECTED, ETHERNET_EVENT_DISCONNECTED } eth_event_t;
ESP_EVENT_DECLARE_BASE(ETH_EVENT);

#endif
