/* HostelOsChooser: picking the guest OS for a new VM.
 *
 * With the OS presets (ospresets.h) it is a search entry over a list of
 * every known OS; typing filters the list and selects the first match.
 * Without them (they could not be loaded) it is a plain entry for the OS
 * id. "changed" is emitted whenever the choice changes.
 */
#ifndef HOSTEL_GUI_OS_CHOOSER_H
#define HOSTEL_GUI_OS_CHOOSER_H

#include <gtk/gtk.h>

#include "ospresets.h"

#define HOSTEL_TYPE_OS_CHOOSER (hostel_os_chooser_get_type())
G_DECLARE_FINAL_TYPE(HostelOsChooser, hostel_os_chooser, HOSTEL, OS_CHOOSER, GtkBox)

GtkWidget *hostel_os_chooser_new(void);
/* The catalogue to offer (kept by the caller for the widget's life), or
 * NULL for the plain entry. */
void hostel_os_chooser_set_presets(HostelOsChooser *c, const struct ospresets *presets);
/* The chosen OS id, or NULL when none. */
const char *hostel_os_chooser_get_id(HostelOsChooser *c);
/* The chosen preset, NULL without presets or choice. */
const struct ospreset *hostel_os_chooser_get_preset(HostelOsChooser *c);
/* Choose this OS (an ISO was recognised). */
void hostel_os_chooser_select(HostelOsChooser *c, const char *id);

#endif
