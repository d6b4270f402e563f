/* ESP-IDF components/esp_eth/include/esp_eth_phy.h */
#ifndef NETSTACK_HOST_ESP_ETH_PHY_H
#define NETSTACK_HOST_ESP_ETH_PHY_H

#include <stdint.h>
#include "esp_eth_com.h"

#define ESP_ETH_PHY_ADDR_AUTO (-1)

typedef struct esp_eth_phy_s esp_eth_phy_t;
struct esp_eth_phy_s {
	esp_err_t (*del)(esp_eth_phy_t *phy);
};

typedef struct {
	int32_t phy_addr;
	uint32_t reset_timeout_ms;
	uint32_t autonego_timeout_ms;
	int reset_gpio_num;
	int32_t hw_reset_assert_time_us;
	int32_t post_hw_reset_delay_ms;
} eth_phy_config_t;

#define ETH_PHY_DEFAULT_CONFIG() { \
	.phy_addr = ESP_ETH_PHY_ADDR_AUTO, .reset_timeout_ms = 100, .autonego_timeout_ms = 4000, \
	.reset_gpio_num = 5, .hw_reset_assert_time_us = 0, .post_hw_reset_delay_ms = 0 \
}

esp_eth_phy_t *esp_eth_phy_new_generic(const eth_phy_config_t *config);

#endif
