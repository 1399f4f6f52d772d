"""Headless Chromium for the page tests and bench/viewer_page.py.

Debian's ``chromium`` and ``chromium-driver`` with Selenium from PyPI.
Without them the browser tests skip with one line saying what to install,
except where ``REQUIRE_BROWSER=1`` (``.ci/run`` sets it): there they fail.
"""
import json
import os
import shutil
import time

INSTALL = ('browser tests need Chromium and its driver: apt-get install '
           'chromium chromium-driver (and pip install selenium)')


def missing():
    """What is missing for the browser tests, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return INSTALL
    if not (shutil.which('chromium') or shutil.which('chromium-browser')):
        return INSTALL
    if not shutil.which('chromedriver'):
        return INSTALL
    return None


def required():
    return os.environ.get('REQUIRE_BROWSER') == '1'


def open_browser(width=1300, height=1000):
    """A headless Chromium that keeps its console and network logs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu',
                 '--disable-dev-shm-usage',
                 '--window-size={},{}'.format(width, height)):
        options.add_argument(flag)
    options.binary_location = (shutil.which('chromium')
                               or shutil.which('chromium-browser'))
    options.set_capability('goog:loggingPrefs',
                           {'browser': 'ALL', 'performance': 'ALL'})
    return webdriver.Chrome(service=Service(shutil.which('chromedriver')),
                            options=options)


def open_page(driver, path, step=None, timeout=30):
    """Open the page at ``path`` (from disk), at ``#step=step`` if given;
    returns the seconds until its first frame was drawn."""
    url = 'file://' + os.path.abspath(path)
    if step is not None:
        url += '#step={}'.format(step)
    start = time.perf_counter()
    driver.get(url)
    while driver.execute_script('return document.body.dataset.ready') \
            != '1':
        if time.perf_counter() - start > timeout:
            raise TimeoutError('the page did not draw its first frame')
        time.sleep(0.01)
    return time.perf_counter() - start


def console_errors(driver):
    return [entry for entry in driver.get_log('browser')
            if entry['level'] == 'SEVERE']


def requests(driver):
    """Every URL the page asked for (network requests and data URLs)."""
    urls = []
    for entry in driver.get_log('performance'):
        message = json.loads(entry['message'])['message']
        if message['method'] == 'Network.requestWillBeSent':
            urls.append(message['params']['request']['url'])
    return urls


def panel_pixels(driver, index=0):
    """The RGBA pixels of the ``index``-th map panel's canvas, as
    ``(height, width, 4)`` nested lists."""
    import numpy as np
    flat, width, height = driver.execute_script(
        'const c = document.querySelectorAll("#panels canvas")[arguments[0]];'
        'const d = c.getContext("2d").getImageData(0, 0, c.width, c.height);'
        'return [Array.from(d.data), c.width, c.height];', index)
    return np.array(flat, dtype=np.uint8).reshape(height, width, 4)


def steps_per_second(driver, steps=300):
    """How many steps a second the page draws, stepping with the arrow
    key's own handler (each step draws every panel and strip)."""
    return driver.execute_script(
        'const n = arguments[0]; go(0);'
        'const t0 = performance.now();'
        'for (let i = 1; i <= n; i++) go(i % N);'
        'return n / ((performance.now() - t0) / 1000);', steps)


def screenshot(path, png, step=None, width=1300, height=1000):
    """A picture of the page at ``path`` (the README's, from
    bench/viewer_page.py)."""
    driver = open_browser(width, height)
    try:
        open_page(driver, path, step)
        driver.save_screenshot(png)
    finally:
        driver.quit()
