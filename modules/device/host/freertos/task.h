/* ESP-IDF components/freertos/FreeRTOS-Kernel/include/freertos/task.h */
#ifndef NETSTACK_HOST_FREERTOS_TASK_H
#define NETSTACK_HOST_FREERTOS_TASK_H

#include "freertos/FreeRTOS.h"

void vTaskDelay(const TickType_t xTicksToDelay);

#endif
