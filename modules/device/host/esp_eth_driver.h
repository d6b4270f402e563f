/* ESP-IDF components/esp_eth/include/esp_eth_driver.h */
#ifndef NETSTACK_HOST_ESP_ETH_DRIVER_H
#define NETSTACK_HOST_ESP_ETH_DRIVER_H

#include <stdint.h>
#include "esp_eth_com.h"
#include "esp_eth_mac_esp.h"
#include "esp_eth_phy.h"

typedef void *esp_eth_handle_t;
typedef struct {
	esp_eth_mac_t *mac;
	esp_eth_phy_t *phy;
	uint32_t check_link_period_ms;
} esp_eth_config_t;

#define ETH_DEFAULT_CONFIG(emac, ephy) { .mac = emac, .phy = ephy, .check_link_period_ms = 2000 }

esp_err_t esp_eth_driver_install(const esp_eth_config_t *config, esp_eth_handle_t *out_hdl);
esp_err_t esp_eth_start(esp_eth_handle_t hdl);
esp_err_t esp_eth_stop(esp_eth_handle_t hdl);

#endif
