/* ESP-IDF components/esp_eth/include/esp_eth_mac.h */
#ifndef NETSTACK_HOST_ESP_ETH_MAC_H
#define NETSTACK_HOST_ESP_ETH_MAC_H

#include <stdint.h>
#include "esp_eth_com.h"

typedef struct esp_eth_mac_s esp_eth_mac_t;
struct esp_eth_mac_s {
	esp_err_t (*del)(esp_eth_mac_t *mac);
};

typedef struct {
	uint32_t sw_reset_timeout_ms;
	uint32_t rx_task_stack_size;
	uint32_t rx_task_prio;
	uint32_t flags;
} eth_mac_config_t;

#define ETH_MAC_DEFAULT_CONFIG() { .sw_reset_timeout_ms = 100, .rx_task_stack_size = 4096, .rx_task_prio = 15, .flags = 0 }

#endif
