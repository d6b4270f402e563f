/*
 * The few ESP-IDF and Moddable host functions netstack.c calls, declared for builds outside
 * ESP-IDF: the compile check in npm test (lwIP 2.1 headers, XS headers, this file) and the
 * host program in native/host-device, which implements each of them over Debian's lwIP.
 * The declarations follow ESP-IDF's esp_netif.h and esp_random.h and Moddable's xsHost.h;
 * on the ESP32, netstack.c includes those instead.
 */

#ifndef NETSTACK_HOST_H
#define NETSTACK_HOST_H

#include <stddef.h>		/* xs.h uses size_t */
#include <stdint.h>
#include "xs.h"

/* Moddable (xsHost.h): run `callback` on the XS thread of `the`, with a copy of `message`. */
typedef void (*modMessageDeliver)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
int modMessagePostToMachine(xsMachine *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon);

/* ESP-IDF (esp_err.h, esp_netif.h, esp_random.h). */
typedef int esp_err_t;
#define ESP_OK 0
typedef struct esp_netif_obj esp_netif_t;
esp_netif_t *esp_netif_get_handle_from_ifkey(const char *if_key);
void *esp_netif_get_netif_impl(esp_netif_t *esp_netif);
esp_err_t esp_netif_dhcpc_stop(esp_netif_t *esp_netif);
uint32_t esp_random(void);

#endif
