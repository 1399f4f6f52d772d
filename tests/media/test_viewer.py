"""Live windows without a display: one warning, no window, no crash."""
import numpy as np

from media import viewer


def test_without_a_display_windows_warn_once_and_stay_off(monkeypatch,
                                                          capsys):
    monkeypatch.delenv('DISPLAY', raising=False)
    monkeypatch.setattr(viewer, '_warned_no_display', False)
    assert viewer.display_available() is False
    windows = [viewer.LiveWindow('actor'), viewer.LiveWindow('critic')]
    for window in windows:
        window.show(np.zeros((4, 4, 3), np.uint8))
        window.show(np.zeros((4, 4, 3), np.uint8))
        assert window.enabled is False
        window.close()
    err = capsys.readouterr().err
    assert err.count('no display available') == 1
