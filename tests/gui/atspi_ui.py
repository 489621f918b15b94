"""Driving a GTK application through AT-SPI (gi.repository.Atspi), without
dogtail: finding widgets by role and name, waiting for them, pressing
buttons, filling entries and spin buttons, reading labels."""

import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402


class UiError(AssertionError):
    pass


class Ui:
    def __init__(self, app_names, timeout_scale=1.0):
        self.app_names = set(app_names)
        self.scale = timeout_scale

    # ---- waiting ----

    def wait(self, what, fn, timeout=10.0, interval=0.2):
        """Call fn until it returns something true; fail after timeout
        seconds (times the timeout scale) naming what was awaited."""
        deadline = time.monotonic() + timeout * self.scale
        last_error = None
        while True:
            try:
                result = fn()
                if result:
                    return result
            except Exception as e:  # the tree changes under our feet
                last_error = e
            if time.monotonic() >= deadline:
                extra = f" (last error: {last_error})" if last_error else ""
                raise UiError(f"timed out waiting for {what}{extra}")
            time.sleep(interval)

    # ---- finding ----

    def app(self):
        desktop = Atspi.get_desktop(0)
        for i in range(desktop.get_child_count()):
            a = desktop.get_child_at_index(i)
            if a is not None and a.get_name() in self.app_names:
                a.clear_cache()
                return a
        return None

    @staticmethod
    def showing(acc):
        return acc.get_state_set().contains(Atspi.StateType.SHOWING)

    def find_all(self, root, role=None, name=None, contains=None, showing=False, focused=False, limit=None):
        """Depth-first matches under root: role name ("push button"), exact
        accessible name, or a substring of the name or text; showing or
        focused ones only if asked."""
        out = []

        def visit(acc, depth):
            if acc is None or depth > 60 or (limit and len(out) >= limit):
                return
            ok = True
            if role is not None and acc.get_role_name() != role:
                ok = False
            if ok and name is not None and acc.get_name() != name:
                ok = False
            if ok and contains is not None and contains not in (acc.get_name() or "") \
                    and contains not in self.text(acc):
                ok = False
            if ok and showing and not self.showing(acc):
                ok = False
            if ok and focused and not acc.get_state_set().contains(Atspi.StateType.FOCUSED):
                ok = False
            if ok:
                out.append(acc)
            for i in range(acc.get_child_count()):
                visit(acc.get_child_at_index(i), depth + 1)

        if root is not None:
            root.clear_cache()
            visit(root, 0)
        return out

    def find(self, root, **kw):
        found = self.find_all(root, limit=1, **kw)
        return found[0] if found else None

    def wait_find(self, root_fn, what, timeout=10.0, **kw):
        return self.wait(what, lambda: self.find(root_fn(), **kw), timeout)

    def labelled(self, root, label, showing=True):
        """The widget a label names (its LABEL_FOR relation): how a screen
        reader finds an entry or spin button by its label."""
        for lab in self.find_all(root, role="label", name=label, showing=showing):
            for rel in lab.get_relation_set() or []:
                if rel.get_relation_type() == Atspi.RelationType.LABEL_FOR and rel.get_n_targets() > 0:
                    return rel.get_target(0)
        return None

    def wait_labelled(self, root_fn, label, timeout=10.0):
        return self.wait(f"the field labelled '{label}'", lambda: self.labelled(root_fn(), label), timeout)

    def window(self, name, roles=("frame", "dialog", "alert")):
        """A top-level window of the application by its title."""
        app = self.app()
        if app is None:
            return None
        names = {name} if isinstance(name, str) else set(name)
        for i in range(app.get_child_count()):
            w = app.get_child_at_index(i)
            if w is not None and w.get_role_name() in roles and w.get_name() in names:
                return w
        return None

    def windows(self, role=None):
        app = self.app()
        out = []
        for i in range(app.get_child_count() if app else 0):
            w = app.get_child_at_index(i)
            if w is not None and (role is None or w.get_role_name() == role):
                out.append(w)
        return out

    # ---- acting ----

    @staticmethod
    def text(acc):
        if "Text" not in acc.get_interfaces():
            return ""
        return Atspi.Text.get_text(acc, 0, Atspi.Text.get_character_count(acc)) or ""

    @staticmethod
    def press(acc):
        if "Action" not in acc.get_interfaces() or Atspi.Action.get_n_actions(acc) == 0:
            raise UiError(f"{acc.get_role_name()} '{acc.get_name()}' has no action")
        for i in range(Atspi.Action.get_n_actions(acc)):
            if Atspi.Action.get_action_name(acc, i) in ("click", "press", "activate", "toggle"):
                Atspi.Action.do_action(acc, i)
                return
        Atspi.Action.do_action(acc, 0)

    @staticmethod
    def set_text(acc, value):
        if "EditableText" not in acc.get_interfaces():
            raise UiError(f"'{acc.get_name()}' is not editable")
        Atspi.EditableText.set_text_contents(acc, value)

    @staticmethod
    def set_value(acc, value):
        if "Value" not in acc.get_interfaces():
            raise UiError(f"'{acc.get_name()}' has no value")
        Atspi.Value.set_current_value(acc, float(value))

    @staticmethod
    def extents(acc):
        """(x, y, width, height) on the screen."""
        r = Atspi.Component.get_extents(acc, Atspi.CoordType.SCREEN)
        return r.x, r.y, r.width, r.height

    def press_button(self, root, name, timeout=10.0):
        button = self.wait_find(lambda: root() if callable(root) else root, f"button '{name}'", timeout,
                                role="push button", name=name, showing=True)
        self.press(button)
        return button


def dump(acc, out, depth=0, max_depth=25):
    """The accessible tree under acc, one line per node, for failure reports."""
    if acc is None or depth > max_depth:
        return
    try:
        line = f"{'  ' * depth}{acc.get_role_name()} '{acc.get_name()}'"
        text = Ui.text(acc)
        if text and text != acc.get_name():
            line += f" text='{text[:60]}'"
        if not Ui.showing(acc):
            line += " (hidden)"
        out.append(line)
        for i in range(acc.get_child_count()):
            dump(acc.get_child_at_index(i), out, depth + 1, max_depth)
    except Exception as e:
        out.append(f"{'  ' * depth}? {e}")
