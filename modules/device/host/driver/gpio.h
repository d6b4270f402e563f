/* ESP-IDF components/esp_driver_gpio/include/driver/gpio.h, with what it takes from hal/gpio_types.h and soc/gpio_num.h. */
#ifndef NETSTACK_HOST_DRIVER_GPIO_H
#define NETSTACK_HOST_DRIVER_GPIO_H

#include <stdint.h>
#include "esp_err.h"

typedef int gpio_num_t;
typedef enum { GPIO_MODE_DISABLE = 0, GPIO_MODE_INPUT = 1, GPIO_MODE_OUTPUT = 2 } gpio_mode_t;

esp_err_t gpio_reset_pin(gpio_num_t gpio_num);
esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level);
esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode);

#endif
