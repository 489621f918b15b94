#include "dialogs.h"

#include <glib/gi18n.h>

GtkWidget *hostel_error_dialog(GtkWindow *parent, const char *primary, const char *secondary)
{
    GtkWidget *d = gtk_message_dialog_new(parent, GTK_DIALOG_DESTROY_WITH_PARENT | GTK_DIALOG_MODAL,
                                          GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", primary);
    if (secondary && *secondary)
        gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
    g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    gtk_widget_show(d);
    return d;
}

struct confirm {
    hostel_confirm_fn done;
    gpointer data;
    GDestroyNotify destroy;
};

/* Runs when the dialog goes, answered or not (its parent closed). */
static void confirm_free(gpointer p, GClosure *closure)
{
    struct confirm *c = p;
    if (c->destroy)
        c->destroy(c->data);
    g_free(c);
}

static void confirm_response(GtkDialog *d, int response, gpointer p)
{
    struct confirm *c = p;
    hostel_confirm_fn done = c->done;
    c->done = NULL;
    if (done)
        done(response == GTK_RESPONSE_ACCEPT, c->data);
    gtk_widget_destroy(GTK_WIDGET(d));
}

void hostel_confirm_dialog(GtkWindow *parent, const char *primary, const char *secondary,
                           const char *accept_label, gboolean destructive, hostel_confirm_fn done,
                           gpointer data, GDestroyNotify destroy)
{
    GtkWidget *d = gtk_message_dialog_new(parent, GTK_DIALOG_DESTROY_WITH_PARENT | GTK_DIALOG_MODAL,
                                          GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", primary);
    if (secondary && *secondary)
        gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
    gtk_dialog_add_button(GTK_DIALOG(d), _("_Cancel"), GTK_RESPONSE_CANCEL);
    GtkWidget *accept = gtk_dialog_add_button(GTK_DIALOG(d), accept_label, GTK_RESPONSE_ACCEPT);
    gtk_style_context_add_class(gtk_widget_get_style_context(accept),
                                destructive ? GTK_STYLE_CLASS_DESTRUCTIVE_ACTION : GTK_STYLE_CLASS_SUGGESTED_ACTION);
    /* The safe answer is the default, so Enter does not delete. */
    gtk_dialog_set_default_response(GTK_DIALOG(d), destructive ? GTK_RESPONSE_CANCEL : GTK_RESPONSE_ACCEPT);
    struct confirm *c = g_new0(struct confirm, 1);
    c->done = done;
    c->data = data;
    c->destroy = destroy;
    g_signal_connect_data(d, "response", G_CALLBACK(confirm_response), c, confirm_free, 0);
    gtk_widget_show(d);
}
