/*
 * Between the link glue (netstack.c) and the board's interface glue (netstack_eth.c on the
 * Ethernet boards, netstack_wifi.c on the Wi-Fi board), which knows the interface's events.
 */

#ifndef NETSTACK_H
#define NETSTACK_H

#include "esp_err.h"

/* Board glue: from now on, have netstack_interface_started and netstack_interface_stopped
   called on ESP-IDF's event task when the interface starts and stops, after ESP-IDF's own
   handlers have added or removed its lwIP netif. Called on the XS thread; the first call
   registers, later ones do nothing. */
esp_err_t netstack_watch_interface(void);

/* Link glue: the interface's netif was added again (take it) or removed (let go of it). */
void netstack_interface_started(void);
void netstack_interface_stopped(void);

#endif
