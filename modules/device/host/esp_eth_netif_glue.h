/* ESP-IDF components/esp_eth/include/esp_eth_netif_glue.h */
#ifndef NETSTACK_HOST_ESP_ETH_NETIF_GLUE_H
#define NETSTACK_HOST_ESP_ETH_NETIF_GLUE_H

#include "esp_eth_driver.h"

typedef struct esp_eth_netif_glue_t *esp_eth_netif_glue_handle_t;

esp_eth_netif_glue_handle_t esp_eth_new_netif_glue(esp_eth_handle_t eth_hdl);

#endif
