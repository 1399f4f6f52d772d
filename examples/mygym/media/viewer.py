"""Live windows for ``--render`` / ``--render-b2w``, with Tk from the stdlib.

Where there is no display, a window prints one warning line on stderr and
then does nothing, so the same code runs headless (videos are still written).
"""
import os
import sys

import numpy as np

_warned_no_display = False


def display_available():
    """True when an X display is named and Tk can open a window on it."""
    if not os.environ.get('DISPLAY'):
        return False
    try:
        import tkinter
        root = tkinter.Tk()
        root.destroy()
        return True
    except Exception:
        return False


def _warn_no_display():
    global _warned_no_display
    if not _warned_no_display:
        _warned_no_display = True
        print('warning: no display available (DISPLAY unset or unusable): '
              'live windows are off', file=sys.stderr)


class LiveWindow:
    """One window that shows ``(H, W, 3)`` uint8 RGB frames, magnified.

    Args:
        title (str): window title.
        zoom (int): integer magnification of each frame.
        position (tuple or None): ``(x, y)`` of the window on the screen;
            None leaves the placement to the window manager.
    """

    def __init__(self, title, zoom=2, position=None):
        self.title = title
        self.zoom = zoom
        self.position = position
        self._root = None
        self._label = None
        self._image = None
        self.enabled = True

    def _open(self):
        if not display_available():
            _warn_no_display()
            self.enabled = False
            return
        import tkinter
        self._root = tkinter.Tk()
        self._root.title(self.title)
        if self.position is not None:
            self._root.geometry('+{}+{}'.format(*self.position))
        self._label = tkinter.Label(self._root)
        self._label.pack()

    def show(self, rgb):
        if not self.enabled:
            return
        if self._root is None:
            self._open()
            if not self.enabled:
                return
        import tkinter
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        height, width = rgb.shape[:2]
        ppm = b'P6 %d %d 255\n' % (width, height) + rgb.tobytes()
        try:
            self._image = tkinter.PhotoImage(master=self._root, data=ppm,
                                             format='PPM')
            if self.zoom > 1:
                self._image = self._image.zoom(self.zoom, self.zoom)
            self._label.configure(image=self._image)
            self._root.update()
        except tkinter.TclError:
            # The user closed the window: stop showing, keep running.
            self.enabled = False

    def close(self):
        if self._root is not None:
            try:
                self._root.destroy()
            except Exception:
                pass
            self._root = None
