"""Jekyll's markdown renderer for tests: one long-lived `ruby` per test process, not one a call.

Starting ruby and loading kramdown costs about 0.4 s of CPU; the hostile-export tests render
hundreds of documents. Each document goes in as its byte length and bytes, the HTML comes back
the same way, exactly as `puts Kramdown::Document.new(STDIN.read, input: "GFM").to_html` wrote it.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import threading

import pytest

LOOP = r"""
require "kramdown"; require "kramdown-parser-gfm"
STDIN.binmode; STDOUT.binmode
while (size = STDIN.gets)
  text = STDIN.read(size.to_i).force_encoding(Encoding.default_external)
  html = Kramdown::Document.new(text, input: "GFM").to_html
  html += "\n" unless html.end_with?("\n")  # what puts adds
  STDOUT.write("#{html.bytesize}\n", html.b)
  STDOUT.flush
end
"""

_lock = threading.Lock()


@functools.cache
def _ruby() -> subprocess.Popen[bytes]:
    if shutil.which("ruby") is None:
        pytest.skip("ruby is not installed (CI installs ruby-kramdown)")
    proc = subprocess.Popen(
        ["ruby", "-e", LOOP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    atexit.register(proc.kill)
    return proc


def kramdown(text: str) -> str:
    """text rendered by kramdown (GFM input), as Jekyll renders a post's body."""
    with _lock:
        proc = _ruby()
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        data = text.encode("utf-8")
        try:
            proc.stdin.write(b"%d\n%b" % (len(data), data))
            proc.stdin.flush()
            size = proc.stdout.readline()
        except BrokenPipeError:
            size = b""
        if not size:  # ruby stopped: kramdown is missing or raised on this text
            _ruby.cache_clear()
            proc.kill()
            err = proc.stderr.read().decode(errors="replace")
            proc.wait()
            if "cannot load such file" in err:
                pytest.skip("kramdown is not installed (CI installs ruby-kramdown)")
            raise AssertionError(err)
        html = proc.stdout.read(int(size))
    # as subprocess.run(text=True) read it: universal newlines
    return html.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
