/* The application's settings: GSettings schema org.hostel.Hostel
 * (data/org.hostel.Hostel.gschema.xml).
 *
 * When the schema is not installed (an uninstalled build run without
 * GSETTINGS_SCHEMA_DIR) there are no settings object and every getter
 * returns the default it is given, every setter does nothing: the GUI
 * works the same, it just does not remember anything. Keys the installed
 * schema lacks are treated the same way, so an older schema cannot abort
 * the program.
 */
#ifndef HOSTEL_GUI_PREFS_H
#define HOSTEL_GUI_PREFS_H

#include <gtk/gtk.h>

#define HOSTEL_PREFS_SCHEMA "org.hostel.Hostel"

/* The settings, or NULL when the schema is not installed. */
GSettings *hostel_prefs_new(void);

gboolean hostel_prefs_get_boolean(GSettings *s, const char *key, gboolean def);
int hostel_prefs_get_int(GSettings *s, const char *key, int def);
char *hostel_prefs_get_string(GSettings *s, const char *key, const char *def);   /* g_free */

void hostel_prefs_set_boolean(GSettings *s, const char *key, gboolean v);
void hostel_prefs_set_int(GSettings *s, const char *key, int v);
void hostel_prefs_set_string(GSettings *s, const char *key, const char *v);

/* Remember a window's size and maximized state under PREFIX-width,
 * PREFIX-height and PREFIX-maximized, and restore them. */
void hostel_prefs_restore_window(GSettings *s, GtkWindow *w, const char *prefix, int def_w, int def_h);
void hostel_prefs_save_window(GSettings *s, GtkWindow *w, const char *prefix);

#endif
