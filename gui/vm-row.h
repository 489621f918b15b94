/* HostelVmRow: one VM in the main window's list: a preview of its screen
 * (or an icon while it is not running), its name, its OS and its state. */
#ifndef HOSTEL_GUI_VM_ROW_H
#define HOSTEL_GUI_VM_ROW_H

#include <gtk/gtk.h>

#include "vm-client.h"

#define HOSTEL_TYPE_VM_ROW (hostel_vm_row_get_type())
G_DECLARE_FINAL_TYPE(HostelVmRow, hostel_vm_row, HOSTEL, VM_ROW, GtkListBoxRow)

GtkWidget *hostel_vm_row_new(const char *uuid, const char *name, const char *os_label);
const char *hostel_vm_row_get_uuid(HostelVmRow *row);
const char *hostel_vm_row_get_name(HostelVmRow *row);
void hostel_vm_row_set_status(HostelVmRow *row, enum hostel_vm_status s);
enum hostel_vm_status hostel_vm_row_get_status(HostelVmRow *row);
/* A new preview (copied), or NULL to drop it. */
void hostel_vm_row_set_preview(HostelVmRow *row, cairo_surface_t *preview);
cairo_surface_t *hostel_vm_row_get_preview(HostelVmRow *row);

/* Draw a preview scaled into a width x height area (aspect kept, centred). */
void hostel_preview_draw(cairo_t *cr, cairo_surface_t *preview, int width, int height);

#endif
