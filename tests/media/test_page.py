"""media/page.py: what the page stores, and the page itself driven in
headless Chromium (tests/browser.py)."""
import base64
import json
import os
import re
import zlib

import numpy as np
import pytest

import browser
from media import page

T = 200


def _synthetic(tmp_path, name='p.html'):
    """Gray frames; method 'one' marks the top left for the actor and the
    bottom right for the critic, method 'two' the other way round."""
    frames = np.full((T, 210, 160), 100, np.uint8)
    frames[:, 0, 0] = np.arange(T)          # every frame differs a little
    top_left = np.zeros((T, 84, 84), np.float32)
    top_left[:, 5:30, 5:30] = 2.0
    bottom_right = top_left[:, ::-1, ::-1].copy()
    rng = np.random.RandomState(0)
    probs = rng.dirichlet(np.ones(3), size=T)
    values = np.sin(np.arange(T) / 10.0)
    rewards = np.zeros(T)
    rewards[50] = 1.0
    data = page.page_data(
        'synthetic', frames, {'one': (top_left, bottom_right),
                              'two': (bottom_right, top_left)},
        values=values, probs=probs, actions=probs.argmax(axis=1),
        rewards=rewards, action_names=['NOOP', 'UP', 'DOWN'])
    return page.write_page(str(tmp_path / name), data), data


def _decoded(blob):
    raw = np.frombuffer(zlib.decompress(base64.b64decode(blob['data'])),
                        np.uint8).copy()
    if blob['delta']:
        raw = raw.reshape(-1, blob['size'])
        raw = np.cumsum(raw, axis=0, dtype=np.uint8).ravel()
    return raw


def test_the_stored_blobs_decode_to_the_frames_and_levels(tmp_path):
    _, data = _synthetic(tmp_path)
    frames = _decoded(data['blobs']['frames']).reshape(T, 210, 160)
    assert frames[7, 0, 0] == 7 and frames[7, 100, 100] == 100
    actor = _decoded(data['blobs']['maps/one/actor']).reshape(T, 84, 84)
    assert actor.max() == page.LEVELS and actor[0, 10, 10] == page.LEVELS
    assert actor[0, 60, 60] == 0
    assert data['peaks']['one']['actor'][0] == pytest.approx(2.0)


def test_quantise_keeps_each_map_over_its_own_peak():
    maps = np.array([[[0.0, 1.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])
    levels, peaks = page.quantise(maps)
    assert peaks == [4.0, 0.0]
    np.testing.assert_array_equal(levels[0], [[0, 16], [32, 63]])
    assert not levels[1].any()


def test_bookmarks_mark_rewards_and_the_largest_changes():
    values = [0.0, 0.1, 0.9, 0.8]
    probs = [[1, 0], [1, 0], [0, 1], [0, 1]]
    marks = page.bookmarks(values, probs, [0, 0, 0, -1], top=1)
    assert {(m['step'], m['kind']) for m in marks} == {
        (3, 'reward'), (2, 'value'), (2, 'policy')}


def test_the_page_is_self_contained(tmp_path):
    path, _ = _synthetic(tmp_path)
    text = open(path).read()
    assert '<script src' not in text and '<link rel="stylesheet"' not in text
    assert not re.search(r'https?://', text)
    # The data cannot close its script element early.
    data = text.split('<script type="application/json" id="data">')[1]
    assert '</script>' in data and '</' not in data.split('</script>')[0]
    assert json.loads(data.split('</script>')[0].replace('<\\/', '</'))


# ------------------------------------------------------------ in a browser

@pytest.fixture(scope='module')
def driver():
    problem = browser.missing()
    if problem:
        if browser.required():
            pytest.fail(problem)
        pytest.skip(problem)
    chrome = browser.open_browser()
    yield chrome
    chrome.quit()


def _step_shown(driver):
    return driver.find_element('id', 'stepbox').text


def test_a_link_opens_at_its_step_and_the_keys_step(tmp_path, driver):
    from selenium.webdriver.common.keys import Keys
    path, _ = _synthetic(tmp_path)
    browser.open_page(driver, path, step=120)
    assert _step_shown(driver) == 'step 120'
    body = driver.find_element('tag name', 'body')
    body.send_keys(Keys.ARROW_RIGHT)
    assert driver.current_url.endswith('#step=121')
    assert _step_shown(driver) == 'step 121'
    body.send_keys(Keys.SHIFT, Keys.ARROW_RIGHT)
    assert _step_shown(driver) == 'step 131'
    body.send_keys(Keys.SHIFT, Keys.ARROW_LEFT)
    body.send_keys(Keys.ARROW_LEFT)
    assert driver.current_url.endswith('#step=120')
    body.send_keys(Keys.END)
    assert _step_shown(driver) == 'step {}'.format(T - 1)
    body.send_keys(Keys.HOME)
    assert _step_shown(driver) == 'step 0'
    body.send_keys('n')                       # the first bookmark
    assert int(_step_shown(driver).split()[1]) > 0
    assert not browser.console_errors(driver)


def test_actor_lands_in_green_and_critic_in_red(tmp_path, driver):
    path, _ = _synthetic(tmp_path)
    browser.open_page(driver, path, step=3)
    from PIL import Image
    import io
    canvases = driver.find_elements('css selector', '#panels canvas')
    assert len(canvases) == 2
    shots = [np.asarray(Image.open(io.BytesIO(c.screenshot_as_png))
                        .convert('RGB')).astype(int) for c in canvases]
    actor, critic = shots
    h, w = actor.shape[:2]
    top_left = (slice(int(h * 0.1), int(h * 0.25)),
                slice(int(w * 0.1), int(w * 0.25)))
    bottom_right = (slice(int(h * 0.75), int(h * 0.9)),
                    slice(int(w * 0.75), int(w * 0.9)))
    # Actor: green where its map is high, the gray frame (100) elsewhere in
    # red and blue.
    assert actor[top_left][..., 1].min() > 240
    assert abs(actor[top_left][..., 0].mean() - 100) < 3
    assert actor[bottom_right][..., 1].max() < 10
    # Critic: red where its map is high.
    assert critic[bottom_right][..., 0].min() > 240
    assert abs(critic[bottom_right][..., 1].mean() - 100) < 3
    assert critic[top_left][..., 0].max() < 10


def test_switching_method_changes_the_overlay(tmp_path, driver):
    from selenium.webdriver.support.ui import Select
    path, _ = _synthetic(tmp_path)
    browser.open_page(driver, path, step=10)
    before = browser.panel_pixels(driver)
    Select(driver.find_element('id', 'method')).select_by_value('two')
    after = browser.panel_pixels(driver)
    assert before[20, 20, 1] > 240 and after[20, 20, 1] < 10
    assert after[190, 140, 1] > 240
    # Side by side: both methods' panels at once.
    driver.find_element('id', 'compare').click()
    assert len(driver.find_elements('css selector', '#panels canvas')) == 4
    assert not browser.console_errors(driver)


def test_no_network_request_but_the_page_itself(tmp_path, driver):
    path, _ = _synthetic(tmp_path)
    driver.get_log('performance')                 # drop earlier entries
    browser.open_page(driver, path)
    urls = browser.requests(driver)
    own = 'file://' + os.path.abspath(path)
    assert urls and all(u.startswith(own) or u.startswith('data:')
                        for u in urls), urls
    assert not browser.console_errors(driver)


def test_the_demo_the_app_and_the_report_write_pages_that_open(
        tmp_path, driver, rollout_path, capsys):
    import faithfulness
    import saliency_app
    import train_a3c_gym
    shipped = os.path.join(os.path.dirname(__file__), '..', '..',
                           'examples', 'mygym', 'pretrained', 'pong')
    assert train_a3c_gym.main([
        '1', '--demo', '--load', shipped, '--eval-n-runs', '1',
        '--max-episode-len', '25', '--methods', 'guided,gradient', '--out',
        str(tmp_path / 'demo')]) == 0
    demo = tmp_path / 'demo' / 'episode-000.html'
    assert str(demo) in capsys.readouterr().out
    assert saliency_app.main([
        '--rollout', rollout_path, '--start-frame', '2', '--end-frame', '5',
        '--methods', 'gradient,guided', '--out', str(tmp_path / 'app')]) == 0
    assert faithfulness.main([
        '--load', shipped, '--frames', '4', '--methods', 'guided,gradient',
        '--random-orderings', '1', '--interventions', '--out',
        str(tmp_path / 'report')]) == 0
    expected = {demo: ('step 24', 2), tmp_path / 'app' / 'index.html':
                ('frame 5 (4 of 4)', 2),
                tmp_path / 'report' / 'report.html': ('frame 3 (4 of 4)', 2)}
    for path, (last, n_methods) in expected.items():
        browser.open_page(driver, str(path))
        options = driver.find_elements('css selector', '#method option')
        assert len(options) == n_methods, path
        driver.execute_script('go(N - 1)')
        assert _step_shown(driver) == last, path
        assert not browser.console_errors(driver), path
    # The report's page: the stage slider and the terms.
    text = driver.find_element('id', 'report').text
    assert 'Terms' in text and 'Verdicts' in text
    assert driver.find_element('id', 'stagebox').is_displayed()
    # An intervention's link scrolls to it and leaves the step alone.
    shown = _step_shown(driver)
    links = driver.find_elements('css selector', '#report a[href^="#iv-"]')
    assert links, 'no intervention was kept'
    links[0].click()
    assert _step_shown(driver) == shown
    assert driver.find_elements('css selector', '#iv-0 img')


def test_a_page_shown_inline_in_a_notebook_draws(tmp_path, driver):
    """What Jupyter puts in a cell's output for ``Inline(path)``, path
    relative to the notebook's folder, opened from elsewhere."""
    notebook = tmp_path / 'notebook'
    (notebook / 'videos').mkdir(parents=True)
    _synthetic(notebook / 'videos', 'episode-000.html')
    cwd = os.getcwd()
    os.chdir(notebook)              # the kernel runs in the notebook's folder
    try:
        output = page.Inline('videos/episode-000.html', height=700)
        cell = output._repr_html_()
    finally:
        os.chdir(cwd)
    other = tmp_path / 'elsewhere'
    other.mkdir()
    (other / 'output.html').write_text('<html><body>{}</body></html>'
                                       .format(cell))
    driver.get('file://' + str(other / 'output.html'))
    driver.switch_to.frame(driver.find_element('tag name', 'iframe'))
    import time
    for _ in range(200):
        if driver.execute_script('return document.body.dataset.ready'):
            break
        time.sleep(0.02)
    assert driver.find_element('id', 'stepbox').text == 'step 0'
    assert browser.panel_pixels(driver)[20, 20, 1] > 240
    driver.switch_to.default_content()
    assert not browser.console_errors(driver)
