/* ESP-IDF components/esp_event/include/esp_event_base.h */
#ifndef NETSTACK_HOST_ESP_EVENT_BASE_H
#define NETSTACK_HOST_ESP_EVENT_BASE_H

#include <stdint.h>

#define ESP_EVENT_DECLARE_BASE(id) extern esp_event_base_t const id
typedef const char *esp_event_base_t;
typedef void (*esp_event_handler_t)(void *event_handler_arg, esp_event_base_t event_base, int32_t event_id, void *event_data);
typedef void *esp_event_handler_instance_t;
#define ESP_EVENT_ANY_ID -1

#endif
