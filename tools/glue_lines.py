"""How much of the production code is Ryu glue (issue 12's measure). Standard library only.

Production modules: every .py under controller/, apps/ and rest/. A module is Ryu glue when it imports, anywhere
(inside functions too), ryu.base, ryu.controller, ryu.app, ryu.lib.hub, ryu.cfg, ryu.topology, eventlet or
greenlet, or a module below one of them; `from X import Y` counts as importing X and X.Y. A line counts when it
is neither blank nor a comment (docstrings count).

    python tools/glue_lines.py [ROOT]     ROOT: the checkout (default: this file's parent's parent)
"""
import ast
import pathlib
import sys

PACKAGES = ('controller', 'apps', 'rest')
GLUE = ('ryu.base', 'ryu.controller', 'ryu.app', 'ryu.lib.hub', 'ryu.cfg', 'ryu.topology', 'eventlet', 'greenlet')


def imported_names(tree):
    """Every module name an import statement in `tree` names (absolute imports; relative ones are our own)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            for alias in node.names:
                yield node.module + '.' + alias.name


def is_glue_name(name):
    return any(name == prefix or name.startswith(prefix + '.') for prefix in GLUE)


def counted_lines(text):
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith('#'))


def measure(root):
    """-> [(relative path, lines, is_glue)] for every production module, sorted by path."""
    rows = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob('*.py')):
            text = path.read_text(encoding='utf-8')
            glue = any(is_glue_name(name) for name in imported_names(ast.parse(text, str(path))))
            rows.append((str(path.relative_to(root)), counted_lines(text), glue))
    return rows


def main(argv):
    root = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[1])
    rows = measure(root)
    total = sum(lines for _path, lines, _glue in rows)
    glue = sum(lines for _path, lines, is_glue in rows if is_glue)
    for path, lines, is_glue in rows:
        if is_glue:
            print('%6d  %s' % (lines, path))
    print('%6d  Ryu glue lines of %d production lines (%d modules): %.1f%%'
          % (glue, total, len(rows), 100.0 * glue / total if total else 0.0))


if __name__ == '__main__':
    main(sys.argv)
