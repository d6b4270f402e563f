/* ESP-IDF components/esp_netif/include/esp_netif.h, with what it takes from esp_netif_types.h
   and esp_netif_defaults.h. */
#ifndef NETSTACK_HOST_ESP_NETIF_H
#define NETSTACK_HOST_ESP_NETIF_H

#include <stdint.h>
#include "esp_err.h"

typedef struct esp_netif_obj esp_netif_t;
typedef void *esp_netif_iodriver_handle;
typedef struct esp_netif_inherent_config esp_netif_inherent_config_t;
typedef struct {
	const esp_netif_inherent_config_t *base;
	const void *driver;
	const void *stack;
} esp_netif_config_t;

#define ESP_ERR_ESP_NETIF_BASE 0x5000
#define ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED (ESP_ERR_ESP_NETIF_BASE + 0x05)

extern const esp_netif_inherent_config_t _g_esp_netif_inherent_eth_config;
#define ESP_NETIF_DEFAULT_ETH() { .base = &_g_esp_netif_inherent_eth_config, .driver = NULL, .stack = NULL }

esp_err_t esp_netif_init(void);
esp_netif_t *esp_netif_new(const esp_netif_config_t *esp_netif_config);
esp_err_t esp_netif_attach(esp_netif_t *esp_netif, esp_netif_iodriver_handle driver_handle);
esp_err_t esp_netif_get_mac(esp_netif_t *esp_netif, uint8_t mac[]);
esp_err_t esp_netif_dhcpc_stop(esp_netif_t *esp_netif);
esp_netif_t *esp_netif_get_handle_from_ifkey(const char *if_key);

#endif
