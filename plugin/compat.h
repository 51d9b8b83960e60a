/* The one place that knows how the Wireshark plugin API differs across the
 * 4.x releases this plugin supports (4.0, 4.2, 4.4, 4.6).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#pragma once

#include <ws_version.h>

#if defined(__has_include)
#  if __has_include(<wsutil/plugins.h>)
#    include <wsutil/plugins.h> /* 4.2+: plugin_describe, WS_PLUGIN_DESC_* */
#    define SD_HAVE_WSUTIL_PLUGINS_H 1
#  endif
#endif

#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/conversation.h>
#include <epan/to_str.h>

#define SD_WS_AT_LEAST(maj, min) \
    (WIRESHARK_VERSION_MAJOR > (maj) || (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))

/* 4.4 changed plugin loading: a plugin describes itself through
 * plugin_describe(); older releases look for the symbol-less defaults. */
#if SD_WS_AT_LEAST(4, 4)
#  define SD_NEED_PLUGIN_DESCRIBE 1
#endif

/* 4.4 switched boolean preferences from gboolean* to bool*. */
#if SD_WS_AT_LEAST(4, 4)
typedef bool sd_pref_bool_t;
#else
typedef gboolean sd_pref_bool_t;
#endif

/* 4.4 made UAT update callbacks return bool instead of gboolean. */
#if SD_WS_AT_LEAST(4, 4)
typedef bool sd_uat_bool_t;
#else
typedef gboolean sd_uat_bool_t;
#endif

/* 4.4 made stats_tree_register() and friends return a pointer; callers here
 * ignore the result either way. Tap callbacks gained a flags argument in 4.0
 * already, so they need nothing here. */

/* 4.6 renamed get_data_source_name() (the "Name (N bytes)" label of a data
 * source) to get_data_source_description(); both return a string the caller
 * frees with wmem_free(NULL, ...). */
#if SD_WS_AT_LEAST(4, 6)
#  define sd_data_source_label get_data_source_description
#else
#  define sd_data_source_label get_data_source_name
#endif
