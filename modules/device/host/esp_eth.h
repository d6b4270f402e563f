/* ESP-IDF components/esp_eth/include/esp_eth.h */
#ifndef NETSTACK_HOST_ESP_ETH_H
#define NETSTACK_HOST_ESP_ETH_H

#include "esp_eth_driver.h"
#include "esp_eth_netif_glue.h"

#endif
