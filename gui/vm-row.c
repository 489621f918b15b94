#include "vm-row.h"

#define ROW_PREVIEW_W 64
#define ROW_PREVIEW_H 48

struct _HostelVmRow {
    GtkListBoxRow parent;
    char *uuid;
    char *name;
    enum hostel_vm_status status;
    cairo_surface_t *preview;
    GtkWidget *stack;       /* "icon" or "preview" */
    GtkWidget *area;
    GtkWidget *name_label;
    GtkWidget *os_label;
    GtkWidget *state_label;
};

G_DEFINE_TYPE(HostelVmRow, hostel_vm_row, GTK_TYPE_LIST_BOX_ROW)

void hostel_preview_draw(cairo_t *cr, cairo_surface_t *preview, int width, int height)
{
    if (!preview || width <= 0 || height <= 0)
        return;
    int pw = cairo_image_surface_get_width(preview), ph = cairo_image_surface_get_height(preview);
    if (pw <= 0 || ph <= 0)
        return;
    double s = MIN((double)width / pw, (double)height / ph);
    cairo_save(cr);
    cairo_translate(cr, (width - pw * s) / 2, (height - ph * s) / 2);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, preview, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
}

static gboolean row_draw_preview(GtkWidget *w, cairo_t *cr, gpointer p)
{
    HostelVmRow *row = p;
    hostel_preview_draw(cr, row->preview, gtk_widget_get_allocated_width(w), gtk_widget_get_allocated_height(w));
    return TRUE;
}

static void row_finalize(GObject *o)
{
    HostelVmRow *row = HOSTEL_VM_ROW(o);
    g_free(row->uuid);
    g_free(row->name);
    if (row->preview)
        cairo_surface_destroy(row->preview);
    G_OBJECT_CLASS(hostel_vm_row_parent_class)->finalize(o);
}

static void hostel_vm_row_class_init(HostelVmRowClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = row_finalize;
}

static void hostel_vm_row_init(HostelVmRow *row)
{
    row->status = HOSTEL_VM_STATUS_UNKNOWN;
}

static GtkWidget *row_label(const char *text, const char *style_class)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
    if (style_class)
        gtk_style_context_add_class(gtk_widget_get_style_context(l), style_class);
    return l;
}

GtkWidget *hostel_vm_row_new(const char *uuid, const char *name, const char *os_label)
{
    HostelVmRow *row = g_object_new(HOSTEL_TYPE_VM_ROW, NULL);
    row->uuid = g_strdup(uuid);
    row->name = g_strdup(name);

    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    g_object_set(box, "margin", 6, NULL);
    row->stack = gtk_stack_new();
    GtkWidget *icon = gtk_image_new_from_icon_name("computer-symbolic", GTK_ICON_SIZE_DND);
    row->area = gtk_drawing_area_new();
    gtk_widget_set_size_request(row->area, ROW_PREVIEW_W, ROW_PREVIEW_H);
    g_signal_connect(row->area, "draw", G_CALLBACK(row_draw_preview), row);
    gtk_stack_add_named(GTK_STACK(row->stack), icon, "icon");
    gtk_stack_add_named(GTK_STACK(row->stack), row->area, "preview");
    gtk_widget_set_size_request(row->stack, ROW_PREVIEW_W, ROW_PREVIEW_H);

    GtkWidget *text = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    row->name_label = row_label(name, NULL);
    char *markup = g_markup_printf_escaped("<b>%s</b>", name);
    gtk_label_set_markup(GTK_LABEL(row->name_label), markup);
    g_free(markup);
    row->os_label = row_label(os_label, "dim-label");
    row->state_label = row_label(hostel_vm_status_label(row->status), "dim-label");
    gtk_box_pack_start(GTK_BOX(text), row->name_label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(text), row->os_label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(text), row->state_label, FALSE, FALSE, 0);
    gtk_widget_set_valign(text, GTK_ALIGN_CENTER);

    gtk_box_pack_start(GTK_BOX(box), row->stack, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), text, TRUE, TRUE, 0);
    gtk_container_add(GTK_CONTAINER(row), box);
    gtk_widget_show_all(GTK_WIDGET(row));
    gtk_stack_set_visible_child_name(GTK_STACK(row->stack), "icon");
    /* What a screen reader says for the row: name and state. */
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(row)), name);
    return GTK_WIDGET(row);
}

const char *hostel_vm_row_get_uuid(HostelVmRow *row)
{
    return row->uuid;
}

const char *hostel_vm_row_get_name(HostelVmRow *row)
{
    return row->name;
}

void hostel_vm_row_set_status(HostelVmRow *row, enum hostel_vm_status s)
{
    row->status = s;
    gtk_label_set_text(GTK_LABEL(row->state_label), hostel_vm_status_label(s));
    if (!hostel_vm_status_is_live(s))
        hostel_vm_row_set_preview(row, NULL);
}

enum hostel_vm_status hostel_vm_row_get_status(HostelVmRow *row)
{
    return row->status;
}

void hostel_vm_row_set_preview(HostelVmRow *row, cairo_surface_t *preview)
{
    if (row->preview)
        cairo_surface_destroy(row->preview);
    row->preview = NULL;
    if (preview) {
        /* A copy: the monitor's surface is only lent. */
        int w = cairo_image_surface_get_width(preview), h = cairo_image_surface_get_height(preview);
        row->preview = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        cairo_t *cr = cairo_create(row->preview);
        cairo_set_source_surface(cr, preview, 0, 0);
        cairo_paint(cr);
        cairo_destroy(cr);
    }
    gtk_stack_set_visible_child_name(GTK_STACK(row->stack), row->preview ? "preview" : "icon");
    gtk_widget_queue_draw(row->area);
}

cairo_surface_t *hostel_vm_row_get_preview(HostelVmRow *row)
{
    return row->preview;
}
