#include "prefs.h"

GSettings *hostel_prefs_new(void)
{
    GSettingsSchemaSource *src = g_settings_schema_source_get_default();
    GSettingsSchema *schema = src ? g_settings_schema_source_lookup(src, HOSTEL_PREFS_SCHEMA, TRUE) : NULL;
    if (!schema)
        return NULL;
    GSettings *s = g_settings_new_full(schema, NULL, NULL);
    g_settings_schema_unref(schema);
    return s;
}

/* The key, when s has one of that name and type. */
static gboolean prefs_has(GSettings *s, const char *key, const GVariantType *type)
{
    if (!s)
        return FALSE;
    GSettingsSchema *schema = NULL;
    g_object_get(s, "settings-schema", &schema, NULL);
    gboolean ok = FALSE;
    if (schema && g_settings_schema_has_key(schema, key)) {
        GSettingsSchemaKey *k = g_settings_schema_get_key(schema, key);
        ok = g_variant_type_equal(g_settings_schema_key_get_value_type(k), type);
        g_settings_schema_key_unref(k);
    }
    if (schema)
        g_settings_schema_unref(schema);
    return ok;
}

gboolean hostel_prefs_get_boolean(GSettings *s, const char *key, gboolean def)
{
    return prefs_has(s, key, G_VARIANT_TYPE_BOOLEAN) ? g_settings_get_boolean(s, key) : def;
}

int hostel_prefs_get_int(GSettings *s, const char *key, int def)
{
    return prefs_has(s, key, G_VARIANT_TYPE_INT32) ? g_settings_get_int(s, key) : def;
}

char *hostel_prefs_get_string(GSettings *s, const char *key, const char *def)
{
    return prefs_has(s, key, G_VARIANT_TYPE_STRING) ? g_settings_get_string(s, key) : g_strdup(def);
}

void hostel_prefs_set_boolean(GSettings *s, const char *key, gboolean v)
{
    if (prefs_has(s, key, G_VARIANT_TYPE_BOOLEAN))
        g_settings_set_boolean(s, key, v);
}

/* Ranged keys refuse values outside their range (g_settings_set_int
 * would abort): check first. */
void hostel_prefs_set_int(GSettings *s, const char *key, int v)
{
    if (!prefs_has(s, key, G_VARIANT_TYPE_INT32))
        return;
    GSettingsSchema *schema = NULL;
    g_object_get(s, "settings-schema", &schema, NULL);
    GSettingsSchemaKey *k = g_settings_schema_get_key(schema, key);
    GVariant *value = g_variant_ref_sink(g_variant_new_int32(v));
    if (g_settings_schema_key_range_check(k, value))
        g_settings_set_value(s, key, value);
    g_variant_unref(value);
    g_settings_schema_key_unref(k);
    g_settings_schema_unref(schema);
}

void hostel_prefs_set_string(GSettings *s, const char *key, const char *v)
{
    if (prefs_has(s, key, G_VARIANT_TYPE_STRING))
        g_settings_set_string(s, key, v ? v : "");
}

void hostel_prefs_restore_window(GSettings *s, GtkWindow *w, const char *prefix, int def_w, int def_h)
{
    char *kw = g_strdup_printf("%s-width", prefix);
    char *kh = g_strdup_printf("%s-height", prefix);
    char *km = g_strdup_printf("%s-maximized", prefix);
    gtk_window_set_default_size(w, hostel_prefs_get_int(s, kw, def_w), hostel_prefs_get_int(s, kh, def_h));
    if (hostel_prefs_get_boolean(s, km, FALSE))
        gtk_window_maximize(w);
    g_free(kw);
    g_free(kh);
    g_free(km);
}

void hostel_prefs_save_window(GSettings *s, GtkWindow *w, const char *prefix)
{
    if (!s)
        return;
    char *kw = g_strdup_printf("%s-width", prefix);
    char *kh = g_strdup_printf("%s-height", prefix);
    char *km = g_strdup_printf("%s-maximized", prefix);
    gboolean max = gtk_window_is_maximized(w);
    hostel_prefs_set_boolean(s, km, max);
    if (!max) {
        int width, height;
        gtk_window_get_size(w, &width, &height);
        hostel_prefs_set_int(s, kw, width);
        hostel_prefs_set_int(s, kh, height);
    }
    g_free(kw);
    g_free(kh);
    g_free(km);
}
