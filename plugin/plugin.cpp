/* Plugin entry points: what Wireshark's plugin loader looks up by name.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "compat.h"
#include "smtp_delivery_glue.h"

#include <epan/tap.h>

#ifndef SD_PLUGIN_VERSION
#define SD_PLUGIN_VERSION "0.0.0"
#endif

/* The loader finds these with dlsym(), so they need C linkage and external
 * visibility. Declaring them in an extern "C" block first matters in C++: a
 * namespace-scope const definition on its own has internal linkage and the
 * plugin would silently fail to load. */
extern "C" {
WS_DLL_PUBLIC const char plugin_version[];
WS_DLL_PUBLIC const int plugin_want_major;
WS_DLL_PUBLIC const int plugin_want_minor;
WS_DLL_PUBLIC void plugin_register(void);
#ifdef SD_NEED_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);
#endif
}

extern "C" {
const char plugin_version[] = SD_PLUGIN_VERSION;
const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

void plugin_register(void)
{
    static proto_plugin plug;
    plug.register_protoinfo = proto_register_smtp_delivery;
    plug.register_handoff = proto_reg_handoff_smtp_delivery;
    proto_register_plugin(&plug);

    static tap_plugin taps;
    taps.register_tap_listener = smtp_delivery_register_tap_listeners;
    tap_register_plugin(&taps);
}

#ifdef SD_NEED_PLUGIN_DESCRIBE
uint32_t plugin_describe(void)
{
    return WS_PLUGIN_DESC_DISSECTOR | WS_PLUGIN_DESC_TAP_LISTENER;
}
#endif
}
