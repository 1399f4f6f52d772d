import os

# Tests run headless, whatever the developer's desktop offers.
os.environ.pop('DISPLAY', None)
