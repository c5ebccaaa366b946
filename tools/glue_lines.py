"""How much of the production code is Ryu glue (issue 12's measure). Standard library only.

Production modules: every .py under controller/, apps/ and rest/. Every module of apps/ is Ryu glue (the
package is the glue, whatever it imports); so is any other module that imports, anywhere
(inside functions too), a part of Ryu's runtime: ryu.base, ryu.controller, ryu.app, ryu.lib.hub, ryu.cfg or
ryu.topology, or a module below one of them; `from X import Y` counts as importing X and X.Y. (ryu.ofproto and
ryu.lib.packet are data: constants and packet formats, used by controller/of10 only.) A module that is not Ryu
glue but imports eventlet or greenlet is a green I/O adapter (the HTTP server): counted and listed apart. A line
counts when it is neither blank nor a comment (docstrings count).

    python tools/glue_lines.py [ROOT]     ROOT: the checkout (default: this file's parent's parent)
"""
import ast
import pathlib
import sys

PACKAGES = ('controller', 'apps', 'rest')
GLUE = ('ryu.base', 'ryu.controller', 'ryu.app', 'ryu.lib.hub', 'ryu.cfg', 'ryu.topology')
GREEN = ('eventlet', 'greenlet')


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


def is_below(name, prefixes):
    return any(name == prefix or name.startswith(prefix + '.') for prefix in prefixes)


def counted_lines(text):
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith('#'))


def measure(root):
    """-> [(relative path, lines, kind)] for every production module, sorted by path; kind: 'glue', 'green' or
    None."""
    rows = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob('*.py')):
            text = path.read_text(encoding='utf-8')
            names = list(imported_names(ast.parse(text, str(path))))
            kind = 'glue' if package == 'apps' or any(is_below(n, GLUE) for n in names) else (
                'green' if any(is_below(n, GREEN) for n in names) else None)
            rows.append((str(path.relative_to(root)), counted_lines(text), kind))
    return rows


def main(argv):
    root = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[1])
    rows = measure(root)
    total = sum(lines for _path, lines, _kind in rows)
    for kind, title in (('glue', 'Ryu glue'), ('green', 'green I/O adapters (eventlet, not Ryu)')):
        count = sum(lines for _path, lines, row_kind in rows if row_kind == kind)
        for path, lines, row_kind in rows:
            if row_kind == kind:
                print('%6d  %s' % (lines, path))
        print('%6d  %s lines of %d production lines (%d modules): %.1f%%\n'
              % (count, title, total, len(rows), 100.0 * count / total if total else 0.0))


if __name__ == '__main__':
    main(sys.argv)
