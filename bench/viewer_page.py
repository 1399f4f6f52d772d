"""Size and speed of the demo's HTML page (media/page.py) in headless
Chromium.

Plays the shipped Pong agent's demo (a full game unless ``--steps``) with
``--methods``, then opens ``episode-000.html`` from disk ``--repeats``
times and prints its size, the seconds until its first frame is drawn
(min / median / max) and the steps a second it draws (each step draws
both panels and moves every strip's cursor). ``--screenshot PNG`` also
saves a picture of the page (the README's).

    python bench/viewer_page.py --repeats 5 --screenshot docs/viewer.png
    python bench/viewer_page.py --steps 300 --methods guided,greydanus

Needs Chromium, chromium-driver and Selenium (tests/browser.py).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))
import browser  # noqa: E402

LAUNCHER = os.path.join(ROOT, 'examples', 'mygym', 'train_a3c_gym.py')
AGENT = os.path.join(ROOT, 'examples', 'mygym', 'pretrained', 'pong')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--steps', type=int, default=None,
                   help='agent steps to play (default: one whole game)')
    p.add_argument('--methods', default='guided')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--screenshot', default=None, metavar='PNG')
    p.add_argument('--step', type=int, default=1200,
                   help='the step the screenshot shows')
    args = p.parse_args()
    problem = browser.missing()
    if problem:
        sys.exit(problem)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'demo')
        play = (['--eval-n-steps', str(args.steps)] if args.steps
                else ['--eval-n-runs', '1'])
        subprocess.run([sys.executable, LAUNCHER, '1', '--demo', '--load',
                        AGENT, '--methods', args.methods, '--out', out,
                        '--logger-level', '40'] + play, check=True,
                       stdout=subprocess.DEVNULL)
        page = os.path.join(out, 'episode-000.html')
        size = os.path.getsize(page)
        videos = sum(os.path.getsize(os.path.join(out, name))
                     for name in os.listdir(out) if name.endswith('.mp4'))
        driver = browser.open_browser()
        try:
            firsts, rates = [], []
            for _ in range(args.repeats):
                firsts.append(browser.open_page(driver, page))
                rates.append(browser.steps_per_second(driver))
            steps = driver.execute_script('return N')
            errors = browser.console_errors(driver)
        finally:
            driver.quit()
        if args.screenshot:
            browser.screenshot(page, args.screenshot, step=args.step)

    def spread(values, digits):
        return ' / '.join('{:.{}f}'.format(v, digits) for v in (
            min(values), statistics.median(values), max(values)))
    print('{} steps, methods {}'.format(steps, args.methods))
    print('page: {:.1f} MB ({:.1f} kB a step); the two MP4s: {:.1f} MB'
          .format(size / 2 ** 20, size / 1024 / steps, videos / 2 ** 20))
    print('first frame drawn after (s, min / median / max of {}): {}'
          .format(args.repeats, spread(firsts, 2)))
    print('steps drawn a second (min / median / max): {}'.format(
        spread(rates, 0)))
    print('console errors: {}'.format(len(errors)))


if __name__ == '__main__':
    main()
