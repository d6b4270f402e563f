/* ESP-IDF's FreeRTOS (components/freertos): ticks of 1 ms here, as Moddable's sdkconfig sets CONFIG_FREERTOS_HZ=1000. */
#ifndef NETSTACK_HOST_FREERTOS_H
#define NETSTACK_HOST_FREERTOS_H

#include <stdint.h>

typedef uint32_t TickType_t;
#define configTICK_RATE_HZ 1000
#define pdMS_TO_TICKS(xTimeInMs) ((TickType_t)(((TickType_t)(xTimeInMs) * (TickType_t)configTICK_RATE_HZ) / (TickType_t)1000U))

#endif
