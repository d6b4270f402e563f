/* ESP-IDF components/esp_netif/include/esp_netif_net_stack.h: like the real one, it includes
   nothing and needs esp_netif.h first. */
#ifndef NETSTACK_HOST_ESP_NETIF_NET_STACK_H
#define NETSTACK_HOST_ESP_NETIF_NET_STACK_H

void *esp_netif_get_netif_impl(esp_netif_t *esp_netif);

#endif
