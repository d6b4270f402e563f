/* ESP-IDF components/esp_eth/include/esp_eth_mac_esp.h: the ESP32's internal EMAC. */
#ifndef NETSTACK_HOST_ESP_ETH_MAC_ESP_H
#define NETSTACK_HOST_ESP_ETH_MAC_ESP_H

#include "esp_eth_com.h"
#include "esp_eth_mac.h"

typedef enum { EMAC_CLK_EXT_IN, EMAC_CLK_OUT } emac_rmii_clock_mode_t;
typedef union {
	struct {
		emac_rmii_clock_mode_t clock_mode;
		int clock_gpio;
	} rmii;
} eth_mac_clock_config_t;
typedef struct {
	int mdc_num;
	int mdio_num;
} emac_esp_smi_gpio_config_t;
typedef struct {
	emac_esp_smi_gpio_config_t smi_gpio;
	eth_data_interface_t interface;
	eth_mac_clock_config_t clock_config;
} eth_esp32_emac_config_t;

#define ETH_ESP32_EMAC_DEFAULT_CONFIG() { \
	.smi_gpio = { .mdc_num = 23, .mdio_num = 18 }, \
	.interface = EMAC_DATA_INTERFACE_RMII, \
	.clock_config = { .rmii = { .clock_mode = EMAC_CLK_EXT_IN, .clock_gpio = 0 } }, \
}

esp_eth_mac_t *esp_eth_mac_new_esp32(const eth_esp32_emac_config_t *esp32_config, const eth_mac_config_t *config);

#endif
