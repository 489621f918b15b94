#include "os-chooser.h"

#include <glib/gi18n.h>

struct _HostelOsChooser {
    GtkBox parent;
    const struct ospresets *presets;
    GtkWidget *search;
    GtkWidget *list;
    GtkWidget *scroller;
    GtkWidget *entry;           /* without presets */
    GHashTable *matches;        /* ids the search matches; NULL: all */
    char *entry_id;
};

G_DEFINE_TYPE(HostelOsChooser, hostel_os_chooser, GTK_TYPE_BOX)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint os_chooser_signals[N_SIGNALS];

static const struct ospreset *row_preset(GtkListBoxRow *row)
{
    return row ? g_object_get_data(G_OBJECT(row), "hostel-preset") : NULL;
}

static gboolean os_chooser_filter(GtkListBoxRow *row, gpointer data)
{
    HostelOsChooser *c = data;
    const struct ospreset *p = row_preset(row);
    return !c->matches || (p && g_hash_table_contains(c->matches, p->id));
}

static GtkListBoxRow *first_visible_row(HostelOsChooser *c)
{
    GList *rows = gtk_container_get_children(GTK_CONTAINER(c->list));
    GtkListBoxRow *first = NULL;
    for (GList *l = rows; l && !first; l = l->next)
        if (os_chooser_filter(l->data, c))
            first = l->data;
    g_list_free(rows);
    return first;
}

static void os_chooser_search_changed(GtkSearchEntry *e, gpointer data)
{
    HostelOsChooser *c = data;
    const char *text = gtk_entry_get_text(GTK_ENTRY(e));
    g_clear_pointer(&c->matches, g_hash_table_unref);
    if (c->presets && *text) {
        GPtrArray *found = ospresets_search(c->presets, text);
        c->matches = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; i < found->len; i++)
            g_hash_table_add(c->matches, g_strdup(((const struct ospreset *)g_ptr_array_index(found, i))->id));
        g_ptr_array_unref(found);
    }
    gtk_list_box_invalidate_filter(GTK_LIST_BOX(c->list));
    /* Typing picks the best match, so "debian 12" + Next is enough. */
    GtkListBoxRow *sel = gtk_list_box_get_selected_row(GTK_LIST_BOX(c->list));
    if (!sel || !os_chooser_filter(sel, c)) {
        GtkListBoxRow *first = first_visible_row(c);
        if (first)
            gtk_list_box_select_row(GTK_LIST_BOX(c->list), first);
        else
            gtk_list_box_unselect_all(GTK_LIST_BOX(c->list));
    }
}

static void os_chooser_row_selected(GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
    g_signal_emit(data, os_chooser_signals[SIGNAL_CHANGED], 0);
}

static void os_chooser_entry_changed(GtkEditable *e, gpointer data)
{
    HostelOsChooser *c = data;
    g_free(c->entry_id);
    c->entry_id = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(e))));
    g_signal_emit(c, os_chooser_signals[SIGNAL_CHANGED], 0);
}

static void os_chooser_finalize(GObject *o)
{
    HostelOsChooser *c = HOSTEL_OS_CHOOSER(o);
    g_clear_pointer(&c->matches, g_hash_table_unref);
    g_free(c->entry_id);
    G_OBJECT_CLASS(hostel_os_chooser_parent_class)->finalize(o);
}

static void hostel_os_chooser_class_init(HostelOsChooserClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = os_chooser_finalize;
    os_chooser_signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                      NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void hostel_os_chooser_init(HostelOsChooser *c)
{
    gtk_orientable_set_orientation(GTK_ORIENTABLE(c), GTK_ORIENTATION_VERTICAL);
    gtk_box_set_spacing(GTK_BOX(c), 6);

    c->search = gtk_search_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(c->search), _("Search operating systems"));
    atk_object_set_name(gtk_widget_get_accessible(c->search), _("Search operating systems"));
    g_signal_connect(c->search, "search-changed", G_CALLBACK(os_chooser_search_changed), c);

    c->list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(c->list), GTK_SELECTION_BROWSE);
    gtk_list_box_set_filter_func(GTK_LIST_BOX(c->list), os_chooser_filter, c, NULL);
    atk_object_set_name(gtk_widget_get_accessible(c->list), _("Operating systems"));
    g_signal_connect(c->list, "row-selected", G_CALLBACK(os_chooser_row_selected), c);
    c->scroller = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(c->scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(c->scroller), GTK_SHADOW_IN);
    gtk_widget_set_vexpand(c->scroller, TRUE);
    gtk_widget_set_size_request(c->scroller, -1, 200);
    gtk_container_add(GTK_CONTAINER(c->scroller), c->list);

    c->entry = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(c->entry), _("Operating system ID, for example debian12"));
    atk_object_set_name(gtk_widget_get_accessible(c->entry), _("Operating system ID"));
    g_signal_connect(c->entry, "changed", G_CALLBACK(os_chooser_entry_changed), c);

    gtk_box_pack_start(GTK_BOX(c), c->search, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(c), c->scroller, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(c), c->entry, FALSE, FALSE, 0);
    gtk_widget_show_all(GTK_WIDGET(c));
    hostel_os_chooser_set_presets(c, NULL);
}

GtkWidget *hostel_os_chooser_new(void)
{
    return g_object_new(HOSTEL_TYPE_OS_CHOOSER, NULL);
}

void hostel_os_chooser_set_presets(HostelOsChooser *c, const struct ospresets *presets)
{
    c->presets = presets;
    GList *rows = gtk_container_get_children(GTK_CONTAINER(c->list));
    for (GList *l = rows; l; l = l->next)
        gtk_container_remove(GTK_CONTAINER(c->list), l->data);
    g_list_free(rows);
    gtk_widget_set_visible(c->search, presets != NULL);
    gtk_widget_set_visible(c->scroller, presets != NULL);
    gtk_widget_set_visible(c->entry, presets == NULL);
    if (!presets)
        return;
    size_t n = 0;
    const struct ospreset *const *all = ospresets_all(presets, &n);
    for (size_t i = 0; i < n; i++) {
        GtkWidget *label = gtk_label_new(all[i]->name);
        gtk_label_set_xalign(GTK_LABEL(label), 0);
        g_object_set(label, "margin", 6, NULL);
        GtkWidget *row = gtk_list_box_row_new();
        gtk_container_add(GTK_CONTAINER(row), label);
        g_object_set_data(G_OBJECT(row), "hostel-preset", (gpointer)all[i]);
        atk_object_set_name(gtk_widget_get_accessible(row), all[i]->name);
        gtk_widget_show_all(row);
        gtk_container_add(GTK_CONTAINER(c->list), row);
    }
    os_chooser_search_changed(GTK_SEARCH_ENTRY(c->search), c);
    /* What was typed while the presets were loading still counts. */
    if (c->entry_id && *c->entry_id)
        hostel_os_chooser_select(c, c->entry_id);
}

const struct ospreset *hostel_os_chooser_get_preset(HostelOsChooser *c)
{
    if (!c->presets)
        return NULL;
    GtkListBoxRow *row = gtk_list_box_get_selected_row(GTK_LIST_BOX(c->list));
    return row && os_chooser_filter(row, c) ? row_preset(row) : NULL;
}

const char *hostel_os_chooser_get_id(HostelOsChooser *c)
{
    if (!c->presets)
        return c->entry_id && *c->entry_id ? c->entry_id : NULL;
    const struct ospreset *p = hostel_os_chooser_get_preset(c);
    return p ? p->id : NULL;
}

void hostel_os_chooser_select(HostelOsChooser *c, const char *id)
{
    if (!c->presets) {
        gtk_entry_set_text(GTK_ENTRY(c->entry), id);
        return;
    }
    const struct ospreset *want = ospresets_lookup(c->presets, id);
    if (!want)
        return;
    /* Show the whole list again so the choice is visible. */
    gtk_entry_set_text(GTK_ENTRY(c->search), "");
    os_chooser_search_changed(GTK_SEARCH_ENTRY(c->search), c);
    GList *rows = gtk_container_get_children(GTK_CONTAINER(c->list));
    for (GList *l = rows; l; l = l->next) {
        if (row_preset(l->data) == want) {
            gtk_list_box_select_row(GTK_LIST_BOX(c->list), l->data);
            break;
        }
    }
    g_list_free(rows);
}
