/* Registration functions of the SMTP Delivery protocol, called from the
 * plugin entry points.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#pragma once

void proto_register_smtp_delivery(void);
void proto_reg_handoff_smtp_delivery(void);

/* Statistics (stats.cpp), registered through the tap plugin interface. */
void smtp_delivery_register_tap_listeners(void);
