"""A real headless Chromium (Debian's chromium and chromium-driver) driven by Selenium, for the web UI's tests
(tests/protocol/test_ui.py, tests/e2e/test_ui.py), and what those tests read from it: the browser's console log,
elements by text, screenshots."""
import os
import re
import time

import pytest

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
# The flags the issue names; background networking off: this machine's closed network refuses Chromium's own
# connections, which would otherwise fill the log.
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--window-size=1400,900',
         '--no-first-run', '--disable-component-update', '--disable-sync')
# What Chromium logs for a fetch answered with an HTTP error: the tests that make one on purpose allow it by status.
FAILED_RESOURCE = re.compile(r'Failed to load resource: the server responded with a status of (\d+)')


def missing():
    """Why the browser tests cannot run here (None when they can)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return '%s is not installed (Debian packages chromium and chromium-driver; `make system-deps`)' % path
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed (pip install -e ".[test]")'
    return None


def start_browser(accept_insecure_certs=False):
    """accept_insecure_certs: trust any certificate (a test's self-signed HTTPS one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.accept_insecure_certs = accept_insecure_certs
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def console_problems(driver, allowed_statuses=()):
    """The browser log's errors and warnings since the last call (the log is read once), less the
    "Failed to load resource" lines of HTTP statuses the caller expects (a 400 it provoked, a 401 before the
    token was entered)."""
    problems = []
    for entry in driver.get_log('browser'):
        if entry['level'] not in ('SEVERE', 'WARNING'):
            continue
        failed = FAILED_RESOURCE.search(entry['message'])
        if failed and int(failed.group(1)) in allowed_statuses:
            continue
        problems.append('%s %s' % (entry['level'], entry['message']))
    return problems


def wait_until(driver, condition, timeout=15, what='a condition'):
    """condition(driver) -> a truthy value (returned), polled; fails naming `what`, with the page's text."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition(driver)
            if value:
                return value
        except Exception as error:  # the element being replaced by a refresh between find and read
            last_error = error
        time.sleep(0.2)
    page = driver.find_element('id', 'page').text[:3000] if driver.find_elements('id', 'page') else ''
    raise AssertionError('timed out waiting for %s (last error: %r); the page shows:\n%s' % (what, last_error, page))


def _settled(read, attempts=20):
    """read() again when the element it read was replaced meanwhile: the pages redraw their tables at every
    refresh, so an element found a moment ago may be gone (StaleElementReferenceException)."""
    from selenium.common.exceptions import StaleElementReferenceException
    for _ in range(attempts - 1):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.05)
    return read()


def text_of(driver, element_id):
    def read():
        found = driver.find_elements('id', element_id)
        return found[0].text if found else ''
    return _settled(read)


def click(driver, selector):
    """Click the element a CSS selector finds (found again if a refresh replaced it before the click)."""
    _settled(lambda: driver.find_element('css selector', selector).click())


def screenshot(driver, directory, name):
    """Save the window as <directory>/<name>.png when `directory` is set."""
    if directory:
        os.makedirs(directory, exist_ok=True)
        driver.save_screenshot(os.path.join(directory, name + '.png'))


# --- fixtures (a test module imports them: `from tests.lib.browser import browser, chromium_session`) -----------

@pytest.fixture(scope='module')
def chromium_session():
    driver = start_browser()
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium_session):
    """The module's browser, on a blank page with an empty log at the start and the end of each test (a page left
    polling a stopped controller would fill the next test's log)."""
    chromium_session.get('about:blank')
    chromium_session.get_log('browser')
    yield chromium_session
    chromium_session.get('about:blank')  # (each controller has its own port: its own origin and storage)
    chromium_session.get_log('browser')


# --- the UI's pages, as the tests read and fill them ---------------------------------------------------------

def open_page(driver, base_url, page):
    driver.get(base_url + '/ui/#/' + page)


def graph(driver, script):
    """window.uiGraph.<script> (the topology page's cytoscape instance), or None off that page."""
    return driver.execute_script('return window.uiGraph ? window.uiGraph.%s : null' % script)


def row_text(driver, container_id, attribute, value):
    def read():
        rows = driver.find_elements('css selector', '#%s tr[%s="%s"]' % (container_id, attribute, value))
        return rows[0].text if rows else ''
    return _settled(read)


def card_value(driver, card):
    """A dashboard card's value (card: its id, e.g. card-switches)."""
    def read():
        found = driver.find_elements('css selector', '#%s .card-value' % card)
        return found[0].text if found else None
    return _settled(read)


def fill(element, text):
    element.clear()
    element.send_keys(text)


def entry_form_push(driver, fields, match, actions, dialect='1.x'):
    """Fill the static entry form (fields: {data-key of a field: text}; match: [(key, value)]) and submit it."""
    from selenium.webdriver.support.select import Select
    Select(driver.find_element('id', 'entry-dialect')).select_by_value(dialect)
    form = driver.find_element('id', 'entry-form')
    for key, text in fields.items():
        fill(form.find_element('css selector', '[data-key="%s"]' % key), text)
    for index, (key, value) in enumerate(match):
        rows = form.find_elements('css selector', '.match-row')
        if index >= len(rows):
            driver.find_element('id', 'add-match').click()
            rows = form.find_elements('css selector', '.match-row')
        fill(rows[index].find_element('css selector', '.match-key'), key)
        fill(rows[index].find_element('css selector', '.match-value'), value)
    fill(form.find_element('css selector', '[data-key="actions"]'), actions)
    driver.find_element('id', 'entry-submit').click()


def new_entry(driver):
    """The form's New button: an empty form."""
    driver.find_element('css selector', '#entry-form button[type=button]:not(.small)').click()
