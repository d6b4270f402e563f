/* Included first (-include) in builds off the ESP32: the lwIP calls that esp-lwip 2.1.3 (ESP-IDF
   5.0 to 5.3) lacks, made unusable. Debian's lwIP 2.1.3 declares tcpip_callback_wait (lwIP 2.2)
   in a patch of its own, so without this the host build would accept what the device cannot link. */
#include "lwip/tcpip.h"
#pragma GCC poison tcpip_callback_wait
