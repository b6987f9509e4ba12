"""The Python examples of the documentation run: every ```python block of
README.md, docs/bindings.md and bindings/python/README.md, each on its own,
from a temporary folder."""

import contextlib
import io
import os
import re
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = ["README.md", "docs/bindings.md", "bindings/python/README.md"]


def blocks(page):
    with open(os.path.join(ROOT, page)) as f:
        return re.findall(r"^```python\n(.*?)^```", f.read(), re.S | re.M)


class DocsTest(unittest.TestCase):
    def test_python_blocks_run(self):
        total = 0
        for page in PAGES:
            for i, code in enumerate(blocks(page)):
                total += 1
                with self.subTest(page=page, block=i + 1), tempfile.TemporaryDirectory() as tmp:
                    cwd = os.getcwd()
                    os.chdir(tmp)
                    try:
                        with contextlib.redirect_stdout(io.StringIO()):
                            exec(compile(code, f"{page} block {i + 1}", "exec"), {"__name__": "__doc__"})
                    finally:
                        os.chdir(cwd)
        self.assertGreaterEqual(total, 4)


if __name__ == "__main__":
    unittest.main()
