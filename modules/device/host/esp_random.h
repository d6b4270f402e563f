/* ESP-IDF components/esp_hw_support/include/esp_random.h */
#ifndef NETSTACK_HOST_ESP_RANDOM_H
#define NETSTACK_HOST_ESP_RANDOM_H

#include <stdint.h>

uint32_t esp_random(void);

#endif
